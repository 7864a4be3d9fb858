// Per-provider speech text limits (src/providers/text-limit.ts): text longer than the chosen provider takes
// is the caller's 400 naming the field before anything is reserved or sent (never a 502 from the provider);
// a fallback that cannot take it drops out of the chain; a realtime text message longer than the provider's
// WebSocket takes in one frame is sent as several.
import { describe, expect, it } from "vitest";
import { DEFAULT_PRICES, ttsCostMc } from "../../src/metering/prices";
import { textPieces } from "../../src/providers/text-limit";
import type { Governor } from "../../src/realtime/governor";
import { deepgramSpeak } from "../../src/realtime/providers/deepgram";
import { Session } from "../../src/realtime/session";
import { relaySpeak } from "../../src/realtime/speak";
import { env } from "../helpers/env";
import { call, fault, ledgerOf, until, userOn } from "../helpers/reliability";

const auth = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const nonce = () => `n${crypto.randomUUID().replaceAll("-", "")}`;
/** A text of exactly `n` characters that carries `marker` (so the mock's records can be told apart). */
const textOf = (n: number, marker: string) => `${marker} ${"a".repeat(n - marker.length - 1)}`;

async function requestsTo(provider: string, marker: string): Promise<any[]> {
  const all = (await (await fetch(`${env.TEST_MOCK_ORIGIN}/__control/requests?provider=${provider}`)).json()) as any[];
  return all.filter((r) => JSON.stringify(r.body ?? "").includes(marker));
}

const synthesize = (jwt: string, json: Record<string, unknown>) => call("/v1/synthesize", { method: "POST", headers: auth(jwt), json });

/** A refusal before anything happened: 400 validation_failed naming `field`, no provider call, nothing reserved or charged. */
async function expectRefused(res: Response, userId: string, provider: string, marker: string, field = "text") {
  const body = (await res.json()) as any;
  expect(res.status, JSON.stringify(body)).toBe(400);
  return { body, checkNothingHappened: () => nothingHappened(userId, provider, marker, field, body) };
}

async function nothingHappened(userId: string, provider: string, marker: string, field: string, body: any) {
  if (field === "text") {
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.fields).toEqual([{ path: "text", message: expect.stringMatching(/at most \d+ characters/) }]);
  }
  expect(await requestsTo(provider, marker)).toHaveLength(0);
  const ledger = await ledgerOf(userId);
  expect(ledger.usedMc).toBe(0);
  expect(ledger.reservedMc).toBe(0);
}

describe("POST /v1/synthesize: the chosen provider's limit", () => {
  for (const { name, provider, extra, limit } of [
    { name: "Inworld 2,000", provider: "inworld", extra: {}, limit: 2000 },
    { name: "OpenAI 4,096", provider: "openai", extra: {}, limit: 4096 },
    { name: "Deepgram Aura-2 (the default voice) 1,000", provider: "deepgram", extra: {}, limit: 1000 },
    { name: "Deepgram Aura-1 (a voice names the model) 2,000", provider: "deepgram", extra: { voiceId: "aura-asteria-en" }, limit: 2000 },
    { name: "Resemble /stream (wav) 2,000", provider: "resembleai", extra: { format: "wav" }, limit: 2000 },
    { name: "Resemble /synthesize (mp3) 3,000", provider: "resembleai", extra: { format: "mp3" }, limit: 3000 },
  ]) {
    it(`${name}: one character more is 400 naming text, nothing reserved or sent; the limit itself is served`, async () => {
      const user = await userOn("pro");
      const over = nonce();
      const { checkNothingHappened } = await expectRefused(
        await synthesize(user.jwt, { provider, text: textOf(limit + 1, over), ...extra }),
        user.id,
        provider,
        over,
      );
      await checkNothingHappened();
      const at = nonce();
      const ok = await synthesize(user.jwt, { provider, text: textOf(limit, at), ...extra });
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
      expect(await requestsTo(provider, at)).toHaveLength(1);
    });
  }

  it("an agent's speak: its TTS provider's limit, named the same way", async () => {
    const user = await userOn("pro");
    const created = await call("/v1/agents", { method: "POST", headers: auth(user.jwt), json: { name: "Ina", ttsProvider: "inworld" } });
    const agent = ((await created.json()) as any).agent;
    const marker = nonce();
    const res = await call(`/v1/agents/${agent.id}/speak`, {
      method: "POST",
      headers: auth(user.jwt),
      json: { text: textOf(2001, marker) },
    });
    const { checkNothingHappened } = await expectRefused(res, user.id, "inworld", marker);
    await checkNothingHappened();
  });
});

describe("POST /v1/audio/speech (OpenAI-compatible): OpenAI's 400 with param input", () => {
  for (const { model, limit, provider } of [
    { model: "openai/gpt-4o-mini-tts", limit: 4096, provider: "openai" },
    { model: "inworld/inworld-tts-1.5-mini", limit: 2000, provider: "inworld" },
  ]) {
    it(`${model}: ${limit + 1} characters`, async () => {
      const user = await userOn("pro");
      const marker = nonce();
      const res = await call("/v1/audio/speech", {
        method: "POST",
        headers: auth(user.jwt),
        json: { model, input: textOf(limit + 1, marker), voice: "alloy" },
      });
      const { body, checkNothingHappened } = await expectRefused(res, user.id, provider, marker, "input");
      expect(body.error).toEqual({
        message: expect.stringContaining(`at most ${limit} characters`),
        type: "invalid_request_error",
        param: "input",
        code: "validation_failed",
      });
      await checkNothingHappened();
    });
  }
});

describe("failover: a fallback that cannot take the text drops out of the chain", () => {
  it("elevenlabs 503 → inworld (2,000) is skipped for 3,000 characters, cartesia serves; the attempts say so", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: marker, mode: "error", status: 503 });
    const text = textOf(3000, marker);
    const res = await synthesize(user.jwt, { provider: "elevenlabs", text, fallback: ["inworld", "cartesia"] });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(res.headers.get("x-provider-used")).toBe("cartesia");
    expect(res.headers.get("x-provider-attempts")).toBe("elevenlabs=503, cartesia=200");
    expect(await requestsTo("inworld", marker)).toHaveLength(0);
    const cost = ttsCostMc("cartesia", 3000, false) ?? 0;
    const ledger = await until(
      () => ledgerOf(user.id),
      (l) => l.usedMc === cost && l.reservedMc === 0,
    );
    expect(ledger.usedMc).toBe(cost);
    // A fallback's limit never vetoes the first provider: elevenlabs serves it when it answers.
    const served = await synthesize(user.jwt, { provider: "elevenlabs", text: textOf(3000, nonce()), fallback: ["inworld"] });
    expect(served.status).toBe(200);
    await served.arrayBuffer();
    expect(served.headers.get("x-provider-used")).toBe("elevenlabs");
  });
});

describe("realtime speak: a message longer than the provider's frame limit", () => {
  /** A socket stand-in: what the session sends is recorded; the test dispatches what arrives. */
  const socket = () =>
    Object.assign(new EventTarget(), {
      sent: [] as unknown[],
      send(f: unknown) {
        this.sent.push(f);
      },
      close() {},
    });

  it("Deepgram (2,000 a Speak message): 4,500 characters go as Speak frames of at most 2,000, in order, before the Flush", () => {
    const client = socket();
    const upstream = socket();
    const governor = { metered: false, admit: () => true, tick: async () => {}, settle: async () => {} } as unknown as Governor;
    const s = new Session({
      client: client as unknown as WebSocket,
      upstream: upstream as unknown as WebSocket,
      governor,
      openAiProtocol: false,
      maxSeconds: 60,
      checkIntervalMs: 10_000,
      providerKey: "k",
    });
    const stream = deepgramSpeak.start(
      { voiceId: "aura-2-thalia-en", model: "aura-2-thalia-en", format: "pcm", sampleRate: 24000 },
      {
        urls: { api: "https://provider.test" },
        key: "k",
      },
    );
    relaySpeak(s, stream, deepgramSpeak, false, DEFAULT_PRICES);
    const text = Array.from({ length: 900 }, (_, i) => `w${String(i).padStart(3, "0")}`).join(" "); // 4,499 characters
    const say = (msg: unknown) => client.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(msg) }));
    say({ type: "text", text });
    say({ type: "flush" });
    const frames = upstream.sent.map((f) => JSON.parse(f as string));
    const speaks = frames.filter((f) => f.type === "Speak");
    expect(speaks.length).toBe(3);
    for (const f of speaks) expect([...f.text].length).toBeLessThanOrEqual(2000);
    expect(speaks.map((f) => f.text).join("")).toBe(text);
    expect(frames.at(-1)).toEqual({ type: "Flush" });
    expect(client.sent.filter((f) => String(f).includes('"error"'))).toEqual([]);
    s.end({ code: 1000 });
    // The characters charged are the message's, however many frames carried it.
    expect(JSON.parse(client.sent.at(-1) as string)).toMatchObject({ type: "usage", characters: [...text].length });
  });

  it("pieces are cut after whitespace, never inside a word, and lose nothing", () => {
    expect(textPieces("aaa bbb ccc", 5)).toEqual(["aaa ", "bbb ", "ccc"]);
    expect(textPieces("abcdefgh", 3)).toEqual(["abc", "def", "gh"]);
    expect(textPieces("😀😀😀", 2)).toEqual(["😀😀", "😀"]);
  });
});
