// A chat the provider answers 200 but not with an answer (API.md §4.2, §8): a body that is not JSON or not
// a chat answer, a stream whose first event is an error (Anthropic's `event: error` after message_start and
// ping, OpenAI-style `data: {"error":…}`) or that ends before its first token. Nothing reached the client:
// a provider failure — refunded, counted by the breaker, failed over, else 502 with the provider's message.
import { describe, expect, it } from "vitest";
import { openai } from "../../src/providers/openai";
import { env } from "../helpers/env";
import { call, fault, ledgerOf, sleep, until, userOn } from "../helpers/reliability";

const auth = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const nonce = () => `n${crypto.randomUUID().replaceAll("-", "")}`;
const HAIKU = "claude-3-5-haiku-latest";
const GROQ_MODEL = "meta-llama/llama-4-scout-17b-16e-instruct";
const HF_MODEL = "meta-llama/llama-4-scout";

async function requestsTo(provider: string, marker: string): Promise<any[]> {
  const all = (await (await fetch(`${env.TEST_MOCK_ORIGIN}/__control/requests?provider=${provider}`)).json()) as any[];
  return all.filter((r) => JSON.stringify(r.body ?? "").includes(marker));
}

const chat = (jwt: string, json: Record<string, unknown>) => call("/v1/chat", { method: "POST", headers: auth(jwt), json });

function events(text: string): any[] {
  return text
    .split("\n\n")
    .filter((b) => b.startsWith("data: "))
    .map((b) => JSON.parse(b.slice(6)));
}

/** The ledger once nothing is reserved any more and `check` holds. */
const settled = (userId: string, check: (l: { usedMc: number; requestCount: number }) => boolean) =>
  until(
    () => ledgerOf(userId),
    (l) => l.reservedMc === 0 && check(l),
  );

describe("a non-streamed chat answered 200 with something that is not an answer", () => {
  it("a body that is not JSON fails over to the next provider; only the one that served is charged", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "invalid_json" });
    const res = await chat(user.jwt, {
      provider: "openai",
      model: "gpt-4.1-mini",
      messages: [{ role: "user", content: marker }],
      fallback: [{ provider: "anthropic", model: HAIKU }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-used")).toBe("anthropic");
    expect(res.headers.get("x-provider-attempts")).toBe("openai=502, anthropic=200");
    expect(((await res.json()) as any).message.content).toBe(`Echo: ${marker}`);
    const costMc = Math.round(Number(res.headers.get("x-usage-cost")) * 1000);
    expect(costMc).toBeGreaterThan(0);
    const ledger = await settled(user.id, (l) => l.usedMc === costMc);
    expect(ledger.usedMc).toBe(costMc); // openai's reservation was refunded
    expect(ledger.requestCount).toBe(1);
  });

  it("JSON that is not a chat answer (an error object under a 200) fails over too", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "groq", bodyIncludes: marker, mode: "unexpected_json" });
    const res = await chat(user.jwt, {
      provider: "groq",
      model: GROQ_MODEL,
      messages: [{ role: "user", content: marker }],
      fallback: [{ provider: "openai", model: "gpt-4.1-mini" }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("groq=502, openai=200");
  });

  it("with no provider left: 502 provider_error naming the provider, refunded in full (guard)", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "unexpected_json" });
    const res = await chat(user.jwt, { provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: marker }] });
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("provider_error");
    expect(body.error.provider).toBe("openai");
    expect(res.headers.get("x-provider-attempts")).toBe("openai=502");
    const ledger = await settled(user.id, (l) => l.usedMc === 0);
    expect([ledger.usedMc, ledger.requestCount]).toEqual([0, 0]);
  });

  it("counts as a failure for the circuit breaker: after BREAKER_FAILURES of them the provider is skipped", async () => {
    const user = await userOn("pro");
    // Hugging Face has no platform key in the tests: the caller's own (BYOK).
    const ask = (marker: string) =>
      call("/v1/chat", {
        method: "POST",
        headers: { ...auth(user.jwt), "x-provider-key-huggingface": "hf_caller" },
        json: { provider: "huggingface", model: HF_MODEL, messages: [{ role: "user", content: marker }], fallback: ["openai"] },
      });
    for (let i = 0; i < Number(env.BREAKER_FAILURES ?? 5); i++) {
      const marker = nonce();
      await fault({ provider: "huggingface", bodyIncludes: marker, mode: "invalid_json" });
      const res = await ask(marker);
      expect(res.headers.get("x-provider-attempts")).toBe("huggingface=502, openai=200");
      await res.arrayBuffer();
    }
    const marker = nonce();
    const skipped = await ask(marker);
    expect(skipped.headers.get("x-provider-attempts")).toBe("huggingface=skipped, openai=200");
    await skipped.arrayBuffer();
    expect(await requestsTo("huggingface", marker)).toHaveLength(0);
    // Leave it closed for whoever comes next: after the cool-down a probe that succeeds closes it.
    await sleep(Number(env.BREAKER_COOLDOWN_MS ?? 30_000) + 50);
    const probe = await ask(nonce());
    expect(probe.headers.get("x-provider-attempts")).toBe("huggingface=200");
    await probe.arrayBuffer();
  });
});

describe("a streamed chat that fails before its first token", () => {
  it("Anthropic's event: error (overloaded_error) as its first event → the next provider serves the stream", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "anthropic", bodyIncludes: marker, mode: "stream_error", afterChunks: 0, status: 529, message: "Overloaded" });
    const res = await chat(user.jwt, {
      provider: "anthropic",
      model: HAIKU,
      stream: true,
      messages: [{ role: "user", content: `${marker} a b` }],
      fallback: [{ provider: "openai", model: "gpt-4.1-mini" }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-used")).toBe("openai");
    expect(res.headers.get("x-provider-attempts")).toBe("anthropic=502, openai=200");
    const got = events(await res.text());
    expect(
      got
        .filter((e) => e.type === "delta")
        .map((e) => e.text)
        .join(""),
    ).toBe(`Echo: ${marker} a b`);
    expect(got.at(-1)?.type).toBe("done");
    expect(got.some((e) => e.type === "error")).toBe(false);
    const costMc = Math.round(got.at(-1).cost * 1000);
    const ledger = await settled(user.id, (l) => l.usedMc === costMc && l.requestCount === 1);
    expect([ledger.usedMc, ledger.requestCount]).toEqual([costMc, 1]); // anthropic's reservation was refunded
  });

  it("Anthropic's error after message_start, content_block_start and ping (no content yet): 502 with its message, refunded", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    // The message carries the platform key: redacted in the 502 as in any provider text.
    const message = "Overloaded (platform-anthropic-key)";
    await fault({ provider: "anthropic", bodyIncludes: marker, mode: "stream_error", afterChunks: 3, status: 529, message });
    const res = await chat(user.jwt, { provider: "anthropic", model: HAIKU, stream: true, messages: [{ role: "user", content: marker }] });
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toContain("application/json");
    const text = await res.text();
    expect(text).not.toContain("platform-anthropic-key");
    const body = JSON.parse(text);
    expect(body.error.code).toBe("provider_error");
    expect(body.error.provider).toBe("anthropic");
    expect(body.error.providerMessage).toMatch(/^Overloaded/);
    expect(body.error.message).toContain("Overloaded");
    expect(res.headers.get("x-provider-attempts")).toBe("anthropic=502");
    const ledger = await settled(user.id, (l) => l.usedMc === 0);
    expect([ledger.usedMc, ledger.requestCount]).toEqual([0, 0]);
  });

  it('OpenAI-compatible data: {"error":…} after the role chunk → fails over (Groq → Anthropic)', async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "groq", bodyIncludes: marker, mode: "stream_error", afterChunks: 1, message: "internal error" });
    const res = await chat(user.jwt, {
      provider: "groq",
      model: GROQ_MODEL,
      stream: true,
      messages: [{ role: "user", content: marker }],
      fallback: [{ provider: "anthropic", model: HAIKU }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("groq=502, anthropic=200");
    expect(events(await res.text()).at(-1)?.type).toBe("done");
  });

  it("/v1/chat/completions: an error before the first token is a 502 in OpenAI's error shape, not a 200", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "stream_error", afterChunks: 1, message: "The server had an error" });
    const res = await call("/v1/chat/completions", {
      method: "POST",
      headers: auth(user.jwt),
      json: { model: "openai/gpt-4.1-mini", stream: true, messages: [{ role: "user", content: marker }] },
    });
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.error.message).toContain("The server had an error");
  });

  it("a stream that ends before its first token fails over (nothing was delivered)", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "truncate", afterChunks: 1 });
    const res = await chat(user.jwt, {
      provider: "openai",
      model: "gpt-4.1-mini",
      stream: true,
      messages: [{ role: "user", content: marker }],
      fallback: [{ provider: "anthropic", model: HAIKU }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("openai=502, anthropic=200");
    expect(events(await res.text()).at(-1)?.type).toBe("done");
  });

  it("headers and then silence before the first token: answered at PROVIDER_TIMEOUT_MS (a model may think long), the tokens when they come", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    const timeoutMs = Number(env.PROVIDER_TIMEOUT_MS);
    // OpenAI's role chunk at once (headers sent, no token), the rest after the time-to-first-byte limit.
    await fault({ provider: "openai", bodyIncludes: marker, mode: "slow", afterChunks: 1, delayMs: timeoutMs + 3_000 });
    const started = Date.now();
    const res = await chat(user.jwt, {
      provider: "openai",
      model: "gpt-4.1-mini",
      stream: true,
      messages: [{ role: "user", content: `${marker} a b` }],
      fallback: [{ provider: "anthropic", model: HAIKU }],
    });
    // The headers came at the limit, before the first token: the client was not left without an answer.
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(timeoutMs + 2_000);
    expect(res.headers.get("x-provider-attempts")).toBe("openai=200");
    const got = events(await res.text());
    expect(got[0]).toMatchObject({ type: "delta" });
    expect(got.at(-1)).toMatchObject({ type: "done" });
    expect(await requestsTo("anthropic", marker)).toHaveLength(0);
    const ledger = await settled(user.id, (l) => l.usedMc === Math.round(got.at(-1).cost * 1000));
    expect(ledger.requestCount).toBe(1);
  });

  it("after its first token an error stays in band: no failover once something was delivered (guard)", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    // message_start, content_block_start, ping, the first text delta: then the error.
    await fault({ provider: "anthropic", bodyIncludes: marker, mode: "stream_error", afterChunks: 4, status: 529, message: "Overloaded" });
    const res = await chat(user.jwt, {
      provider: "anthropic",
      model: HAIKU,
      stream: true,
      messages: [{ role: "user", content: `${marker} a b` }],
      fallback: ["openai"],
    });
    expect(res.status).toBe(200);
    const got = events(await res.text());
    expect(got[0]).toEqual({ type: "delta", text: "Echo:" });
    expect(got.at(-1)).toMatchObject({ type: "error", error: { code: "provider_error", message: "Overloaded" } });
    expect(await requestsTo("openai", marker)).toHaveLength(0);
  });

  it("the answer starts with the first token, and the rest is not held back: only the first token is waited for (guard)", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    // OpenAI's role chunk and first word at once, the rest 1.5 s later.
    await fault({ provider: "openai", bodyIncludes: marker, mode: "slow", afterChunks: 2, delayMs: 1500 });
    const started = Date.now();
    const res = await chat(user.jwt, {
      provider: "openai",
      model: "gpt-4.1-mini",
      stream: true,
      messages: [{ role: "user", content: `${marker} a b` }],
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(events(new TextDecoder().decode(first.value))).toEqual([{ type: "delta", text: "Echo:" }]);
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(events(rest).at(-1)?.type).toBe("done");
  });
});

describe("a refusal is an answer, not a provider failure (guard for the 2xx-non-answer rule)", () => {
  it("OpenAI's content null with its refusal text (OpenAPI: content and refusal both nullable) is the answer's text", () => {
    const answer = {
      choices: [{ index: 0, message: { role: "assistant", content: null, refusal: "I can't help with that." }, finish_reason: "stop" }],
      usage: { prompt_tokens: 9, completion_tokens: 7 },
    };
    // (Marked a refusal: the OpenAI-compatible answer gives it back as `refusal`, content null.)
    expect(openai.llm!.parse(answer)).toEqual({
      content: "I can't help with that.",
      usage: { inputTokens: 9, outputTokens: 7 },
      finishReason: "stop",
      refusal: true,
    });
    // What still is no answer: no message at all (an error under a 200).
    expect(() => openai.llm!.parse({ error: { message: "upstream failed" } })).toThrow();
  });

  it("a streamed refusal's deltas are the answer's text (the stream does not end with no token)", () => {
    const read = (delta: Record<string, unknown>) =>
      openai.llm!.readStreamEvent(undefined, JSON.stringify({ choices: [{ index: 0, delta, finish_reason: null }] }));
    expect(read({ role: "assistant", content: null, refusal: "" })).toEqual({ delta: undefined, usage: undefined });
    expect(read({ refusal: "I can't" })).toEqual({ delta: "I can't", usage: undefined });
    expect(read({ content: "Echo" })).toEqual({ delta: "Echo", usage: undefined });
  });
});
