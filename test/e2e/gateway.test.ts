// End to end through a real `wrangler dev`: keys, every provider × operation against its mock,
// key precedence, streaming, failures and metering — from outside, as a client sees it.
import { beforeEach, describe, expect, it } from "vitest";
import { CHAT_CASES, expectCaseAudio, readSse, STT_CASES, TTS_CASES } from "../helpers/provider-cases";
// @ts-expect-error plain JS module shared with the mock server
import { mockDurationSeconds, mockTranscriptFor } from "../mocks/audio.mjs";
import { bearer, call, jwtFor, mock, payingUser, settled, upstream } from "./client";

beforeEach(async () => {
  await mock("/reset", { method: "POST" });
});

const usage = async (jwt: string) => (await (await call("/v1/usage", { headers: bearer(jwt) })).json()) as any;

describe("API keys through wrangler dev", () => {
  it("create → use → rotate → revoke, with 401 on the very next request", async () => {
    const u = await payingUser("pro");
    expect((await call("/v1/me", { headers: { "x-api-key": u.key } })).status).toBe(200);
    const rot = (await (await call(`/v1/keys/${u.keyId}/rotate`, { method: "POST", headers: bearer(u.jwt) })).json()) as any;
    expect((await call("/v1/me", { headers: bearer(u.key) })).status).toBe(401);
    expect((await call("/v1/me", { headers: bearer(rot.key) })).status).toBe(200);
    expect((await call(`/v1/keys/${rot.apiKey.id}`, { method: "DELETE", headers: bearer(u.jwt) })).status).toBe(200);
    expect((await call("/v1/me", { headers: bearer(rot.key) })).status).toBe(401);
  });

  it("12 concurrent creates: exactly 10 succeed", async () => {
    const u = await payingUser("pro");
    await call(`/v1/keys/${u.keyId}`, { method: "DELETE", headers: bearer(u.jwt) });
    const res = await Promise.all(Array.from({ length: 12 }, () => call("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: {} })));
    expect(res.filter((r) => r.status === 201)).toHaveLength(10);
    expect(res.filter((r) => r.status === 409)).toHaveLength(2);
  });

  it("free users may not create keys; admin routes take only an admin JWT", async () => {
    const jwt = await jwtFor(`e2e-free-${Date.now()}`);
    const me = (await (await call("/v1/me", { headers: bearer(jwt) })).json()) as any;
    expect((await call("/v1/keys", { method: "POST", headers: bearer(jwt), json: {} })).status).toBe(403);
    expect((await call(`/api/admin/users/${me.user.id}`, { headers: bearer(jwt) })).status).toBe(403);
    const u = await payingUser("pro");
    expect((await call(`/api/admin/users/${me.user.id}`, { headers: bearer(u.key) })).status).toBe(403);
    expect((await call(`/api/admin/users/${me.user.id}`, { headers: bearer(await jwtFor("ops", "admin")) })).status).toBe(200);
    expect((await call(`/api/admin/users/${me.user.id}`)).status).toBe(401);
  });
});

describe("every provider and operation against its mock", () => {
  for (const c of TTS_CASES) {
    it(`synthesize: ${c.provider} ${c.format}`, async () => {
      const u = await payingUser("scale");
      const text = `End to end ${c.provider} ${c.format}`;
      const res = await call("/v1/synthesize", {
        method: "POST",
        headers: { ...bearer(u.key), ...(c.byok ? { "x-provider-key-openai": "byok-openai-key" } : {}) },
        json: { provider: c.provider, text, format: c.format, sampleRate: c.sampleRate },
      });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(res.headers.get("x-provider-used")).toBe(c.provider);
      expectCaseAudio(c, new Uint8Array(await res.arrayBuffer()), text);
      const [req] = await upstream(c.provider);
      expect(req.path).toMatch(c.upstreamPath);
      expect(req.headers[c.auth[0]]).toBe(c.auth[1]);
      expect(req.specErrors).toEqual([]);
      expect(JSON.stringify(req.body)).toContain(text);
    });
  }

  for (const c of STT_CASES) {
    it(`transcribe: ${c.provider}`, async () => {
      const u = await payingUser("scale");
      const form = new FormData();
      form.append("file", new File([new Uint8Array(8000)], "clip.wav", { type: "audio/wav" }));
      form.append("provider", c.provider);
      const res = await call("/v1/transcribe", { method: "POST", headers: bearer(u.key), body: form });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(await res.json()).toMatchObject({
        success: true,
        text: mockTranscriptFor(8000),
        durationSeconds: mockDurationSeconds(8000),
        provider: c.provider,
      });
      const [req] = await upstream(c.provider);
      expect(req.path).toMatch(c.path);
      expect(req.headers[c.auth[0]]).toBe(c.auth[1]);
      expect(req.specErrors).toEqual([]);
    });
  }

  for (const c of CHAT_CASES) {
    it(`chat: ${c.provider}, plain and streamed`, async () => {
      const u = await payingUser("scale");
      const headers = { ...bearer(u.key), "x-provider-key-huggingface": "byok-hf-key" };
      const plain = await call("/v1/chat", {
        method: "POST",
        headers,
        json: { provider: c.provider, model: c.model, messages: [{ role: "user", content: "hi there" }] },
      });
      expect(plain.status, await plain.clone().text()).toBe(200);
      expect(((await plain.json()) as any).message.content).toBe("Echo: hi there");
      const streamed = await call("/v1/chat", {
        method: "POST",
        headers,
        json: { provider: c.provider, model: c.model, messages: [{ role: "user", content: "hi there" }], stream: true },
      });
      const events = await readSse(streamed);
      expect(
        events
          .filter((e) => e.type === "delta")
          .map((e) => e.text)
          .join(""),
      ).toBe("Echo: hi there");
      expect(events.at(-1)).toMatchObject({ type: "done", usage: { outputTokens: 3 } });
      const reqs = await upstream(c.provider);
      expect(reqs).toHaveLength(2);
      for (const r of reqs) {
        expect(r.headers[c.auth[0]]).toBe(c.auth[1]);
        expect(r.specErrors).toEqual([]);
        expect(r.body.model).toBe(c.model);
      }
    });
  }
});

describe("keys, streaming and failures", () => {
  it("BYOK, stored and platform keys; verify valid and invalid", async () => {
    const u = await payingUser("pro");
    const synth = (h: Record<string, string> = {}) =>
      call("/v1/synthesize", { method: "POST", headers: { ...bearer(u.key), ...h }, json: { provider: "deepgram", text: "precedence" } });
    expect((await synth()).headers.get("x-usage-bypassed")).toBe("false");
    await call("/v1/provider-keys", { method: "POST", headers: bearer(u.key), json: { provider: "deepgram", apiKey: "stored-deepgram" } });
    expect((await synth()).headers.get("x-usage-bypassed")).toBe("true");
    expect((await synth({ "X-Provider-Key-Deepgram": "byok-deepgram" })).headers.get("x-usage-bypassed")).toBe("true");
    const auths = (await upstream("deepgram")).map((r) => r.headers.authorization);
    expect(auths).toEqual(["Token platform-deepgram-key", "Token stored-deepgram", "Token byok-deepgram"]);
    const ok = (await (await call("/v1/provider-keys/deepgram/verify", { method: "POST", headers: bearer(u.key) })).json()) as any;
    expect(ok).toEqual({ success: true, provider: "deepgram", valid: true, status: 200 });
    await call("/v1/provider-keys", { method: "POST", headers: bearer(u.key), json: { provider: "deepgram", apiKey: "invalid-deepgram" } });
    const bad = (await (await call("/v1/provider-keys/deepgram/verify", { method: "POST", headers: bearer(u.key) })).json()) as any;
    expect(bad).toEqual({ success: true, provider: "deepgram", valid: false, status: 401 });
  });

  it("the first audio bytes reach the client while the mock still holds back the rest", async () => {
    const u = await payingUser("pro");
    await mock("/fault", { method: "POST", json: { provider: "elevenlabs", mode: "slow", delayMs: 1500 } });
    const t0 = Date.now();
    const res = await call("/v1/synthesize", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "elevenlabs", text: "first bytes" },
    });
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAt = Date.now() - t0;
    expect(first.value!.byteLength).toBeGreaterThan(0);
    expect(firstAt).toBeLessThan(1200);
    while (!(await reader.read()).done);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
  });

  it("a cut-short upstream stream is never a complete answer; speech that had started is charged, the chat cut before any delta is not", async () => {
    // workerd aborts the response (test/unit/gateway.test.ts sees the transport error); wrangler dev's
    // local proxy may turn that abort into an early end, so here: the audio is incomplete, the chat
    // stream carries an error event and no done event. Money (issue 12): the speech's audio had started,
    // so its text is charged (9 characters × 166 mc); the chat was cut before its first delta: nothing.
    const u = await payingUser("pro");
    await mock("/fault", { method: "POST", json: { provider: "elevenlabs", mode: "truncate" } });
    const res = await call("/v1/synthesize", {
      method: "POST",
      headers: bearer(u.jwt),
      json: { provider: "elevenlabs", text: "cut short" },
    });
    const bytes = await res.arrayBuffer().then(
      (b) => b.byteLength,
      () => -1,
    );
    expect(bytes).toBeLessThan(4096);
    await mock("/fault", { method: "POST", json: { provider: "openai", mode: "truncate" } });
    const chat = await call("/v1/chat", {
      method: "POST",
      headers: bearer(u.jwt),
      json: { provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: "one two three four" }], stream: true },
    });
    const text = await chat.text().catch(() => "");
    // Cut after the headers: the stream ends with the error event. Cut before them (a loaded machine
    // can see it that way): 502 — or 503 from wrangler dev's local proxy, which reports workerd dropping
    // the request when the upstream socket is reset ("worker restarted mid-request"). Never a done event.
    if (chat.status === 200) expect(text).toContain('"type":"error"');
    else expect([502, 503]).toContain(chat.status);
    expect(text).not.toContain('"type":"done"');
    const spoken = bytes > 0 ? 9 * 166 : 0; // a cut before the first chunk reached the gateway is a 502, refunded
    const after = await settled(
      () => usage(u.jwt),
      (x) => x.credits.used === spoken / 1000,
    );
    expect(after.credits).toEqual({ used: spoken / 1000, limit: 200_000, remaining: 200_000 - spoken / 1000 });
  });

  it("provider errors: 502 with its status, 504 on timeout, and nothing charged", async () => {
    const u = await payingUser("pro");
    await mock("/fault", { method: "POST", json: { provider: "groq", mode: "error", status: 429, retryAfter: 3 } });
    const limited = await call("/v1/chat", {
      method: "POST",
      headers: bearer(u.jwt),
      json: { provider: "groq", model: "meta-llama/llama-4-scout", messages: [{ role: "user", content: "x" }] },
    });
    expect(limited.status).toBe(502);
    expect(((await limited.json()) as any).error).toMatchObject({ code: "provider_error", providerStatus: 429 });
    await mock("/fault", { method: "POST", json: { provider: "groq", mode: "timeout", delayMs: 4000 } });
    const timeout = await call("/v1/chat", {
      method: "POST",
      headers: bearer(u.jwt),
      json: { provider: "groq", model: "meta-llama/llama-4-scout", messages: [{ role: "user", content: "x" }] },
    });
    expect(timeout.status).toBe(504);
    const after = await settled(
      () => usage(u.jwt),
      (x) => x.credits.remaining === 200_000,
    );
    expect(after.credits.used).toBe(0);
    expect(after.credits.remaining).toBe(200_000);
  });

  it("metered usage is exact and the headers agree with /v1/usage", async () => {
    const u = await payingUser("pro");
    const all = await Promise.all(
      Array.from({ length: 20 }, () =>
        call("/v1/synthesize", { method: "POST", headers: bearer(u.key), json: { provider: "fishaudio", text: "x".repeat(1000) } }).then(
          (r) => r.arrayBuffer().then(() => r),
        ),
      ),
    );
    expect(all.every((r) => r.status === 200)).toBe(true);
    const after = await settled(
      () => usage(u.jwt),
      (x) => x.requestCount === 20,
    );
    expect(after.credits.used).toBe(180); // 20 × 1,000 chars × 10/1000 credits × 0.9 (API key)
    const res = await call("/v1/me", { headers: bearer(u.key) });
    expect(res.headers.get("x-usage-current")).toBe("180");
    expect(res.headers.get("x-usage-remaining")).toBe(String(200_000 - 180));
    expect(res.headers.get("x-voxgate-storage")).toBe("d1=0, do=1, kv_read=0, kv_write=0");
  });
});
