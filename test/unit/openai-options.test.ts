// The OpenAI-compatible surface's output options (audit of the OpenAI surface): each option is passed
// on in the provider's own wire format where it takes it, refused naming the field where it does not —
// never silently dropped — and refusals happen before anything is reserved or sent. Also: a failed-over
// stream names the model that served it; transcription stream/timestamps/srt/vtt; GET /v1/models/{id}.
import { SELF } from "cloudflare:test";
import OpenAI, { toFile } from "openai";
import { beforeEach, describe, expect, it } from "vitest";
import { cuesFromWords, cuesOf, cueTime, srt, vtt } from "../../src/api/openai-captions";
import {
  api,
  BASE,
  bearer,
  createKey,
  faultFor,
  marker,
  mockControl,
  newKeyUser,
  openAiTranscribe,
  transcriptionForm,
  upstreamRequests,
} from "../helpers/api";
import { ledgerOf, until } from "../helpers/reliability";
// @ts-expect-error plain JS module shared with the mock server
import { mockDurationSeconds, mockTranscriptFor, mockWordTimings } from "../mocks/audio.mjs";

beforeEach(async () => {
  await mockControl("/reset", { method: "POST" });
});

const completions = (auth: Record<string, string>, json: unknown) => api("/v1/chat/completions", { method: "POST", headers: auth, json });
const user = (content: string) => [{ role: "user", content }];
const LLM_PROVIDERS = ["openai", "anthropic", "groq", "huggingface"];
const HF_KEY = { "x-provider-key-huggingface": "byok-hf" };
const SCHEMA = { type: "object", properties: { a: { type: "string" } }, required: ["a"], additionalProperties: false };

async function upstreamAll(): Promise<any[]> {
  return (await Promise.all(LLM_PROVIDERS.map(upstreamRequests))).flat();
}

/** The ledger once settlement (waitUntil) has landed: nothing reserved any more. */
async function settledLedger(userId: string): Promise<string> {
  const ledger = await until(
    () => ledgerOf(userId),
    (l: any) => l.reservedMc === 0,
  );
  return JSON.stringify(ledger);
}

/** A 400 in OpenAI's shape naming `param`, with nothing sent upstream and nothing charged. */
async function expectRefused(u: { id: string; key: string }, body: unknown, param: string, headers: Record<string, string> = {}) {
  const before = await settledLedger(u.id);
  const res = await completions({ ...bearer(u.key), ...headers }, body);
  const json = (await res.json()) as any;
  expect(res.status, JSON.stringify(json)).toBe(400);
  expect(json).toEqual({
    success: false,
    error: { message: expect.any(String), type: "invalid_request_error", param, code: "validation_failed" },
    requestId: expect.any(String),
  });
  expect(await upstreamAll()).toEqual([]);
  expect(await settledLedger(u.id)).toBe(before);
  return json.error.message as string;
}

describe("chat.completions output options", () => {
  const options = { stop: ["END"], seed: 7, top_p: 0.5, presence_penalty: 0.25, frequency_penalty: -0.5 };

  for (const [model, provider, headers] of [
    ["gpt-4.1-mini", "openai", {}],
    ["groq/meta-llama/llama-4-scout-17b-16e-instruct", "groq", {}],
  ] as const) {
    it(`${provider}: stop, seed, top_p, penalties and response_format (json_schema, json_object) pass through spec-clean; the cap stays the reserved one`, async () => {
      const u = await newKeyUser();
      const schemaFormat = { type: "json_schema", json_schema: { name: "answer", strict: true, schema: SCHEMA } };
      const res = await completions(
        { ...bearer(u.key), ...headers },
        { model, messages: user("hi"), ...options, response_format: schemaFormat },
      );
      expect(res.status, await res.clone().text()).toBe(200);
      const objectMode = await completions(bearer(u.key), {
        model,
        messages: user("json please"),
        stop: "STOP",
        max_tokens: 50,
        response_format: { type: "json_object" },
      });
      expect(objectMode.status).toBe(200);
      const [first, second] = await upstreamRequests(provider);
      expect(first.specErrors).toEqual([]);
      expect(first.body).toMatchObject({ ...options, response_format: schemaFormat, max_completion_tokens: 4096 });
      expect(second.specErrors).toEqual([]);
      expect(second.body).toMatchObject({ stop: ["STOP"], response_format: { type: "json_object" }, max_completion_tokens: 50 });
    });
  }

  it("huggingface: the options in TGI's schema (response_format as a grammar, max_tokens), spec-clean; a negative seed is refused", async () => {
    const u = await newKeyUser();
    const model = "huggingface/meta-llama/Llama-4-Scout-17B-16E-Instruct";
    const schemaFormat = { type: "json_schema", json_schema: { name: "answer", schema: SCHEMA } };
    const res = await completions(
      { ...bearer(u.key), ...HF_KEY },
      { model, messages: user("hi"), ...options, response_format: schemaFormat },
    );
    expect(res.status, await res.clone().text()).toBe(200);
    const objectMode = await completions(
      { ...bearer(u.key), ...HF_KEY },
      { model, messages: user("x"), response_format: { type: "json_object" } },
    );
    expect(objectMode.status).toBe(200);
    const [first, second] = await upstreamRequests("huggingface");
    expect(first.specErrors).toEqual([]);
    expect(first.body).toMatchObject({ ...options, response_format: { type: "json_schema", value: { name: "answer", schema: SCHEMA } } });
    expect(first.body.max_tokens).toBe(4096);
    expect(second.specErrors).toEqual([]);
    expect(second.body.response_format).toEqual({ type: "json", value: { type: "object" } });
    await mockControl("/reset", { method: "POST" });
    await expectRefused(u, { model, messages: user("x"), seed: -1 }, "seed", HF_KEY);
  });

  it("anthropic: stop → stop_sequences and top_p pass through; seed, penalties and response_format are refused naming the field", async () => {
    const u = await newKeyUser();
    const model = "anthropic/claude-sonnet-4-20250514";
    const res = await completions(bearer(u.key), { model, messages: user("hi"), stop: "END", top_p: 0.9, max_tokens: 77 });
    expect(res.status, await res.clone().text()).toBe(200);
    const [req] = await upstreamRequests("anthropic");
    expect(req.specErrors).toEqual([]);
    expect(req.body).toMatchObject({ stop_sequences: ["END"], top_p: 0.9, max_tokens: 77 });
    expect(req.body).not.toHaveProperty("stop");
    await mockControl("/reset", { method: "POST" });
    for (const [field, value] of [
      ["seed", 1],
      ["presence_penalty", 0.5],
      ["frequency_penalty", 0.5],
      ["response_format", { type: "json_object" }],
      ["response_format", { type: "json_schema", json_schema: { name: "x", schema: SCHEMA } }],
    ] as const) {
      const message = await expectRefused(u, { model, messages: user("x"), [field]: value }, field);
      expect(message).toContain("Anthropic");
    }
    // {type:"text"} asks for the default answer: accepted anywhere.
    const text = await completions(bearer(u.key), { model, messages: user("x"), response_format: { type: "text" } });
    expect(text.status).toBe(200);
    // Anthropic's temperature is 0–1: 1.5 is refused naming it (was clamped to 1 without a word); 1 passes as sent.
    await mockControl("/reset", { method: "POST" });
    expect(await expectRefused(u, { model, messages: user("x"), temperature: 1.5 }, "temperature")).toContain("Anthropic");
    const native = await api("/v1/chat", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "anthropic", model: "claude-sonnet-4-20250514", temperature: 1.2, messages: user("x") },
    });
    expect(native.status).toBe(400);
    expect(((await native.json()) as any).error.fields[0].path).toBe("temperature");
    expect(await upstreamRequests("anthropic")).toHaveLength(0);
    const one = await completions(bearer(u.key), { model, messages: user("x"), temperature: 1 });
    expect(one.status).toBe(200);
    expect((await upstreamRequests("anthropic"))[0].body.temperature).toBe(1);
  });

  it("failover: the first provider must take the options (else 400); a fallback that cannot drops out of the chain, never answering without them", async () => {
    const u = await newKeyUser();
    await expectRefused(u, { model: "anthropic/claude-sonnet-4-20250514", models: ["gpt-4.1-mini"], messages: user("x"), seed: 3 }, "seed");
    const m = marker();
    await faultFor(m, { provider: "openai", mode: "error", status: 503 });
    const res = await completions(bearer(u.key), {
      model: "gpt-4.1-mini",
      models: ["anthropic/claude-sonnet-4-20250514", "groq/meta-llama/llama-4-scout-17b-16e-instruct"],
      messages: user(`x ${m}`),
      seed: 3,
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("openai=503, groq=200");
    expect(await upstreamRequests("anthropic")).toEqual([]);
    expect((await upstreamRequests("groq"))[0].body.seed).toBe(3);
  });

  it("options no provider here honours are refused naming the field (nothing sent, nothing charged); harmless values pass", async () => {
    const u = await newKeyUser();
    for (const [field, value] of [
      ["logprobs", true],
      ["top_logprobs", 2],
      ["logit_bias", { "50256": -100 }],
      ["modalities", ["text", "audio"]],
      ["audio", { voice: "alloy", format: "wav" }],
      ["tool_choice", "required"],
      ["reasoning_effort", "high"],
      ["n", 2],
    ] as const) {
      await expectRefused(u, { model: "gpt-4.1-mini", messages: user("x"), [field]: value }, field);
    }
    const harmless = await completions(bearer(u.key), {
      model: "gpt-4.1-mini",
      messages: user("x"),
      logprobs: false,
      modalities: ["text"],
      tool_choice: "none",
      response_format: { type: "text" },
    });
    expect(harmless.status, await harmless.clone().text()).toBe(200);
    const [req] = await upstreamRequests("openai");
    for (const field of ["logprobs", "modalities", "tool_choice", "response_format"]) expect(req.body).not.toHaveProperty(field);
  });

  it("a JSON schema is reserved for like the prompt: a key whose credit limit covers the prompt but not the schema is refused", async () => {
    const u = await newKeyUser();
    const { key } = await createKey(u.jwt, { monthlyCreditLimit: 5 });
    const ask = (response_format?: unknown) =>
      completions(bearer(key), { model: "gpt-4.1-mini", messages: user("x"), max_tokens: 10, response_format });
    const small = await ask();
    expect(small.status, await small.clone().text()).toBe(200);
    await mockControl("/reset", { method: "POST" });
    // 60,000 bytes of schema: at least 60,000 input tokens, 60 credits at gpt-4.1-mini's price.
    const big = { type: "object", description: "d".repeat(60_000) };
    const refused = await ask({ type: "json_schema", json_schema: { name: "big", schema: big } });
    expect(refused.status, await refused.clone().text()).toBeGreaterThanOrEqual(400);
    expect(await upstreamRequests("openai")).toEqual([]);
  });
});

describe("chat.completions: small fixes", () => {
  it("a failed-over stream names the model that served in every chunk (as X-Provider-Used does)", async () => {
    const u = await newKeyUser();
    const m = marker();
    await faultFor(m, { provider: "openai", mode: "error", status: 503 });
    const res = await completions(bearer(u.key), {
      model: "gpt-4.1-mini",
      models: ["anthropic/claude-sonnet-4-20250514"],
      messages: user(`hi ${m}`),
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-used")).toBe("anthropic");
    const chunks = (await res.text())
      .split("\n\n")
      .filter((b) => b.startsWith("data: {"))
      .map((b) => JSON.parse(b.slice(6)));
    expect(chunks.length).toBeGreaterThan(2);
    expect(new Set(chunks.map((c) => c.model))).toEqual(new Set(["anthropic/claude-sonnet-4-20250514"]));
    // Without a failover the caller's own name stays.
    const plain = await completions(bearer(u.key), { model: "gpt-4.1-mini", messages: user("plain"), stream: true });
    const first = (await plain.text()).split("\n\n")[0] ?? "";
    expect(JSON.parse(first.slice(6)).model).toBe("gpt-4.1-mini");
  });

  it("models given as a string: a clear message, not a string-length complaint", async () => {
    const u = await newKeyUser();
    const message = await expectRefused(u, { model: "gpt-4.1-mini", messages: user("x"), models: "groq/x" }, "models");
    expect(message).toContain("a list of '<provider>/<model>' names");
    expect(message).not.toContain("characters");
  });

  it("Anthropic with only system/developer messages: 400 naming messages before any call (not a 502 after one)", async () => {
    const u = await newKeyUser();
    for (const role of ["system", "developer"]) {
      await expectRefused(u, { model: "anthropic/claude-sonnet-4-20250514", messages: [{ role, content: "be nice" }] }, "messages");
    }
    // Native /v1/chat goes through the same check.
    const native = await api("/v1/chat", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "anthropic", messages: [{ role: "system", content: "be nice" }] },
    });
    expect(native.status).toBe(400);
    expect(await upstreamAll()).toEqual([]);
  });
});

describe("POST /v1/audio/transcriptions: stream, timestamps, srt and vtt", () => {
  const BYTES = 6000;
  const TRANSCRIPT = mockTranscriptFor(BYTES);
  const SECONDS = mockDurationSeconds(BYTES);
  const upload = (model: string, extra: [string, string][] = []) => transcriptionForm(model, BYTES, extra);
  const transcribe = openAiTranscribe;
  const STT_PROVIDERS = ["openai", "groq", "deepgram", "elevenlabs", "cartesia", "fishaudio"];

  /** 400 in OpenAI's shape naming `param`, nothing sent to any STT provider, nothing charged. */
  async function expectSttRefused(u: { id: string; key: string }, form: FormData, param: string) {
    const before = await settledLedger(u.id);
    const res = await transcribe(u.key, form);
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(body.error).toMatchObject({ type: "invalid_request_error", param, code: "validation_failed" });
    expect((await Promise.all(STT_PROVIDERS.map(upstreamRequests))).flat()).toEqual([]);
    expect(await settledLedger(u.id)).toBe(before);
  }

  it("prompt and temperature reach OpenAI and Groq (spec-clean); a provider that takes neither refuses them by name; include and chunking_strategy are refused", async () => {
    const u = await newKeyUser();
    for (const [model, provider] of [
      ["whisper-1", "openai"],
      ["groq/whisper-large-v3-turbo", "groq"],
    ] as const) {
      const res = await transcribe(
        u.key,
        upload(model, [
          ["prompt", "Voxgate, GCRA"],
          ["temperature", "0.2"],
        ]),
      );
      expect(res.status, await res.clone().text()).toBe(200);
      const [req] = await upstreamRequests(provider);
      expect(req.specErrors).toEqual([]);
      expect(req.body.fields).toMatchObject({ prompt: "Voxgate, GCRA", temperature: "0.2" });
    }
    await mockControl("/reset", { method: "POST" });
    await expectSttRefused(u, upload("deepgram/nova-3", [["prompt", "Voxgate"]]), "prompt");
    await expectSttRefused(u, upload("elevenlabs/scribe_v1", [["temperature", "0"]]), "temperature");
    await expectSttRefused(u, upload("whisper-1", [["temperature", "1.5"]]), "temperature");
    await expectSttRefused(u, upload("gpt-4o-transcribe", [["include[]", "logprobs"]]), "include");
    await expectSttRefused(u, upload("gpt-4o-transcribe", [["chunking_strategy", "auto"]]), "chunking_strategy");
  });

  it("stream=true is refused naming stream (it was answered as one JSON object the SDK's stream could not read, and charged)", async () => {
    const u = await newKeyUser();
    await expectSttRefused(u, upload("gpt-4o-transcribe", [["stream", "true"]]), "stream");
    const off = await transcribe(u.key, upload("gpt-4o-transcribe", [["stream", "false"]]));
    expect(off.status).toBe(200);
  });

  for (const [model, provider] of [
    ["whisper-1", "openai"],
    ["groq/whisper-large-v3-turbo", "groq"],
  ] as const) {
    it(`${provider}: timestamp_granularities[] is forwarded (spec-clean) and verbose_json carries the words and segments`, async () => {
      const u = await newKeyUser();
      const res = await transcribe(
        u.key,
        upload(model, [
          ["response_format", "verbose_json"],
          ["timestamp_granularities[]", "word"],
          ["timestamp_granularities[]", "segment"],
        ]),
      );
      expect(res.status, await res.clone().text()).toBe(200);
      const body = (await res.json()) as any;
      expect(body.words).toEqual(mockWordTimings(TRANSCRIPT, SECONDS));
      // Whisper's segment as the provider gave it (the mock's values), every field of OpenAI's TranscriptionSegment.
      expect(body.segments).toEqual([
        {
          id: 0,
          seek: 0,
          start: 0,
          end: SECONDS,
          text: TRANSCRIPT,
          tokens: [],
          temperature: 0,
          avg_logprob: -0.1,
          compression_ratio: 1,
          no_speech_prob: 0,
        },
      ]);
      const [req] = await upstreamRequests(provider);
      expect(req.specErrors).toEqual([]);
      expect(req.body.fields["timestamp_granularities[]"]).toEqual(["word", "segment"]);
    });
  }

  it("deepgram: words from its own transcript; what a provider cannot give, or without verbose_json, is refused naming timestamp_granularities", async () => {
    const u = await newKeyUser();
    const words = await transcribe(
      u.key,
      upload("deepgram/nova-3", [
        ["response_format", "verbose_json"],
        ["timestamp_granularities[]", "word"],
      ]),
    );
    expect(words.status).toBe(200);
    expect(((await words.json()) as any).words).toEqual(mockWordTimings(TRANSCRIPT, SECONDS));
    await mockControl("/reset", { method: "POST" });
    const g = "timestamp_granularities";
    // [model, response_format, granularity asked, the field the 400 names]
    for (const [model, format, granularity, field] of [
      ["deepgram/nova-3", "verbose_json", "segment", g],
      ["fishaudio/default", "verbose_json", "word", g],
      ["gpt-4o-transcribe", "verbose_json", "word", g],
      ["whisper-1", "json", "word", g],
      ["whisper-1", "verbose_json", "sentence", `${g}.0`],
    ] as const) {
      await expectSttRefused(
        u,
        upload(model, [
          ["response_format", format],
          [`${g}[]`, granularity],
        ]),
        field,
      );
    }
  });

  it("srt and vtt (text/plain): cues from segments (whisper), from words (deepgram), else one cue over the audio", async () => {
    const u = await newKeyUser();
    const get = async (model: string, format: string) => {
      const res = await transcribe(u.key, upload(model, [["response_format", format]]));
      expect(res.status, await res.clone().text()).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/plain");
      return res.text();
    };
    const whole = `1\n00:00:00,000 --> 00:00:06,000\n${TRANSCRIPT}\n\n`;
    expect(await get("whisper-1", "srt")).toBe(whole);
    expect(await get("whisper-1", "vtt")).toBe(`WEBVTT\n\n00:00:00.000 --> 00:00:06.000\n${TRANSCRIPT}\n\n`);
    // Five words of 1.2 s: a cue ends before it would pass 5 s.
    expect(await get("deepgram/nova-3", "srt")).toBe(
      "1\n00:00:00,000 --> 00:00:04,800\nmock transcript of 6000\n\n2\n00:00:04,800 --> 00:00:06,000\nbytes\n\n",
    );
    // No timings at all (gpt-4o-transcribe answers json): one cue over the transcript's duration.
    const verbose = await transcribe(u.key, upload("gpt-4o-transcribe", [["response_format", "verbose_json"]]));
    const { duration } = (await verbose.json()) as any;
    expect(await get("gpt-4o-transcribe", "srt")).toBe(`1\n00:00:00,000 --> ${cueTime(duration, ",")}\n${TRANSCRIPT}\n\n`);
  });
});

describe("subtitle rendering (pure)", () => {
  it("times: SubRip with a comma, WebVTT with a dot, hours past 99 minutes, rounding to milliseconds", () => {
    expect(cueTime(0, ",")).toBe("00:00:00,000");
    expect(cueTime(3723.4567, ".")).toBe("01:02:03.457");
    expect(cueTime(-1, ",")).toBe("00:00:00,000");
  });

  it("words group into cues: at most 5 s or 14 words, a new cue after a pause of 1 s; blank words skipped", () => {
    const w = (word: string, start: number, end: number) => ({ word, start, end });
    expect(cuesFromWords([w("a", 0, 1), w("b", 1, 2), w(" ", 2, 2), w("c", 3.5, 4)])).toEqual([
      { start: 0, end: 2, text: "a b" },
      { start: 3.5, end: 4, text: "c" },
    ]);
    const many = Array.from({ length: 20 }, (_, i) => w(`w${i}`, i * 0.1, i * 0.1 + 0.1));
    expect(cuesFromWords(many).map((c) => c.text.split(" ").length)).toEqual([14, 6]);
    expect(cuesFromWords([w("a", 0, 3), w("b", 3, 6)])).toHaveLength(2);
  });

  it("segments win over words; no timings: one cue over 0..duration; no text: no cue", () => {
    const words = [{ word: "x", start: 0, end: 1 }];
    expect(cuesOf({ text: "s", segments: [{ start: 1, end: 2, text: " s " }], words })).toEqual([{ start: 1, end: 2, text: "s" }]);
    expect(cuesOf({ text: "x", words })).toEqual([{ start: 0, end: 1, text: "x" }]);
    expect(cuesOf({ text: "all of it", durationSeconds: 7.5 })).toEqual([{ start: 0, end: 7.5, text: "all of it" }]);
    expect(cuesOf({ text: "  ", durationSeconds: 3 })).toEqual([]);
    expect(srt([])).toBe("");
    expect(vtt([])).toBe("WEBVTT\n\n");
  });

  it("a cue's text cannot end the cue early or fake a timing line", () => {
    const cue = { start: 0, end: 1, text: "a\n\n\nb --> c" };
    expect(srt([cue])).toBe("1\n00:00:00,000 --> 00:00:01,000\na\nb -> c\n\n");
    expect(vtt([cue])).toBe("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\na\nb -> c\n\n");
  });
});

describe("GET /v1/models/{model} (models.retrieve)", () => {
  const get = (key: string | undefined, path: string) => api(path, { headers: key ? bearer(key) : {} });

  it("a listed model by its id, slashes percent-encoded (as the SDK sends) or not, up to three parts", async () => {
    const u = await newKeyUser();
    for (const path of ["/v1/models/openai%2Fgpt-4.1-mini", "/v1/models/openai/gpt-4.1-mini", "/v1/models/gpt-4.1-mini"]) {
      const res = await get(u.key, path);
      expect(res.status, path).toBe(200);
      expect(await res.json()).toEqual({ id: "openai/gpt-4.1-mini", object: "model", created: 0, owned_by: "openai" });
    }
    const hf = "huggingface/meta-llama/Llama-4-Scout-17B-16E-Instruct";
    for (const path of [`/v1/models/${encodeURIComponent(hf)}`, `/v1/models/${hf}`]) {
      const res = await get(u.key, path);
      expect(res.status, path).toBe(200);
      expect(((await res.json()) as any).id).toBe(hf);
    }
  });

  it("unknown: 404 in OpenAI's shape inside Voxgate's envelope (API.md §8); no credentials: 401 in OpenAI's shape (the raw-slash form too)", async () => {
    const u = await newKeyUser();
    for (const path of ["/v1/models/openai%2Fnope-9", "/v1/models/nope/x", "/v1/models/anthropic%2F..%2Fx"]) {
      const res = await get(u.key, path);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toEqual({
        success: false,
        error: { message: expect.any(String), type: "not_found_error", param: "model", code: "model_not_found" },
        requestId: res.headers.get("x-request-id"),
      });
    }
    for (const path of ["/v1/models/openai%2Fgpt-4.1-mini", "/v1/models/openai/gpt-4.1-mini", "/v1/models/huggingface/a/b"]) {
      const res = await get(undefined, path);
      expect(res.status, path).toBe(401);
      expect(((await res.json()) as any).error).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
    }
  });

  it("a 404 under an OpenAI path is OpenAI-shaped too; elsewhere Voxgate's", async () => {
    const u = await newKeyUser();
    const under = await api("/v1/chat/completions/x", { method: "POST", headers: bearer(u.key), json: {} });
    expect(under.status).toBe(404);
    expect(((await under.json()) as any).error).toMatchObject({ type: "not_found_error", code: "not_found", param: null });
    const deep = await get(u.key, "/v1/models/a/b/c/d");
    expect(deep.status).toBe(404);
    expect(((await deep.json()) as any).error.type).toBe("not_found_error");
    const native = await get(u.key, "/v1/nothing-here");
    expect(((await native.json()) as any).success).toBe(false);
  });
});

describe("the official SDK against these fixes", () => {
  const sdk = (apiKey: string) =>
    new OpenAI({ apiKey, baseURL: `${BASE}/v1`, maxRetries: 0, fetch: ((url: any, init: any) => SELF.fetch(url, init)) as any });

  it("models.retrieve, srt as a string, stream:true transcription raised as BadRequestError, a failed-over stream's chunks", async () => {
    const u = await newKeyUser();
    const c = sdk(u.key);
    expect(await c.models.retrieve("openai/gpt-4.1-mini")).toMatchObject({ id: "openai/gpt-4.1-mini", object: "model" });
    await expect(c.models.retrieve("openai/nope-9")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const file = async () => toFile(new Uint8Array(6000), "a.wav", { type: "audio/wav" });
    const subtitles = await c.audio.transcriptions.create({ file: await file(), model: "whisper-1", response_format: "srt" });
    expect(subtitles).toContain("00:00:00,000 --> 00:00:06,000");
    const streamed = c.audio.transcriptions.create({ file: await file(), model: "gpt-4o-transcribe", stream: true });
    await expect(streamed).rejects.toMatchObject({ status: 400, param: "stream" });
    const m = marker();
    await faultFor(m, { provider: "openai", mode: "error", status: 503 });
    const stream = await c.chat.completions.create({
      model: "gpt-4.1-mini",
      models: ["anthropic/claude-sonnet-4-20250514"],
      messages: [{ role: "user", content: `q ${m}` }],
      stream: true,
    } as any);
    const models = new Set<string>();
    for await (const chunk of stream as any) models.add(chunk.model);
    expect([...models]).toEqual(["anthropic/claude-sonnet-4-20250514"]);
    const bad = c.chat.completions.create({ model: "gpt-4.1-mini", messages: [{ role: "user", content: "x" }], logprobs: true });
    await expect(bad).rejects.toMatchObject({ status: 400, param: "logprobs" });
  });

  it("retries: a provider's own 4xx (a 502 here) is not retried by the SDK; a provider's Retry-After is passed on", async () => {
    const u = await newKeyUser();
    const retrying = new OpenAI({
      apiKey: u.key,
      baseURL: `${BASE}/v1`,
      maxRetries: 2,
      fetch: ((url: any, init: any) => SELF.fetch(url, init)) as any,
    });
    let m = marker();
    // The same request would fail the same way: one call upstream, not three.
    await faultFor(m, { provider: "openai", mode: "error", status: 400, times: 3 });
    const refused = retrying.chat.completions.create({ model: "gpt-4.1-mini", messages: [{ role: "user", content: `q ${m}` }] });
    await expect(refused).rejects.toMatchObject({ status: 502, code: "provider_error" });
    const sent = (await upstreamRequests("openai")).filter((r) => JSON.stringify(r.body).includes(m));
    expect(sent).toHaveLength(1);
    // A rate-limited provider says when to come back: the 502 carries its Retry-After (the SDK waits that long).
    m = marker();
    await faultFor(m, { provider: "openai", mode: "error", status: 429, retryAfter: 7 });
    const limited = await api("/v1/chat/completions", {
      method: "POST",
      headers: bearer(u.key),
      json: { model: "gpt-4.1-mini", messages: [{ role: "user", content: `q ${m}` }] },
    });
    expect([limited.status, limited.headers.get("retry-after"), limited.headers.get("x-should-retry")]).toEqual([502, "7", null]);
    await limited.arrayBuffer();
    // One that says "in an hour" is not retried at all.
    m = marker();
    await faultFor(m, { provider: "openai", mode: "error", status: 429, retryAfter: 3600 });
    const later = await api("/v1/chat/completions", {
      method: "POST",
      headers: bearer(u.key),
      json: { model: "gpt-4.1-mini", messages: [{ role: "user", content: `q ${m}` }] },
    });
    expect([later.status, later.headers.get("retry-after"), later.headers.get("x-should-retry")]).toEqual([502, "3600", "false"]);
    await later.arrayBuffer();
  });
});
