// Failover (issue 15, API.md §4.2): when a provider fails before its first byte, the next one answers —
// each attempt admitted and metered on its own, the rate limit counted once, a circuit breaker per provider.
import { describe, expect, it } from "vitest";
import { ttsCostMc } from "../../src/metering/prices";
import { env } from "../helpers/env";
import { call, fault, inAccount, ledgerOf, until, userOn } from "../helpers/reliability";

const auth = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const nonce = () => `n${crypto.randomUUID().replaceAll("-", "")}`;

async function requestsTo(provider: string, marker: string): Promise<any[]> {
  const all = (await (await fetch(`${env.TEST_MOCK_ORIGIN}/__control/requests?provider=${provider}`)).json()) as any[];
  return all.filter((r) => JSON.stringify(r.body ?? "").includes(marker));
}

const speak = (jwt: string, text: string, extra: Record<string, unknown> = {}) =>
  call("/v1/synthesize", { method: "POST", headers: auth(jwt), json: { provider: "elevenlabs", text, fallback: ["cartesia"], ...extra } });

describe("failover", () => {
  it("primary 503 → the secondary serves; headers say so; only the secondary's price is charged; the rate limit counts once", async () => {
    const user = await userOn("free"); // 30 a minute
    const marker = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: marker, mode: "error", status: 503 });
    const text = `hello ${marker}`;
    await call("/v1/me", { headers: auth(user.jwt) });
    // The user's window (src/ratelimit/window.ts): how many requests it has left.
    const left = () =>
      inAccount(
        user.id,
        (instance) => (instance.rates.get("user") as { peek(now: number): { remaining: number } }).peek(Date.now()).remaining,
      );
    const before = await left();
    const res = await speak(user.jwt, text);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-used")).toBe("cartesia");
    expect(res.headers.get("x-provider-attempts")).toBe("elevenlabs=503, cartesia=200");
    // One request, two admissions: the rate-limit window counted one request, not two.
    expect(await left()).toBe(before - 1);
    await res.arrayBuffer();
    const cost = ttsCostMc("cartesia", [...text].length, false) ?? 0;
    expect(Number(res.headers.get("x-usage-cost"))).toBe(cost / 1000);
    const ledger = await until(
      () => ledgerOf(user.id),
      (l) => l.usedMc === cost && l.requestCount === 1,
    );
    expect(ledger.usedMc).toBe(cost); // elevenlabs' charge was refunded
    expect(ledger.requestCount).toBe(1);
    expect(await requestsTo("cartesia", marker)).toHaveLength(1);
  });

  it("a 400 from the primary is the caller's error: no fallback", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: marker, mode: "error", status: 400 });
    const res = await speak(user.jwt, `bad ${marker}`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as any).error.providerStatus).toBe(400);
    expect(res.headers.get("x-provider-attempts")).toBe("elevenlabs=400");
    expect(await requestsTo("cartesia", marker)).toHaveLength(0);
  });

  it("429 and timeouts fail over too; per-provider voices apply", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: marker, mode: "error", status: 429 });
    const res = await speak(user.jwt, `limited ${marker}`, {
      voiceId: "eleven-voice",
      fallback: [{ provider: "cartesia", voiceId: "cartesia-voice" }],
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const [req] = await requestsTo("cartesia", marker);
    expect(req.body.voice.id).toBe("cartesia-voice");
  });

  it("a primary cut mid-stream is reported in-band: no silent fallback after bytes were sent", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "truncate", afterChunks: 3 });
    const res = await call("/v1/chat", {
      method: "POST",
      headers: auth(user.jwt),
      json: {
        provider: "openai",
        model: "gpt-4.1-mini",
        stream: true,
        messages: [{ role: "user", content: `${marker} a b c d e` }],
        fallback: ["anthropic"],
      },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"type":"error"');
    expect(text).not.toContain('"type":"done"');
    expect(await requestsTo("anthropic", marker)).toHaveLength(0);
  });

  it("chat, transcription, agents and /v1/chat/completions with models fail over", async () => {
    const user = await userOn("pro");
    let marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "error", status: 500 });
    const chat = await call("/v1/chat", {
      method: "POST",
      headers: auth(user.jwt),
      json: {
        provider: "openai",
        model: "gpt-4.1-mini",
        messages: [{ role: "user", content: marker }],
        fallback: [{ provider: "anthropic", model: "claude-3-5-haiku-latest" }],
      },
    });
    expect(chat.status).toBe(200);
    expect(((await chat.json()) as any).model).toBe("claude-3-5-haiku-latest");
    expect(chat.headers.get("x-provider-attempts")).toBe("openai=500, anthropic=200");

    marker = nonce();
    await fault({ provider: "groq", bodyIncludes: marker, mode: "error", status: 502 });
    const completion = await call("/v1/chat/completions", {
      method: "POST",
      headers: auth(user.jwt),
      json: {
        model: "groq/meta-llama/llama-4-scout-17b-16e-instruct",
        models: ["groq/meta-llama/llama-4-scout-17b-16e-instruct", "openai/gpt-4.1-mini"],
        messages: [{ role: "user", content: marker }],
      },
    });
    expect(completion.status).toBe(200);
    expect(completion.headers.get("x-provider-used")).toBe("openai");
    expect(((await completion.json()) as any).model).toBe("openai/gpt-4.1-mini");

    marker = nonce();
    await fault({ provider: "deepgram", path: "/v1/listen", bodyIncludes: marker, mode: "error", status: 503 });
    const form = new FormData();
    form.append("file", new File([new TextEncoder().encode(`audio ${marker}`)], "a.wav"));
    form.append("provider", "deepgram");
    form.append("fallback", "openai");
    const stt = await call("/v1/transcribe", { method: "POST", headers: auth(user.jwt), body: form });
    expect(stt.status).toBe(200);
    expect(((await stt.json()) as any).provider).toBe("openai");
    expect(stt.headers.get("x-provider-attempts")).toBe("deepgram=503, openai=200");

    const agent = await call("/v1/agents", {
      method: "POST",
      headers: auth(user.jwt),
      json: {
        name: "failing over",
        ttsProvider: "elevenlabs",
        llmProvider: "openai",
        llmModel: "gpt-4.1-mini",
        fallback: ["cartesia", { provider: "anthropic", model: "claude-3-5-haiku-latest" }],
      },
    });
    expect(agent.status).toBe(201);
    const agentBody = (await agent.json()) as any;
    expect(agentBody.agent.fallback).toEqual([{ provider: "cartesia" }, { provider: "anthropic", model: "claude-3-5-haiku-latest" }]);
    marker = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: marker, mode: "error", status: 503 });
    const spoken = await call(`/v1/agents/${agentBody.agent.id}/speak`, {
      method: "POST",
      headers: auth(user.jwt),
      json: { text: marker },
    });
    expect(spoken.status).toBe(200);
    expect(spoken.headers.get("x-provider-attempts")).toBe("elevenlabs=503, cartesia=200");
    await spoken.arrayBuffer();
    marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "error", status: 503 });
    const said = await call(`/v1/agents/${agentBody.agent.id}/chat`, {
      method: "POST",
      headers: auth(user.jwt),
      json: { messages: [{ role: "user", content: marker }] },
    });
    expect(said.status).toBe(200);
    expect(said.headers.get("x-provider-attempts")).toBe("openai=503, anthropic=200");
  });

  it("an Idempotency-Key survives a failover: the served attempt is recorded, a retry replays it", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "error", status: 503 });
    const body = { provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: marker }], fallback: ["anthropic"] };
    const headers = { ...auth(user.jwt), "idempotency-key": marker };
    const first = await call("/v1/chat", {
      method: "POST",
      headers,
      json: { ...body, fallback: [{ provider: "anthropic", model: "claude-3-5-haiku-latest" }] },
    });
    expect(first.status).toBe(200);
    await until(
      () => ledgerOf(user.id),
      (l) => l.reservedMc === 0 && l.usedMc > 0,
    );
    const again = await call("/v1/chat", {
      method: "POST",
      headers,
      json: { ...body, fallback: [{ provider: "anthropic", model: "claude-3-5-haiku-latest" }] },
    });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(await first.json());
  });

  it("an unknown provider in fallback is a 400 before anything runs", async () => {
    const user = await userOn("pro");
    const res = await speak(user.jwt, "x", { fallback: ["nope"] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("unknown_provider");
  });
});

describe("the circuit breaker", () => {
  it("opens after repeated failures (the provider is skipped), probes again after the cool-down, and closes", async () => {
    const user = await userOn("pro");
    const failures = Number(env.BREAKER_FAILURES ?? 5);
    // Fail deepgram's speech until its breaker opens.
    for (let i = 0; i < failures; i++) {
      const marker = nonce();
      await fault({ provider: "deepgram", bodyIncludes: marker, mode: "error", status: 500 });
      const res = await call("/v1/synthesize", {
        method: "POST",
        headers: auth(user.jwt),
        json: { provider: "deepgram", text: marker, fallback: ["cartesia"] },
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    let marker = nonce();
    const skipped = await call("/v1/synthesize", {
      method: "POST",
      headers: auth(user.jwt),
      json: { provider: "deepgram", text: marker, fallback: ["cartesia"] },
    });
    expect(skipped.headers.get("x-provider-attempts")).toBe("deepgram=skipped, cartesia=200");
    await skipped.arrayBuffer();
    expect(await requestsTo("deepgram", marker)).toHaveLength(0);
    const providers = await call("/v1/providers", { headers: auth(user.jwt) });
    expect(providers.status).toBe(200);
    const list = ((await providers.json()) as any).providers as { id: string; health: { state: string; retryAt: string | null } }[];
    const deepgram = list.find((p) => p.id === "deepgram")?.health;
    expect(deepgram?.state).toBe("open");
    expect(Date.parse(deepgram?.retryAt ?? "")).toBeGreaterThan(Date.now());
    // After the cool-down one probe goes through; it succeeds and the breaker closes.
    await new Promise((r) => setTimeout(r, Number(env.BREAKER_COOLDOWN_MS ?? 30_000) + 50));
    marker = nonce();
    const probe = await call("/v1/synthesize", {
      method: "POST",
      headers: auth(user.jwt),
      json: { provider: "deepgram", text: marker, fallback: ["cartesia"] },
    });
    expect(probe.headers.get("x-provider-attempts")).toBe("deepgram=200");
    await probe.arrayBuffer();
    marker = nonce();
    const closed = await call("/v1/synthesize", {
      method: "POST",
      headers: auth(user.jwt),
      json: { provider: "deepgram", text: marker, fallback: ["cartesia"] },
    });
    expect(closed.headers.get("x-provider-attempts")).toBe("deepgram=200");
    await closed.arrayBuffer();
  });

  it("half-open: one request probes the provider; the others skip it until that probe has answered", async () => {
    const user = await userOn("pro");
    const speakVia = (text: string) =>
      call("/v1/synthesize", { method: "POST", headers: auth(user.jwt), json: { provider: "inworld", text, fallback: ["cartesia"] } });
    for (let i = 0; i < Number(env.BREAKER_FAILURES ?? 5); i++) {
      const marker = nonce();
      await fault({ provider: "inworld", bodyIncludes: marker, mode: "error", status: 500 });
      const res = await speakVia(marker);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    await new Promise((r) => setTimeout(r, Number(env.BREAKER_COOLDOWN_MS ?? 30_000) + 50));
    // The probe hangs (and then times out); a request arriving meanwhile must not reach inworld too.
    const probeMarker = nonce();
    await fault({ provider: "inworld", bodyIncludes: probeMarker, mode: "timeout", delayMs: 20_000 });
    const probe = speakVia(probeMarker);
    await until(
      () => requestsTo("inworld", probeMarker),
      (r) => r.length === 1,
    );
    const marker = nonce();
    const other = await speakVia(marker);
    expect(other.headers.get("x-provider-attempts")).toBe("inworld=skipped, cartesia=200");
    await other.arrayBuffer();
    expect(await requestsTo("inworld", marker)).toHaveLength(0);
    const probed = await probe;
    expect(probed.headers.get("x-provider-attempts")).toBe("inworld=timeout, cartesia=200");
    await probed.arrayBuffer();
  });

  it("a provider alone in its chain is always tried, open breaker or not", async () => {
    const user = await userOn("pro");
    const res = await call("/v1/synthesize", { method: "POST", headers: auth(user.jwt), json: { provider: "fishaudio", text: "alone" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("fishaudio=200");
    await res.arrayBuffer();
  });
});
