// voiceId and model never change the shape of a provider's URL (API.md §4.1, issue 13): every hostile
// value below, on every route that takes a voice or a model, gets 400 validation_failed and the mock
// provider records no request carrying the test's nonce. Before the fix, `voiceId: ".."` sent
// ElevenLabs to POST /v1/stream. Legitimate ids with `/` (Hugging Face `org/name`, Groq
// `meta-llama/…`) still answer 200.

import { beforeAll, describe, expect, it } from "vitest";
import { mockControl } from "../../helpers/api";
import { env } from "../../helpers/env";
import { call, keyOf, userOn } from "../../helpers/reliability";
import type { JsonInit } from "../../helpers/request";

const HOSTILE = ["..", ".", "a/../b", "x?y", "x#y", "%2e%2e", "a\\b", "\n", "/v1"];
const HF_BYOK = { "x-provider-key-huggingface": "byok-hf-key" };

let auth: Record<string, string>;
beforeAll(async () => {
  const user = await userOn("scale");
  auth = { authorization: `Bearer ${(await keyOf(user)).key}` };
});

interface Case {
  name: string;
  /** Providers whose recorded requests must not carry the nonce. */
  providers: string[];
  /** OpenAI's error shape on this route. */
  openai?: boolean;
  request: (bad: string, nonce: string) => [string, JsonInit];
}

const json = (path: string, body: unknown, headers: Record<string, string> = {}): [string, JsonInit] => [
  path,
  { method: "POST", headers: { ...auth, ...headers }, json: body },
];
function upload(path: string, fields: Record<string, string>, nonce: string): [string, JsonInit] {
  const form = new FormData();
  form.set("file", new File([new Uint8Array(2000)], `${nonce}.wav`, { type: "audio/wav" }));
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return [path, { method: "POST", headers: auth, body: form }];
}

const CASES: Case[] = [
  {
    name: "synthesize elevenlabs voiceId",
    providers: ["elevenlabs"],
    request: (v, n) => json("/v1/synthesize", { provider: "elevenlabs", voiceId: v, text: n }),
  },
  {
    name: "synthesize cartesia voiceId",
    providers: ["cartesia"],
    request: (v, n) => json("/v1/synthesize", { provider: "cartesia", voiceId: v, text: n }),
  },
  {
    name: "synthesize deepgram voiceId",
    providers: ["deepgram"],
    request: (v, n) => json("/v1/synthesize", { provider: "deepgram", voiceId: v, text: n }),
  },
  {
    name: "synthesize elevenlabs model",
    providers: ["elevenlabs"],
    request: (v, n) => json("/v1/synthesize", { provider: "elevenlabs", model: v, text: n }),
  },
  {
    name: "synthesize huggingface model (in the path)",
    providers: ["huggingface"],
    request: (v, n) => json("/v1/synthesize", { provider: "huggingface", model: v, text: n }, HF_BYOK),
  },
  {
    name: "synthesize fallback entry voiceId",
    providers: ["cartesia", "elevenlabs"],
    request: (v, n) => json("/v1/synthesize", { provider: "cartesia", text: n, fallback: [{ provider: "elevenlabs", voiceId: v }] }),
  },
  {
    name: "chat groq model",
    providers: ["groq"],
    request: (v, n) => json("/v1/chat", { provider: "groq", model: v, messages: [{ role: "user", content: n }] }),
  },
  {
    name: "chat openai model",
    providers: ["openai"],
    request: (v, n) => json("/v1/chat", { provider: "openai", model: v, messages: [{ role: "user", content: n }] }),
  },
  {
    name: "transcribe multipart model",
    providers: ["openai"],
    request: (v, n) => upload("/v1/transcribe", { provider: "openai", model: v }, n),
  },
  {
    name: "transcribe audioUrl model",
    providers: ["deepgram"],
    request: (v, n) => json("/v1/transcribe", { provider: "deepgram", model: v, audioUrl: `${env.TEST_MOCK_ORIGIN}/files/${n}.wav` }),
  },
  {
    name: "agents create voiceId",
    providers: [],
    request: (v, n) => json("/v1/agents", { name: n, voiceId: v, ttsProvider: "elevenlabs" }),
  },
  { name: "agents create llmModel", providers: [], request: (v, n) => json("/v1/agents", { name: n, llmModel: v, llmProvider: "groq" }) },
  {
    name: "OpenAI speech model",
    providers: ["elevenlabs"],
    openai: true,
    request: (v, n) => json("/v1/audio/speech", { model: `elevenlabs/${v}`, voice: "21m00Tcm4TlvDq8ikWAM", input: n }),
  },
  {
    name: "OpenAI speech voice",
    providers: ["elevenlabs"],
    openai: true,
    request: (v, n) => json("/v1/audio/speech", { model: "elevenlabs/eleven_flash_v2_5", voice: v, input: n }),
  },
  {
    name: "OpenAI chat completions model",
    providers: ["groq"],
    openai: true,
    request: (v, n) => json("/v1/chat/completions", { model: `groq/${v}`, messages: [{ role: "user", content: n }] }),
  },
  {
    name: "OpenAI chat completions fallback models",
    providers: ["groq", "openai"],
    openai: true,
    request: (v, n) =>
      json("/v1/chat/completions", {
        model: "groq/llama-3.1-8b-instant",
        models: [`openai/${v}`],
        messages: [{ role: "user", content: n }],
      }),
  },
  {
    name: "OpenAI transcriptions model",
    providers: ["groq"],
    openai: true,
    request: (v, n) => upload("/v1/audio/transcriptions", { model: `groq/${v}` }, n),
  },
];

async function recordedWith(provider: string, nonce: string): Promise<unknown[]> {
  const all = (await (await mockControl(`/requests?provider=${provider}`)).json()) as unknown[];
  return all.filter((r) => JSON.stringify(r).includes(nonce));
}

describe("voiceId and model never change the shape of the upstream URL", () => {
  it(`${HOSTILE.length} hostile values × ${CASES.length} routes: 400 validation_failed, nothing sent to the provider`, async () => {
    const failures: string[] = [];
    let tried = 0;
    for (const c of CASES) {
      for (const bad of HOSTILE) {
        const nonce = `ids${crypto.randomUUID().replaceAll("-", "")}`;
        const [path, init] = c.request(bad, nonce);
        const res = await call(path, init);
        const body = (await res.json().catch(() => null)) as any;
        tried++;
        const label = `${c.name} ${JSON.stringify(bad)}`;
        if (res.status !== 400) failures.push(`${label}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
        else if (!c.openai && body?.error?.code !== "validation_failed")
          failures.push(`${label}: code ${body?.error?.code} ${body?.error?.message}`);
        else if (c.openai && body?.error?.type !== "invalid_request_error") failures.push(`${label}: OpenAI type ${body?.error?.type}`);
        for (const p of c.providers) {
          const sent = await recordedWith(p, nonce);
          if (sent.length) failures.push(`${label}: ${p} received ${JSON.stringify(sent[0]).slice(0, 200)}`);
        }
      }
    }
    console.log(`upstream ids: ${tried} hostile requests (${HOSTILE.length} values × ${CASES.length} routes), ${failures.length} failures`);
    expect(failures).toEqual([]);
  });

  it("a lone surrogate in a voiceId or model (JSON can carry one, UTF-8 cannot) is 400, never a 500 or U+FFFD sent on", async () => {
    const failures: string[] = [];
    for (const bad of ["ab\ud800", "\udfffx", "x\udc00\ud800"]) {
      for (const [label, path, body, openai] of [
        ["elevenlabs voiceId", "/v1/synthesize", { provider: "elevenlabs", voiceId: bad, text: "hi" }, false],
        ["deepgram voiceId", "/v1/synthesize", { provider: "deepgram", voiceId: bad, text: "hi" }, false],
        ["openai model", "/v1/chat", { provider: "openai", model: bad, messages: [{ role: "user", content: "hi" }] }, false],
        ["audio/speech voice", "/v1/audio/speech", { model: "elevenlabs/eleven_flash_v2_5", input: "hi", voice: bad }, true],
      ] as const) {
        const res = await call(...json(path, body));
        const got = (await res.json()) as any;
        const ok = res.status === 400 && (openai ? got.error?.type === "invalid_request_error" : got.error?.code === "validation_failed");
        if (!ok) failures.push(`${label} ${JSON.stringify(bad)}: ${res.status} ${JSON.stringify(got).slice(0, 160)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("legitimate ids with a slash still work: Hugging Face org/name (speech, chat) and Groq meta-llama/… (native and OpenAI-compatible)", async () => {
    const hfSpeech = await call(...json("/v1/synthesize", { provider: "huggingface", model: "voxgate/tone-wav", text: "hf ok" }, HF_BYOK));
    expect(hfSpeech.status).toBe(200);
    await hfSpeech.arrayBuffer();
    const hfChat = await call(
      ...json(
        "/v1/chat",
        { provider: "huggingface", model: "meta-llama/Llama-4-Scout-17B-16E-Instruct", messages: [{ role: "user", content: "hi" }] },
        HF_BYOK,
      ),
    );
    expect(hfChat.status).toBe(200);
    const groq = await call(
      ...json("/v1/chat", {
        provider: "groq",
        model: "meta-llama/llama-4-scout-17b-16e-instruct",
        messages: [{ role: "user", content: "hi" }],
      }),
    );
    expect(groq.status).toBe(200);
    const compat = await call(
      ...json("/v1/chat/completions", {
        model: "groq/meta-llama/llama-4-maverick-17b-128e-instruct",
        messages: [{ role: "user", content: "hi" }],
      }),
    );
    expect(compat.status).toBe(200);
    const voice = await call(...json("/v1/synthesize", { provider: "elevenlabs", voiceId: "21m00Tcm4TlvDq8ikWAM", text: "ok" }));
    expect(voice.status).toBe(200);
    await voice.arrayBuffer();
  });
});
