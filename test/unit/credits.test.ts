// Credits and rate limits (issue: credits): exact under concurrency, cheap on the hot path.
import { createExecutionContext, createScheduledController, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { usageKvKey } from "../../src/metering/contract";
import {
  adminJwt,
  api,
  bearer,
  createKey,
  eventually,
  faultFor,
  jwtFor,
  marker,
  mockControl,
  newUser,
  storageCounts,
  uniqueSub,
  usageOf,
} from "../helpers/api";
import { env } from "../helpers/env";

beforeEach(async () => {
  await mockControl("/reset", { method: "POST" });
});

/** `n` characters, starting with `mark` when given (a mock fault's target). */
const text = (n: number, mark = "") => mark + "a".repeat(n - mark.length);
const synth = (auth: Record<string, string>, chars: number, provider = "elevenlabs", extra: Record<string, string> = {}, mark = "") =>
  api("/v1/synthesize", { method: "POST", headers: { ...auth, ...extra }, json: { provider, text: text(chars, mark) } });

async function drain(res: Response) {
  await res.arrayBuffer().catch(() => undefined);
  return res;
}

function period() {
  return new Date().toISOString().slice(0, 7);
}

describe("prices", () => {
  it("100 characters on ElevenLabs cost 16.6 credits with a JWT and 14.94 with an API key", async () => {
    const u = await newUser({ plan: "pro" });
    const { key } = await createKey(u.jwt);
    await drain(await synth(bearer(u.jwt), 100));
    let usage = await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 1,
    );
    expect(usage.credits.used).toBe(16.6);
    expect(usage.breakdown.tts).toBe(16.6);
    await drain(await synth(bearer(key), 100));
    usage = await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 2,
    );
    expect(usage.credits.used).toBe(31.54);
    expect(usage.credits.limit).toBe(200_000);
    expect(usage.credits.remaining).toBe(199_968.46);
  });

  it("STT is charged per second of audio, LLM per token, from the provider's real usage", async () => {
    const u = await newUser({ plan: "pro" });
    const form = new FormData();
    form.append("file", new File([new Uint8Array(30_000)], "a.wav", { type: "audio/wav" })); // mock: 30 s
    form.append("provider", "deepgram");
    expect((await api("/v1/transcribe", { method: "POST", headers: bearer(u.jwt), body: form })).status).toBe(200);
    let usage = await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 1,
    );
    expect(usage.breakdown.stt).toBe(4.5); // 9 credits/min × 0.5 min
    const res = await api("/v1/chat", {
      method: "POST",
      headers: bearer(u.jwt),
      json: { provider: "openai", model: "gpt-4.1", messages: [{ role: "user", content: "one two three" }] },
    });
    const body = (await res.json()) as any;
    usage = await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 2,
    );
    const expected = (body.usage.inputTokens * 4 + body.usage.outputTokens * 16) / 1000;
    expect(usage.breakdown.llm).toBe(expected);
  });

  it("a streamed LLM response is charged from its final usage", async () => {
    const u = await newUser({ plan: "pro" });
    const res = await api("/v1/chat", {
      method: "POST",
      headers: bearer(u.jwt),
      json: {
        provider: "anthropic",
        model: "claude-sonnet-4-20250514",
        messages: [{ role: "user", content: "stream me please" }],
        stream: true,
        maxTokens: 1000,
      },
    });
    const events = (await res.text())
      .split("\n\n")
      .filter(Boolean)
      .map((b) => JSON.parse(b.slice(6)));
    const done = events.at(-1);
    expect(done.type).toBe("done");
    const usage = await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 1,
    );
    expect(usage.breakdown.llm).toBe((done.usage.inputTokens * 6 + done.usage.outputTokens * 30) / 1000);
    expect(done.usage.outputTokens).toBe(4);
  });

  it("a metered request for a model with no price: 400 model_not_priced; with BYOK any model goes", async () => {
    const u = await newUser({ plan: "pro" });
    const json = { provider: "openai", model: "o9-experimental", messages: [{ role: "user", content: "x" }] };
    const res = await api("/v1/chat", { method: "POST", headers: bearer(u.jwt), json });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("model_not_priced");
    const byok = await api("/v1/chat", { method: "POST", headers: { ...bearer(u.jwt), "x-provider-key-openai": "mine" }, json });
    expect(byok.status).toBe(200);
    expect(byok.headers.get("x-usage-bypassed")).toBe("true");
  });
});

describe("the ledger under concurrency", () => {
  it("200 concurrent metered requests: ledger, KV and /v1/usage equal the exact sum", async () => {
    const u = await newUser({ plan: "scale" });
    const { key } = await createKey(u.jwt);
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        synth(bearer(key), 100).then(async (r) => ({
          status: r.status,
          text: r.status === 200 ? await drain(r).then(() => "") : await r.text(),
        })),
      ),
    );
    // On a loaded machine a provider call may pass PROVIDER_TIMEOUT_MS (2 s in tests): that one is a 504,
    // refunded in full. Everything else is served, and the books equal exactly what was served.
    const bad = results.filter((r) => r.status !== 200 && !(r.status === 504 && r.text.includes("provider_timeout")));
    expect(
      bad.map((r) => r.status),
      JSON.stringify(bad.slice(0, 2)),
    ).toEqual([]);
    const served = results.filter((r) => r.status === 200).length;
    expect(served).toBeGreaterThan(0);
    const usage = await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === served && b.credits.used === (served * 14_940) / 1000,
      15_000,
    );
    expect(usage.requestCount).toBe(served);
    expect(usage.credits.used).toBe((served * 14_940) / 1000); // 14.94 each
    expect(usage.breakdown).toEqual({ tts: (served * 14_940) / 1000, stt: 0, llm: 0 });
    const stub = env.ACCOUNT.getByName(u.id);
    const snap = await stub.summary(u.id);
    expect(snap.usedMc).toBe(served * 14_940);
    expect(snap.reservedMc).toBe(0);
    await runDurableObjectAlarm(stub);
    const kv = JSON.parse((await env.USAGE.get(usageKvKey(u.id, period())))!);
    expect(kv.usedMc).toBe(served * 14_940);
    expect(kv.requestCount).toBe(served);
  });

  it("near the limit: never spends past it, and the 402s charge nothing", async () => {
    const u = await newUser(); // free: 2,500 credits; 1,000 characters on ElevenLabs = 166 credits (JWT: full price)
    const results = await Promise.all(Array.from({ length: 20 }, () => synth(bearer(u.jwt), 1000).then(drain)));
    const ok = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 402);
    expect(ok).toBe(15);
    expect(refused).toHaveLength(5);
    expect(((await refused[0]!.json().catch(() => ({ error: { code: "insufficient_credits" } }))) as any).error.code).toBe(
      "insufficient_credits",
    );
    const usage = await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 15,
    );
    expect(usage.credits.used).toBe(2490);
    expect(usage.credits.remaining).toBe(10);
    const upstream = await (await mockControl("/requests?provider=elevenlabs")).json();
    expect((upstream as any[]).length).toBe(15);
  });

  it("PAYG credits are spent after the month's plan credits", async () => {
    const u = await newUser({ paygCredits: 200 }); // free plan 2,500 + PAYG 200
    for (let i = 0; i < 16; i++) expect((await drain(await synth(bearer(u.jwt), 1000))).status).toBe(200);
    await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 16,
    );
    const me = (await (await api("/v1/me", { headers: bearer(u.jwt) })).json()) as any;
    // 16 × 166 = 2,656: 2,500 from the plan, 156 from PAYG → 44 left.
    expect(me.user.paygCredits).toBe(44);
    const usage = await usageOf(u.jwt);
    expect(usage.credits).toEqual({ used: 2656, limit: 2500, remaining: 44 });
    const refused = await synth(bearer(u.jwt), 1000);
    expect(refused.status).toBe(402);
  });

  it("a provider failure before any audio refunds in full; audio that had started is charged in full", async () => {
    const u = await newUser({ plan: "pro" });
    const failing = marker();
    await faultFor(failing, { provider: "elevenlabs", mode: "error", status: 500 });
    const res = await synth(bearer(u.jwt), 500, "elevenlabs", {}, failing);
    expect(res.status).toBe(502);
    // Refunds run after the response: wait for them, then nothing is charged and nothing reserved.
    const refunded = await eventually(
      () => env.ACCOUNT.getByName(u.id).summary(u.id),
      (s) => s.reservedMc === 0 && s.usedMc === 0,
    );
    expect(refunded.usedMc).toBe(0);
    expect(refunded.requestCount).toBe(0);
    expect((await usageOf(u.jwt)).credits.used).toBe(0);
    // Cut after its first chunk: the client got audio, and the provider billed the text (issue 12).
    const cutting = marker();
    await faultFor(cutting, { provider: "elevenlabs", mode: "truncate" });
    const cut = await synth(bearer(u.jwt), 500, "elevenlabs", {}, cutting);
    expect(cut.status).toBe(200);
    await drain(cut);
    const snap = await eventually(
      () => env.ACCOUNT.getByName(u.id).summary(u.id),
      (s) => s.reservedMc === 0 && s.usedMc > 0,
    );
    expect(snap.reservedMc).toBe(0);
    expect(snap.usedMc).toBe(500 * 166);
    expect(snap.requestCount).toBe(1);
  });

  it("speech (exact cost) is charged at admission: visible at once, no settle call needed", async () => {
    const u = await newUser({ plan: "pro" });
    const res = await synth(bearer(u.jwt), 100);
    expect(res.headers.get("x-usage-current")).toBe("16.6");
    await drain(res);
    const usage = await usageOf(u.jwt); // no waiting: nothing is settled after the response
    expect(usage.credits.used).toBe(16.6);
    expect(usage.requestCount).toBe(1);
  });

  it("a failed synthesis paid partly from PAYG is refunded to exactly where it came from", async () => {
    const u = await newUser({ paygCredits: 100 }); // free: 2,500 plan credits
    for (let i = 0; i < 15; i++) await drain(await synth(bearer(u.jwt), 1000)); // 2,490 used, 10 plan credits left
    const failing = marker();
    await faultFor(failing, { provider: "elevenlabs", mode: "error", status: 500 });
    expect((await synth(bearer(u.jwt), 500, "elevenlabs", {}, failing)).status).toBe(502); // 83 credits: 10 from the plan, 73 from PAYG
    const snap = await eventually(
      () => env.ACCOUNT.getByName(u.id).summary(u.id),
      (x) => x.usedMc === 2_490_000,
    );
    expect(snap.usedMc).toBe(2_490_000);
    expect(snap.paygMc).toBe(100_000);
    expect(snap.requestCount).toBe(15);
    expect((await usageOf(u.jwt)).credits).toEqual({ used: 2490, limit: 2500, remaining: 110 });
  });

  it("a stream the client abandons is still settled", async () => {
    const u = await newUser({ plan: "pro" });
    const slow = marker();
    await faultFor(slow, { provider: "elevenlabs", mode: "slow", delayMs: 1000 });
    const res = await synth(bearer(u.jwt), 100, "elevenlabs", {}, slow);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    const snap = await eventually(
      () => env.ACCOUNT.getByName(u.id).summary(u.id),
      (s) => s.reservedMc === 0,
    );
    expect(snap.reservedMc).toBe(0);
    expect(snap.usedMc).toBe(16_600);
  });

  it("BYOK and stored-key requests are not metered", async () => {
    const u = await newUser({ plan: "pro" });
    const res = await drain(await synth(bearer(u.jwt), 100, "elevenlabs", { "x-provider-key-elevenlabs": "mine" }));
    expect(res.headers.get("x-usage-bypassed")).toBe("true");
    await api("/v1/provider-keys", { method: "POST", headers: bearer(u.jwt), json: { provider: "cartesia", apiKey: "stored-cartesia" } });
    await drain(await synth(bearer(u.jwt), 100, "cartesia"));
    const usage = await usageOf(u.jwt);
    expect(usage.credits.used).toBe(0);
  });
});

describe("plans", () => {
  it("an expired plan counts as free, and the scheduled job demotes it", async () => {
    const u = await newUser({ plan: "pro", planExpiresAt: new Date(Date.now() + 60_000).toISOString() });
    expect((await usageOf(u.jwt)).credits.limit).toBe(200_000);
    await env.DB.prepare("UPDATE users SET plan_expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1000, u.id)
      .run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env as any, ctx);
    await waitOnExecutionContext(ctx);
    const row = (await env.DB.prepare("SELECT plan FROM users WHERE id = ?").bind(u.id).first()) as any;
    expect(row.plan).toBe("free");
    const me = (await (await api("/v1/me", { headers: bearer(u.jwt) })).json()) as any;
    expect(me.user.plan).toBe("free");
    expect((await usageOf(u.jwt)).credits.limit).toBe(2500);
  });

  it("the expiry is also checked when it matters, before the job runs", async () => {
    const u = await newUser({ plan: "scale", planExpiresAt: new Date(Date.now() - 1000).toISOString() });
    const usage = await usageOf(u.jwt);
    expect(usage.credits.limit).toBe(2500);
    const res = await api("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: {} });
    expect(res.status).toBe(403);
  });

  it("admin credits are audited and land in the PAYG balance", async () => {
    const u = await newUser();
    const admin = await (await import("../helpers/api")).adminJwt();
    const res = await api(`/api/admin/users/${u.id}/credits`, {
      method: "POST",
      headers: bearer(admin),
      json: { amount: 12.5, reason: "goodwill" },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).user.paygCredits).toBe(12.5);
    const audit = await env.DB.prepare("SELECT * FROM credit_audit WHERE user_id = ?").bind(u.id).all();
    expect(audit.results.some((r: any) => r.reason === "goodwill" && r.amount_mc === 12_500)).toBe(true);
    const me = (await (await api("/v1/me", { headers: bearer(u.jwt) })).json()) as any;
    expect(me.user.paygCredits).toBe(12.5);
  });
});

describe("rate limits", () => {
  it("of N concurrent requests against a limit L exactly L pass; the rest 429 with a correct Retry-After", async () => {
    // A user never seen before (free: 30 a minute, per user for JWT requests), created by the burst itself.
    const jwt = await jwtFor(uniqueSub("burst"));
    const results = await Promise.all(Array.from({ length: 45 }, () => api("/v1/me", { headers: bearer(jwt) })));
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(30);
    expect(limited).toHaveLength(15);
    for (const r of limited) {
      // The window: the next request passes when the burst's first leaves the minute.
      const retryAfter = Number(r.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(55);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(r.headers.get("x-ratelimit-limit")).toBe("30");
      expect(r.headers.get("x-ratelimit-remaining")).toBe("0");
    }
    const body = (await limited[0]!.json()) as any;
    expect(body.error.code).toBe("rate_limited");
    const remaining = ok.map((r) => Number(r.headers.get("x-ratelimit-remaining"))).sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it("a plan change holds from the very next request: an upgrade lifts the limit, a downgrade lowers it, the requests already made still counted", async () => {
    const admin = bearer(await adminJwt());
    const setPlan = async (id: string, plan: string) =>
      expect((await api(`/api/admin/users/${id}`, { method: "PATCH", headers: admin, json: { plan } })).status).toBe(200);
    // free (30 a minute), all 30 used; then pro (300): 30 requests are 6 s of a 60 s window at pro's pace.
    // A user never seen before, created by the burst itself: nothing else was counted.
    const up = { jwt: await jwtFor(uniqueSub("upgrade")) };
    const first = await Promise.all(Array.from({ length: 30 }, () => api("/v1/me", { headers: bearer(up.jwt) })));
    for (const r of first) expect(r.status).toBe(200);
    const upId = ((await first[0]!.json()) as any).user.id as string;
    expect((await api("/v1/me", { headers: bearer(up.jwt) })).status).toBe(429);
    await setPlan(upId, "pro");
    const next = await Promise.all(Array.from({ length: 20 }, () => api("/v1/me", { headers: bearer(up.jwt) })));
    expect(next.filter((r) => r.status === 200)).toHaveLength(20);
    const left = Math.min(...next.map((r) => Number(r.headers.get("x-ratelimit-remaining"))));
    expect(next[0]!.headers.get("x-ratelimit-limit")).toBe("300");
    // 300 − 30 − 20: the free minute's requests still count in pro's window.
    expect(left).toBe(300 - 30 - 20);
    // pro, 100 requests this minute; then free: over its 30 at once — refused until the window has room.
    const down = await newUser({ plan: "pro" });
    const burst = await Promise.all(Array.from({ length: 100 }, () => api("/v1/me", { headers: bearer(down.jwt) })));
    expect(burst.filter((r) => r.status === 200)).toHaveLength(100);
    await setPlan(down.id, "free");
    const after = await api("/v1/me", { headers: bearer(down.jwt) });
    expect(after.status).toBe(429);
    expect(after.headers.get("x-ratelimit-limit")).toBe("30");
    expect(Number(after.headers.get("retry-after"))).toBeGreaterThanOrEqual(50);
    expect(Number(after.headers.get("retry-after"))).toBeLessThanOrEqual(60);
  });

  it("limits are per API key; rate-limited requests cost no credits", async () => {
    const u = await newUser({ plan: "starter" }); // 60 a minute
    const a = await createKey(u.jwt);
    const b = await createKey(u.jwt);
    const burst = await Promise.all(Array.from({ length: 70 }, () => synth(bearer(a.key), 10).then(drain)));
    // 60 admitted (a provider call past PROVIDER_TIMEOUT_MS on a loaded machine is a refunded 504).
    const served = burst.filter((r) => r.status === 200).length;
    expect(served + burst.filter((r) => r.status === 504).length).toBe(60);
    expect(burst.filter((r) => r.status === 429)).toHaveLength(10);
    expect((await api("/v1/me", { headers: bearer(b.key) })).status).toBe(200);
    const usage = await eventually(
      () => usageOf(u.jwt),
      (x) => x.requestCount === served,
    );
    expect(usage.requestCount).toBe(served);
    expect(usage.credits.used).toBe((served * 1494) / 1000);
  });
});

describe("headers and the hot path", () => {
  it("every authenticated /v1 response carries the usage and rate-limit headers, consistent with /v1/usage", async () => {
    const u = await newUser({ plan: "pro" });
    const { key } = await createKey(u.jwt);
    await drain(await synth(bearer(key), 100));
    await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 1,
    );
    const res = await api("/v1/usage", { headers: bearer(key) });
    const body = (await res.json()) as any;
    expect(res.headers.get("x-usage-current")).toBe(String(body.credits.used));
    expect(res.headers.get("x-usage-limit")).toBe(String(body.credits.limit));
    expect(res.headers.get("x-usage-remaining")).toBe(String(body.credits.remaining));
    expect(res.headers.get("x-usage-bypassed")).toBe("false");
    expect(res.headers.get("x-ratelimit-limit")).toBe("300");
    expect(Number(res.headers.get("x-ratelimit-remaining"))).toBeLessThan(300);
    const bad = await api("/v1/synthesize", { method: "POST", headers: bearer(key), json: { text: "" } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("x-ratelimit-limit")).toBe("300");
  });

  it("a metered request with a recently verified key: 0 D1 queries, 1 Durable Object call, 0 KV operations", async () => {
    const u = await newUser({ plan: "pro" });
    const { key } = await createKey(u.jwt);
    await api("/v1/me", { headers: bearer(key) });
    for (const res of [
      await synth(bearer(key), 100),
      await api("/v1/chat", {
        method: "POST",
        headers: bearer(key),
        json: { provider: "openai", model: "gpt-4.1-nano", messages: [{ role: "user", content: "hi" }] },
      }),
      await synth(bearer(key), 100, "elevenlabs", { "x-provider-key-elevenlabs": "mine" }),
    ]) {
      expect(res.status).toBe(200);
      expect(storageCounts(res)).toEqual({ d1: 0, do: 1, kv_read: 0, kv_write: 0 });
      await drain(res);
    }
  });
});
