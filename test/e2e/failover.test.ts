// Failover (issue 15) through a real `wrangler dev`: primary 503 → the secondary serves and only it is
// charged; a 400 is not retried; a stream cut after it started is reported in-band; the breaker opens
// after repeated failures and closes after its cool-down (BREAKER_FAILURES=3, BREAKER_COOLDOWN_MS=1500 here).
import { beforeEach, describe, expect, it } from "vitest";
import { ttsCostMc } from "../../src/metering/prices";
import { bearer, call, mock, payingUser, settled, upstream } from "./client";

beforeEach(async () => {
  await mock("/reset", { method: "POST" });
});

const usage = async (jwt: string) => (await (await call("/v1/usage", { headers: bearer(jwt) })).json()) as any;
const fail = (provider: string, status: number, times = 1) =>
  mock("/fault", { method: "POST", json: { provider, mode: "error", status, times } });

describe("failover through wrangler dev", () => {
  it("primary 503 → the secondary serves; X-Provider-Used/Attempts; credits = the secondary's price only", async () => {
    const u = await payingUser("pro");
    await fail("elevenlabs", 503);
    const res = await call("/v1/synthesize", {
      method: "POST",
      headers: bearer(u.jwt),
      json: { provider: "elevenlabs", text: "fail over", fallback: ["cartesia"] },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-used")).toBe("cartesia");
    expect(res.headers.get("x-provider-attempts")).toBe("elevenlabs=503, cartesia=200");
    await res.arrayBuffer();
    const price = (ttsCostMc("cartesia", 9, false) ?? 0) / 1000;
    const after = await settled(
      () => usage(u.jwt),
      (x) => x.credits.used === price,
    );
    expect(after.credits.used).toBe(price);
    expect(after.requestCount).toBe(1);
  });

  it("primary 400 → no fallback", async () => {
    const u = await payingUser("pro");
    await fail("elevenlabs", 400);
    const res = await call("/v1/synthesize", {
      method: "POST",
      headers: bearer(u.jwt),
      json: { provider: "elevenlabs", text: "no", fallback: ["cartesia"] },
    });
    expect(res.status).toBe(502);
    expect(res.headers.get("x-provider-attempts")).toBe("elevenlabs=400");
    expect(await upstream("cartesia")).toHaveLength(0);
  });

  it("a primary cut mid-stream: the error is reported in-band, the fallback never called", async () => {
    const u = await payingUser("pro");
    await mock("/fault", { method: "POST", json: { provider: "openai", mode: "truncate", afterChunks: 3 } });
    const res = await call("/v1/chat", {
      method: "POST",
      headers: bearer(u.jwt),
      json: {
        provider: "openai",
        model: "gpt-4.1-mini",
        stream: true,
        messages: [{ role: "user", content: "a b c d e f" }],
        fallback: ["anthropic"],
      },
    });
    const text = await res.text().catch(() => "");
    if (res.status === 200) expect(text).toContain('"type":"error"');
    expect(text).not.toContain('"type":"done"');
    expect(await upstream("anthropic")).toHaveLength(0);
  });

  it("the breaker opens after 3 failures and skips the provider, then closes after the cool-down", async () => {
    const u = await payingUser("pro");
    const speak = () =>
      call("/v1/synthesize", {
        method: "POST",
        headers: bearer(u.jwt),
        json: { provider: "deepgram", text: "breaker", fallback: ["cartesia"] },
      });
    await fail("deepgram", 500, 3);
    for (let i = 0; i < 3; i++) await (await speak()).arrayBuffer();
    const skipped = await speak();
    expect(skipped.headers.get("x-provider-attempts")).toBe("deepgram=skipped, cartesia=200");
    await skipped.arrayBuffer();
    await new Promise((r) => setTimeout(r, 1_700));
    const probe = await speak();
    expect(probe.headers.get("x-provider-attempts")).toBe("deepgram=200");
    await probe.arrayBuffer();
  });

  it("/v1/chat/completions with models fails over", async () => {
    const u = await payingUser("pro");
    await fail("groq", 503);
    const res = await call("/v1/chat/completions", {
      method: "POST",
      headers: bearer(u.key),
      json: {
        model: "groq/meta-llama/llama-4-scout-17b-16e-instruct",
        models: ["anthropic/claude-3-5-haiku-latest"],
        messages: [{ role: "user", content: "hi" }],
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-used")).toBe("anthropic");
  });
});
