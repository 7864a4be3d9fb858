// What the caller sends for a provider's key, and fallbacks this request cannot run on (API.md §4.2, §8):
// a BYOK header that holds no usable key is the caller's 400 before anything runs; a fallback with no key or
// no price drops out when its turn comes, so an outage is answered as the outage — never as the caller's 400.
import { describe, expect, it } from "vitest";
import { env } from "../helpers/env";
import { call, fault, ledgerOf, userOn } from "../helpers/reliability";

const auth = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const nonce = () => `n${crypto.randomUUID().replaceAll("-", "")}`;

async function requestsTo(provider: string, marker: string): Promise<any[]> {
  const all = (await (await fetch(`${env.TEST_MOCK_ORIGIN}/__control/requests?provider=${provider}`)).json()) as any[];
  return all.filter((r) => JSON.stringify(r.body ?? "").includes(marker));
}

const chat = (jwt: string, marker: string, extra: Record<string, unknown>, headers: Record<string, string> = {}) =>
  call("/v1/chat", {
    method: "POST",
    headers: { ...auth(jwt), ...headers },
    json: { provider: "groq", model: "llama-3.3-70b-versatile", messages: [{ role: "user", content: `hi ${marker}` }], ...extra },
  });

describe("a fallback this request cannot run on", () => {
  it("no key for it (Hugging Face has no platform key here): the primary's outage is the answer, 502 — not 400", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "groq", bodyIncludes: marker, mode: "error", status: 503 });
    const res = await chat(user.jwt, marker, { fallback: [{ provider: "huggingface", model: "meta-llama/Llama-3.1-8B-Instruct" }] });
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("provider_error");
    expect(body.error.providerStatus).toBe(503);
    expect(res.headers.get("x-provider-attempts")).toBe("groq=503");
    expect(await requestsTo("huggingface", marker)).toHaveLength(0);
    expect((await ledgerOf(user.id)).usedMc).toBe(0);
  });

  it("a model with no price on the platform key: dropped, the next fallback serves", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "groq", bodyIncludes: marker, mode: "error", status: 503 });
    const res = await chat(user.jwt, marker, {
      fallback: [
        { provider: "openai", model: "o3-pro-unpriced" },
        { provider: "openai", model: "gpt-4.1-mini" },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-used")).toBe("openai");
    expect(res.headers.get("x-provider-attempts")).toBe("groq=503, openai=200");
    await res.arrayBuffer();
  });

  it("the same fallbacks while the primary is up: it serves, as before", async () => {
    const user = await userOn("pro");
    const res = await chat(user.jwt, nonce(), { fallback: [{ provider: "openai", model: "o3-pro-unpriced" }] });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-used")).toBe("groq");
    await res.arrayBuffer();
  });
});

describe("a fallback entry with a model its provider cannot be asked for", () => {
  it("drops out before anything runs: the primary's outage is the answer, 502 — not a 400 blaming the caller (an audit)", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "cartesia", bodyIncludes: marker, mode: "error", status: 503 });
    const res = await call("/v1/synthesize", {
      method: "POST",
      headers: { ...auth(user.jwt), "x-provider-key-huggingface": "hf_byok-key-aaaaaaaa" },
      json: { provider: "cartesia", text: `say ${marker}`, fallback: [{ provider: "huggingface", model: "x/a/b" }] },
    });
    expect(res.status).toBe(502);
    expect(((await res.json()) as any).error).toMatchObject({ code: "provider_error", providerStatus: 503 });
    expect(res.headers.get("x-provider-attempts")).toBe("cartesia=503");
    expect(await requestsTo("huggingface", marker)).toHaveLength(0);
    expect((await ledgerOf(user.id)).usedMc).toBe(0);
  });

  it("the request's own model is the caller's 400 before anything runs, naming model", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    const own = await call("/v1/synthesize", {
      method: "POST",
      headers: { ...auth(user.jwt), "x-provider-key-huggingface": "hf_byok-key-aaaaaaaa" },
      json: { provider: "huggingface", model: "x/a/b", text: `say ${marker}` },
    });
    expect(own.status).toBe(400);
    expect(((await own.json()) as any).error.fields).toEqual([{ path: "model", message: expect.stringMatching(/not a model id/) }]);
    expect(await requestsTo("huggingface", marker)).toHaveLength(0);
  });

  it("an agent's stored chat fallback (a Hugging Face router model) does not break its speak (a change audit)", async () => {
    const user = await userOn("pro");
    const made = await call("/v1/agents", {
      method: "POST",
      headers: auth(user.jwt),
      json: {
        name: "a",
        ttsProvider: "elevenlabs",
        llmProvider: "openai",
        fallback: [{ provider: "huggingface", model: "openai/gpt-oss-120b:cerebras" }],
      },
    });
    expect(made.status).toBe(201);
    const { id } = ((await made.json()) as any).agent;
    const speak = await call(`/v1/agents/${id}/speak`, {
      method: "POST",
      headers: { ...auth(user.jwt), "x-provider-key-huggingface": "hf_byok-key-aaaaaaaa" },
      json: { text: "hello there" },
    });
    expect(speak.status, await speak.clone().text()).toBe(200);
    await speak.arrayBuffer();
  });
});

describe("a BYOK header that holds no usable key", () => {
  const cases: [string, string, RegExp][] = [
    ["empty", "", /is empty/],
    ["only spaces", "   ", /is empty/],
    ["two keys (the header sent twice)", "key-one-aaaaaaaa, key-two-bbbbbbbb", /more than one key/],
    ["a character no key has", "café-key-aaaaaaaa", /characters no provider key has/],
  ];
  for (const [what, value, message] of cases) {
    it(`${what}: 400 validation_failed naming the header; nothing runs, nothing charged`, async () => {
      const user = await userOn("pro");
      const marker = nonce();
      const res = await call("/v1/synthesize", {
        method: "POST",
        headers: { ...auth(user.jwt), "x-provider-key-elevenlabs": value },
        json: { provider: "elevenlabs", text: `say ${marker}` },
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as any;
      expect(body.error.code).toBe("validation_failed");
      expect(body.error.message).toMatch(message);
      expect(body.error.message).toContain("X-Provider-Key-ElevenLabs");
      expect(JSON.stringify(body)).not.toContain("key-one-aaaaaaaa");
      expect(await requestsTo("elevenlabs", marker)).toHaveLength(0);
      expect((await ledgerOf(user.id)).usedMc).toBe(0);
    });
  }

  it("a fallback's malformed header is refused before the primary runs", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    const res = await chat(user.jwt, marker, { fallback: ["openai"] }, { "x-provider-key-openai": "" });
    expect(res.status).toBe(400);
    expect(await requestsTo("groq", marker)).toHaveLength(0);
  });

  it("a well-formed key is still the caller's own (bypassed, not metered)", async () => {
    const user = await userOn("pro");
    const res = await call("/v1/synthesize", {
      method: "POST",
      headers: { ...auth(user.jwt), "x-provider-key-elevenlabs": "  caller-elevenlabs-key  " },
      json: { provider: "elevenlabs", text: "own key" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-usage-bypassed")).toBe("true");
    await res.arrayBuffer();
  });
});

describe("a fallback that is not a list of at most four", () => {
  it("a string is told it is no list (not that it has too many characters); five entries are too many", async () => {
    const user = await userOn("pro");
    const one = await chat(user.jwt, nonce(), { fallback: "cartesia" });
    expect(one.status).toBe(400);
    const said = JSON.stringify(((await one.json()) as any).error);
    expect(said).toMatch(/expected array/);
    expect(said).not.toMatch(/characters/);
    const five = await chat(user.jwt, nonce(), { fallback: ["openai", "anthropic", "groq", "huggingface", "openai"] });
    expect(five.status).toBe(400);
    expect(JSON.stringify(((await five.json()) as any).error)).toMatch(/<=4 items/);
    // The same on every route: a list given as a string.
    const messages = await call("/v1/chat", {
      method: "POST",
      headers: auth(user.jwt),
      json: { provider: "groq", model: "llama-3.3-70b-versatile", messages: "hi" },
    });
    expect(messages.status).toBe(400);
    const fields = ((await messages.json()) as any).error.fields;
    expect(fields).toEqual([{ path: "messages", message: expect.stringMatching(/expected array/) }]);
  });
});

describe("the circuit breaker and fallbacks", () => {
  const speak = (jwt: string, provider: string, text: string, fallback: unknown[], headers: Record<string, string> = {}) =>
    call("/v1/synthesize", { method: "POST", headers: { ...auth(jwt), ...headers }, json: { provider, text, fallback } });

  it("the primary's breaker open and its only fallback unusable: the primary is tried after all (was 400 provider_key_missing)", async () => {
    const user = await userOn("pro");
    // Open resembleai's breaker: failures that cartesia, as fallback, answers.
    for (let i = 0; i < Number(env.BREAKER_FAILURES ?? 5); i++) {
      const marker = nonce();
      await fault({ provider: "resembleai", bodyIncludes: marker, mode: "error", status: 503 });
      const res = await speak(user.jwt, "resembleai", marker, ["cartesia"]);
      expect(res.headers.get("x-provider-attempts")).toBe("resembleai=503, cartesia=200");
      await res.arrayBuffer();
    }
    const opened = await speak(user.jwt, "resembleai", nonce(), ["cartesia"]);
    expect(opened.headers.get("x-provider-attempts")).toBe("resembleai=skipped, cartesia=200");
    await opened.arrayBuffer();
    // Hugging Face has no platform key here: the request could run on resembleai alone.
    const marker = nonce();
    const res = await speak(user.jwt, "resembleai", marker, ["huggingface"]);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-used")).toBe("resembleai");
    expect(res.headers.get("x-provider-attempts")).toBe("resembleai=200");
    await res.arrayBuffer();
    expect(await requestsTo("resembleai", marker)).toHaveLength(1);
    // Its success closed the breaker again for whoever comes next.
    const closed = await speak(user.jwt, "resembleai", nonce(), ["cartesia"]);
    expect(closed.headers.get("x-provider-attempts")).toBe("resembleai=200");
    await closed.arrayBuffer();
  });

  it("a 429 on a caller's own key (its quota) does not open the breaker every user shares", async () => {
    const user = await userOn("pro");
    for (let i = 0; i <= Number(env.BREAKER_FAILURES ?? 5); i++) {
      const marker = nonce();
      await fault({ provider: "fishaudio", bodyIncludes: marker, mode: "error", status: 429 });
      const res = await speak(user.jwt, "fishaudio", marker, ["cartesia"], { "x-provider-key-fishaudio": "fish_callers_own_key_1234" });
      expect(res.headers.get("x-provider-attempts")).toBe("fishaudio=429, cartesia=200");
      await res.arrayBuffer();
    }
    const other = await userOn("pro");
    const marker = nonce();
    const res = await speak(other.jwt, "fishaudio", marker, ["cartesia"]);
    expect(res.headers.get("x-provider-attempts")).toBe("fishaudio=200");
    await res.arrayBuffer();
    expect(await requestsTo("fishaudio", marker)).toHaveLength(1);
  });
});
