// Speech and transcription answered 200 with something that is no answer (API.md §4.2, §8), as chat is
// (chat-failover.test.ts): speech of another content type (JSON or an HTML page where audio was expected),
// a JSON-audio provider's 200 that is not its JSON shape, a transcription body that is not JSON or not the
// provider's transcript ({"error":…} under a 200). Nothing reached the client: a provider failure —
// refunded, counted by the circuit breaker, failed over, else 502 provider_error naming the provider.
import { describe, expect, it } from "vitest";
import { ttsCostMc } from "../../src/metering/prices";
import { env } from "../helpers/env";
import { call, fault, ledgerOf, sleep, until, userOn } from "../helpers/reliability";

const auth = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const nonce = () => `n${crypto.randomUUID().replaceAll("-", "")}`;

async function requestsTo(provider: string, marker: string): Promise<any[]> {
  const all = (await (await fetch(`${env.TEST_MOCK_ORIGIN}/__control/requests?provider=${provider}`)).json()) as any[];
  return all.filter((r) => JSON.stringify(r.body ?? "").includes(marker) || String(r.rawBody ?? "").includes(marker));
}

const speak = (jwt: string, json: Record<string, unknown>) => call("/v1/synthesize", { method: "POST", headers: auth(jwt), json });

function transcribe(jwt: string, marker: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const form = new FormData();
  form.append("file", new File([new TextEncoder().encode(`RIFF${marker}${"\u0000".repeat(4000)}`)], "clip.wav", { type: "audio/wav" }));
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return call("/v1/transcribe", { method: "POST", headers: { ...auth(jwt), ...headers }, body: form });
}

/** The ledger once nothing is reserved any more and `check` holds. */
const settled = (userId: string, check: (l: { usedMc: number; requestCount: number }) => boolean) =>
  until(
    () => ledgerOf(userId),
    (l) => l.reservedMc === 0 && check(l),
  );

const costOf = (res: Response) => Math.round(Number(res.headers.get("x-usage-cost")) * 1000);

describe("speech answered 200 with something that is not audio, before any audio", () => {
  it("an HTML page from a raw-audio provider fails over; only the one that served is charged", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    const text = `hello ${marker}`;
    await fault({ provider: "elevenlabs", bodyIncludes: marker, mode: "wrong_content_type" });
    const res = await speak(user.jwt, { provider: "elevenlabs", text, fallback: ["cartesia"] });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-used")).toBe("cartesia");
    expect(res.headers.get("x-provider-attempts")).toBe("elevenlabs=502, cartesia=200");
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    const cost = ttsCostMc("cartesia", [...text].length, false) ?? 0;
    expect(costOf(res)).toBe(cost);
    const ledger = await settled(user.id, (l) => l.usedMc === cost);
    expect([ledger.usedMc, ledger.requestCount]).toEqual([cost, 1]); // elevenlabs' charge was refunded
    expect(await requestsTo("cartesia", marker)).toHaveLength(1);
  });

  it("JSON where raw audio was expected (an error under a 200) fails over too", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "deepgram", bodyIncludes: marker, mode: "unexpected_json" });
    const res = await speak(user.jwt, { provider: "deepgram", text: `hi ${marker}`, fallback: ["cartesia"] });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("deepgram=502, cartesia=200");
    await res.arrayBuffer();
  });

  it("an SSE-audio provider answering JSON instead of its event stream fails over", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "cartesia", bodyIncludes: marker, mode: "invalid_json" });
    const res = await speak(user.jwt, { provider: "cartesia", format: "pcm", text: `hi ${marker}`, fallback: ["elevenlabs"] });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("cartesia=502, elevenlabs=200");
    await res.arrayBuffer();
  });

  it("a JSON-audio provider's 200 that is not its JSON shape fails over (never an empty 200)", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    const text = `hello ${marker}`;
    await fault({ provider: "resembleai", bodyIncludes: marker, mode: "unexpected_json" });
    const res = await speak(user.jwt, { provider: "resembleai", format: "mp3", text, fallback: ["cartesia"] });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("resembleai=502, cartesia=200");
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    const cost = ttsCostMc("cartesia", [...text].length, false) ?? 0;
    const ledger = await settled(user.id, (l) => l.usedMc === cost);
    expect([ledger.usedMc, ledger.requestCount]).toEqual([cost, 1]);
  });

  it("a raw-audio 200 with an empty body fails over (never an empty 200 charged in full), with an Idempotency-Key too", async () => {
    for (const idempotent of [false, true]) {
      const user = await userOn("pro");
      const marker = nonce();
      const text = `hello ${marker}`;
      await fault({ provider: "elevenlabs", bodyIncludes: marker, mode: "empty" });
      const res = await call("/v1/synthesize", {
        method: "POST",
        headers: { ...auth(user.jwt), ...(idempotent ? { "idempotency-key": marker } : {}) },
        json: { provider: "elevenlabs", text, fallback: ["cartesia"] },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-provider-attempts")).toBe("elevenlabs=502, cartesia=200");
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
      const cost = ttsCostMc("cartesia", [...text].length, false) ?? 0;
      expect(costOf(res)).toBe(cost);
      const ledger = await settled(user.id, (l) => l.usedMc === cost);
      expect([ledger.usedMc, ledger.requestCount]).toEqual([cost, 1]); // elevenlabs' charge was refunded
    }
  });

  it("/v1/audio/speech: an empty 200 with no provider left is a 502 in OpenAI's error shape, refunded", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "empty" });
    const res = await call("/v1/audio/speech", {
      method: "POST",
      headers: auth(user.jwt),
      json: { model: "tts-1", voice: "nova", input: `hi ${marker}` },
    });
    expect(res.status).toBe(502);
    expect(((await res.json()) as any).error).toMatchObject({ code: "provider_error" });
    const ledger = await settled(user.id, (l) => l.usedMc === 0);
    expect([ledger.usedMc, ledger.requestCount]).toEqual([0, 0]);
  });

  it("with no provider left: 502 provider_error naming the provider, refunded in full", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "resembleai", bodyIncludes: marker, mode: "unexpected_json" });
    const res = await speak(user.jwt, { provider: "resembleai", format: "mp3", text: `hi ${marker}` });
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.error).toMatchObject({ code: "provider_error", provider: "resembleai" });
    expect(body.error.providerStatus).toBeUndefined(); // its HTTP status was 200
    expect(res.headers.get("x-provider-attempts")).toBe("resembleai=502");
    const ledger = await settled(user.id, (l) => l.usedMc === 0);
    expect([ledger.usedMc, ledger.requestCount]).toEqual([0, 0]);
  });

  it("an agent's speak fails over on an HTML page from its speech provider", async () => {
    const user = await userOn("pro");
    const agent = await call("/v1/agents", {
      method: "POST",
      headers: auth(user.jwt),
      json: { name: "html speech", ttsProvider: "elevenlabs", llmProvider: "openai", llmModel: "gpt-4.1-mini", fallback: ["cartesia"] },
    });
    expect(agent.status).toBe(201);
    const id = ((await agent.json()) as any).agent.id;
    const marker = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: marker, mode: "wrong_content_type" });
    const res = await call(`/v1/agents/${id}/speak`, { method: "POST", headers: auth(user.jwt), json: { text: marker } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("elevenlabs=502, cartesia=200");
    await res.arrayBuffer();
  });

  it("counts as a failure for the circuit breaker: after BREAKER_FAILURES of them the provider is skipped", async () => {
    const user = await userOn("pro");
    const ask = (marker: string) => speak(user.jwt, { provider: "fishaudio", text: `breaker ${marker}`, fallback: ["cartesia"] });
    for (let i = 0; i < Number(env.BREAKER_FAILURES ?? 5); i++) {
      const marker = nonce();
      await fault({ provider: "fishaudio", bodyIncludes: marker, mode: "wrong_content_type" });
      const res = await ask(marker);
      expect(res.headers.get("x-provider-attempts")).toBe("fishaudio=502, cartesia=200");
      await res.arrayBuffer();
    }
    const marker = nonce();
    const skipped = await ask(marker);
    expect(skipped.headers.get("x-provider-attempts")).toBe("fishaudio=skipped, cartesia=200");
    await skipped.arrayBuffer();
    expect(await requestsTo("fishaudio", marker)).toHaveLength(0);
    // Leave it closed for whoever comes next: after the cool-down a probe that succeeds closes it.
    await sleep(Number(env.BREAKER_COOLDOWN_MS ?? 30_000) + 50);
    const probe = await ask(nonce());
    expect(probe.headers.get("x-provider-attempts")).toBe("fishaudio=200");
    await probe.arrayBuffer();
  });

  it("/v1/audio/speech: an HTML page is a 502 in OpenAI's error shape, not audio (guard)", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "wrong_content_type" });
    const res = await call("/v1/audio/speech", {
      method: "POST",
      headers: auth(user.jwt),
      json: { model: "tts-1", voice: "nova", input: `hi ${marker}` },
    });
    expect(res.status).toBe(502);
    expect(((await res.json()) as any).error.type).toBeTypeOf("string");
    const ledger = await settled(user.id, (l) => l.usedMc === 0);
    expect([ledger.usedMc, ledger.requestCount]).toEqual([0, 0]);
  });
});

describe("a transcription answered 200 with something that is not a transcript", () => {
  it("a body that is not JSON fails over; only the one that served is charged", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "invalid_json" });
    const res = await transcribe(user.jwt, marker, { provider: "openai", fallback: "deepgram" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("openai=502, deepgram=200");
    expect(((await res.json()) as any).provider).toBe("deepgram");
    const cost = costOf(res);
    expect(cost).toBeGreaterThan(0);
    const ledger = await settled(user.id, (l) => l.usedMc === cost);
    expect([ledger.usedMc, ledger.requestCount]).toEqual([cost, 1]); // openai's reservation was refunded
  });

  it('JSON that is not the provider\'s transcript ({"error":…} under a 200) fails over — never an empty transcript', async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "deepgram", bodyIncludes: marker, mode: "unexpected_json" });
    const res = await transcribe(user.jwt, marker, { provider: "deepgram", fallback: "openai" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("deepgram=502, openai=200");
    const body = (await res.json()) as any;
    expect(body.provider).toBe("openai");
    expect(body.text).not.toBe("");
  });

  it("an HTML page fails over too", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "wrong_content_type" });
    const res = await transcribe(user.jwt, marker, { provider: "openai", fallback: "deepgram" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("openai=502, deepgram=200");
    await res.arrayBuffer();
  });

  it("with no provider left: 502 provider_error naming the provider, refunded in full", async () => {
    const user = await userOn("pro");
    for (const provider of ["openai", "deepgram"]) {
      const marker = nonce();
      await fault({ provider, bodyIncludes: marker, mode: "unexpected_json" });
      const res = await transcribe(user.jwt, marker, { provider });
      expect(res.status, provider).toBe(502);
      const body = (await res.json()) as any;
      expect(body.error).toMatchObject({ code: "provider_error", provider });
      expect(res.headers.get("x-provider-attempts")).toBe(`${provider}=502`);
    }
    const ledger = await settled(user.id, (l) => l.usedMc === 0);
    expect([ledger.usedMc, ledger.requestCount]).toEqual([0, 0]);
  });

  it("/v1/audio/transcriptions: an error under a 200 is a 502 in OpenAI's error shape, not an empty transcript", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "unexpected_json" });
    const form = new FormData();
    form.append("file", new File([new TextEncoder().encode(`RIFF${marker}${"\u0000".repeat(4000)}`)], "clip.wav", { type: "audio/wav" }));
    form.append("model", "whisper-1");
    const res = await call("/v1/audio/transcriptions", { method: "POST", headers: auth(user.jwt), body: form });
    expect(res.status).toBe(502);
    expect(((await res.json()) as any).error.type).toBeTypeOf("string");
    const ledger = await settled(user.id, (l) => l.usedMc === 0);
    expect([ledger.usedMc, ledger.requestCount]).toEqual([0, 0]);
  });

  it("counts as a failure for the circuit breaker: after BREAKER_FAILURES of them the provider is skipped", async () => {
    const user = await userOn("pro");
    const ask = (marker: string) => transcribe(user.jwt, marker, { provider: "groq", fallback: "openai" });
    for (let i = 0; i < Number(env.BREAKER_FAILURES ?? 5); i++) {
      const marker = nonce();
      await fault({ provider: "groq", bodyIncludes: marker, mode: "unexpected_json" });
      const res = await ask(marker);
      expect(res.headers.get("x-provider-attempts")).toBe("groq=502, openai=200");
      await res.arrayBuffer();
    }
    const marker = nonce();
    const skipped = await ask(marker);
    expect(skipped.headers.get("x-provider-attempts")).toBe("groq=skipped, openai=200");
    await skipped.arrayBuffer();
    expect(await requestsTo("groq", marker)).toHaveLength(0);
    await sleep(Number(env.BREAKER_COOLDOWN_MS ?? 30_000) + 50);
    const probe = await ask(nonce());
    expect(probe.headers.get("x-provider-attempts")).toBe("groq=200");
    await probe.arrayBuffer();
  });
});
