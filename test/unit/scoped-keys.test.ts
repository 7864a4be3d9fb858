// Scoped keys (API.md §7.1): scopes, a provider allow-list, a monthly credit limit and a rate limit of
// their own — set at creation, shown in listings, kept by rotation, changed with PATCH — enforced by the
// Account object in the one admission call, the credit limit exactly under concurrency.
import { describe, expect, it } from "vitest";
import { chatBound } from "../../src/metering/estimates";
import { ttsCostMc } from "../../src/metering/prices";
import { RateWindow } from "../../src/ratelimit/window";
import { env } from "../helpers/env";
import { call, fault, inAccount, keyOf, until, userOn } from "../helpers/reliability";

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const ALL = ["tts", "stt", "llm", "realtime", "agents", "keys", "provider-keys", "webhooks"];

async function createKey(jwt: string, body: Record<string, unknown>) {
  const res = await call("/v1/keys", { method: "POST", headers: auth(jwt), json: body });
  return { status: res.status, body: (await res.json()) as any };
}

const speak = (key: string, provider: string, text = "Hello there.", extra: Record<string, string> = {}) =>
  call("/v1/synthesize", { method: "POST", headers: { ...auth(key), ...extra }, json: { provider, text } });
const chat = (key: string, provider = "openai") =>
  call("/v1/chat", {
    method: "POST",
    headers: auth(key),
    json: { provider, model: "gpt-4.1-mini", messages: [{ role: "user", content: "hi" }] },
  });

async function codeOf(res: Response): Promise<string> {
  return ((await res.json()) as any).error?.code;
}

describe("creating and showing scoped keys", () => {
  it("takes scopes, providers (aliases resolved), a monthly credit limit and a rate limit; the listing shows them", async () => {
    const u = await userOn("pro");
    const { status, body } = await createKey(u.jwt, {
      name: "demo",
      scopes: ["tts"],
      providers: ["fish-audio", "elevenlabs", "fishaudio"],
      monthlyCreditLimit: 12.5,
      requestsPerMinute: 20,
    });
    expect(status).toBe(201);
    expect(body.apiKey).toMatchObject({
      name: "demo",
      scopes: ["tts"],
      providers: ["fishaudio", "elevenlabs"],
      monthlyCreditLimit: 12.5,
      requestsPerMinute: 20,
    });
    const plain = await createKey(u.jwt, { name: "plain" });
    expect(plain.body.apiKey).toMatchObject({ scopes: ALL, providers: null, monthlyCreditLimit: null, requestsPerMinute: null });
    const list = ((await (await call("/v1/keys", { headers: auth(u.jwt) })).json()) as any).apiKeys;
    expect(list.find((k: any) => k.id === body.apiKey.id)).toEqual(body.apiKey);
  });

  it("refuses unknown scopes and providers, a rate above the plan's and more than 3 decimals (400, nothing created)", async () => {
    const u = await userOn("starter"); // 60 requests a minute
    for (const bad of [
      { scopes: ["tts", "admin"] },
      { scopes: [] },
      { scopes: ["tts", "tts"] },
      { providers: ["nobody"] },
      { requestsPerMinute: 61 },
      { requestsPerMinute: 0 },
      { monthlyCreditLimit: 1.0001 },
      { monthlyCreditLimit: -1 },
    ]) {
      const { status, body } = await createKey(u.jwt, bad);
      expect(status, JSON.stringify(bad)).toBe(400);
      expect(body.error.code, JSON.stringify(bad)).toBe("validation_failed");
    }
    expect(((await (await call("/v1/keys", { headers: auth(u.jwt) })).json()) as any).apiKeys).toEqual([]);
    expect((await createKey(u.jwt, { requestsPerMinute: 60 })).status).toBe(201);
  });
});

describe("enforced at admission", () => {
  it("a fallback outside the key's providers is refused before anything runs, healthy primary or not (was: 403 only once an outage reached it)", async () => {
    const u = await userOn("pro");
    const { body } = await createKey(u.jwt, { providers: ["openai"] });
    const key = body.key as string;
    const marker = `fb${crypto.randomUUID().replaceAll("-", "")}`;
    const messages = [{ role: "user", content: `hi ${marker}` }];
    for (const [path, json] of [
      [
        "/v1/chat",
        { provider: "openai", model: "gpt-4.1-mini", messages, fallback: [{ provider: "anthropic", model: "claude-sonnet-4" }] },
      ],
      ["/v1/chat/completions", { model: "openai/gpt-4.1-mini", models: ["anthropic/claude-sonnet-4-20250514"], messages }],
      ["/v1/synthesize", { provider: "openai", text: `hi ${marker}`, fallback: ["cartesia"] }],
    ] as const) {
      const res = await call(path, { method: "POST", headers: auth(key), json });
      const got = (await res.json()) as any;
      expect(res.status, `${path} ${JSON.stringify(got)}`).toBe(403);
      expect(got.error.code, path).toBe("scope_denied");
      expect(got.error.message, path).toContain("fallback chain");
    }
    const { upstreamRequests } = await import("../helpers/api");
    for (const p of ["openai", "anthropic", "cartesia"]) expect(JSON.stringify(await upstreamRequests(p))).not.toContain(marker);
    // A transcription's audioUrl is not even fetched (the mock records its stand-in URLs as provider "control").
    const audioUrl = `${env.TEST_MOCK_ORIGIN}/__control/redirect?to=${encodeURIComponent("/__control/tone")}&m=${marker}`;
    const stt = await call("/v1/transcribe", {
      method: "POST",
      headers: auth(key),
      json: { provider: "openai", audioUrl, fallback: ["deepgram"] },
    });
    expect(stt.status).toBe(403);
    expect(JSON.stringify(await upstreamRequests("control"))).not.toContain(marker);
    // Within its providers, a fallback is fine.
    const ok = await call("/v1/chat", {
      method: "POST",
      headers: auth(key),
      json: { provider: "openai", model: "gpt-4.1-mini", messages, fallback: [{ provider: "openai", model: "gpt-4.1-nano" }] },
    });
    expect(ok.status).toBe(200);
  });

  it("a key scoped to tts: speech works; chat, keys, agents, webhooks and provider keys get 403 scope_denied", async () => {
    const u = await userOn("pro");
    const { body } = await createKey(u.jwt, { scopes: ["tts"] });
    const key = body.key as string;
    const ok = await speak(key, "elevenlabs");
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    const denied: [string, string, unknown?][] = [
      ["POST", "/v1/chat", { provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: "hi" }] }],
      ["POST", "/v1/chat/completions", { model: "gpt-4.1-mini", messages: [{ role: "user", content: "hi" }] }],
      ["POST", "/v1/transcribe", { audioUrl: "https://example.com/a.wav" }],
      ["GET", "/v1/keys"],
      ["POST", "/v1/keys", {}],
      ["GET", "/v1/agents"],
      ["GET", "/v1/webhooks"],
      ["GET", "/v1/provider-keys"],
      ["GET", "/api/v1/user/api-keys"],
    ];
    for (const [method, path, json] of denied) {
      const res = await call(path, { method, headers: auth(key), json });
      expect(res.status, `${method} ${path}`).toBe(403);
      if (!path.startsWith("/v1/chat/completions")) expect(await codeOf(res), `${method} ${path}`).toBe("scope_denied");
      else expect(((await res.json()) as any).error.code).toBe("scope_denied"); // OpenAI's error shape, same code
    }
    // Routes no scope names stay open: the account, usage, models, the request log.
    for (const path of ["/v1/me", "/v1/usage", "/v1/models", "/v1/requests"])
      expect((await call(path, { headers: auth(key) })).status, path).toBe(200);
    // The owner's JWT and other keys are not scoped.
    expect((await chat(u.jwt)).status).toBe(200);
    expect((await chat((await keyOf(u)).key)).status).toBe(200);
  });

  it("a provider allow-list: other providers get 403 scope_denied, with the platform key and with BYOK alike", async () => {
    const u = await userOn("pro");
    const { body } = await createKey(u.jwt, { providers: ["fishaudio"] });
    const allowed = await speak(body.key, "fishaudio");
    expect(allowed.status).toBe(200);
    await allowed.arrayBuffer();
    const other = await speak(body.key, "elevenlabs");
    expect(other.status).toBe(403);
    expect(await codeOf(other)).toBe("scope_denied");
    const byok = await speak(body.key, "elevenlabs", "Hi.", { "x-provider-key-elevenlabs": "sk-own-elevenlabs-key" });
    expect(byok.status).toBe(403);
    const chatRes = await chat(body.key, "openai");
    expect(chatRes.status).toBe(403);
  });

  it("a provider allow-list covers stored provider keys: another provider's key cannot be stored, verified or deleted", async () => {
    const u = await userOn("pro");
    const { body } = await createKey(u.jwt, { providers: ["fishaudio"], requestsPerMinute: 10 });
    const k = auth(body.key);
    const secret = `sk-eleven-${crypto.randomUUID()}`;
    const store = await call("/v1/provider-keys", {
      method: "POST",
      headers: k,
      json: { provider: "elevenlabs", apiKey: "sk-not-mine-to-store" },
    });
    expect([store.status, await codeOf(store)]).toEqual([403, "scope_denied"]);
    // The owner stores one; the fishaudio-only key may neither check it with ElevenLabs nor delete it.
    expect(
      (await call("/v1/provider-keys", { method: "POST", headers: auth(u.jwt), json: { provider: "elevenlabs", apiKey: secret } })).status,
    ).toBe(201);
    const verify = await call("/v1/provider-keys/elevenlabs/verify", { method: "POST", headers: k });
    expect([verify.status, await codeOf(verify)]).toEqual([403, "scope_denied"]);
    const del = await call("/v1/provider-keys/elevenlabs", { method: "DELETE", headers: k });
    expect([del.status, await codeOf(del)]).toEqual([403, "scope_denied"]);
    const checks = (await (await fetch(`${env.TEST_MOCK_ORIGIN}/__control/requests?provider=elevenlabs&path=/v1/user`)).json()) as any[];
    expect(checks.filter((r) => r.headers["xi-api-key"] === secret)).toEqual([]);
    const list = (await (await call("/v1/provider-keys", { headers: auth(u.jwt) })).json()) as any;
    expect(list.providerKeys.map((p: any) => [p.provider, p.verifiedAt])).toEqual([["elevenlabs", null]]);
    // Its own provider (by alias too): stored, verified, deleted — each request counted once by its rate limit.
    const own = await call("/v1/provider-keys", {
      method: "POST",
      headers: k,
      json: { provider: "fish-audio", apiKey: "sk-own-fish-key" },
    });
    expect([own.status, own.headers.get("x-ratelimit-remaining")]).toEqual([201, "6"]);
    await own.arrayBuffer();
    const ok = await call("/v1/provider-keys/fishaudio/verify", { method: "POST", headers: k });
    expect([ok.status, ((await ok.json()) as any).valid, ok.headers.get("x-ratelimit-remaining")]).toEqual([200, true, "5"]);
    expect((await call("/v1/provider-keys/fishaudio", { method: "DELETE", headers: k })).status).toBe(200);
  });

  it("a 403 scope_denied is counted by the key's rate limit and carries the X-RateLimit-* and X-Usage-* headers (API.md §5)", async () => {
    const u = await userOn("pro");
    const { body } = await createKey(u.jwt, { providers: ["fishaudio"], requestsPerMinute: 3 });
    for (const [i, path] of ["/v1/synthesize", "/v1/chat/completions"].entries()) {
      const json =
        path === "/v1/synthesize"
          ? { provider: "elevenlabs", text: "Hi." }
          : { model: "anthropic/x", messages: [{ role: "user", content: "x" }] };
      const res = await call(path, { method: "POST", headers: auth(body.key), json });
      expect(res.status, path).toBe(403);
      expect([res.headers.get("x-ratelimit-limit"), res.headers.get("x-ratelimit-remaining")], path).toEqual(["3", String(2 - i)]);
      for (const h of ["x-usage-current", "x-usage-limit", "x-usage-remaining", "x-usage-bypassed"])
        expect(res.headers.get(h), `${path} ${h}`).not.toBeNull();
      await res.arrayBuffer();
    }
    // Requests outside the key's scope are requests all the same: the third in the minute is its last.
    const third = await speak(body.key, "fishaudio");
    expect([third.status, third.headers.get("x-ratelimit-remaining")]).toEqual([200, "0"]);
    await third.arrayBuffer();
    expect((await speak(body.key, "elevenlabs")).status).toBe(429);
  });

  it("a 10-credit monthly limit holds exactly under 50 concurrent requests; the owner's other keys keep working", async () => {
    const u = await userOn("pro");
    const limited = (await createKey(u.jwt, { name: "budget", monthlyCreditLimit: 10 })).body;
    const per = ttsCostMc("fishaudio", 100, true) ?? 0; // 900 mc with an API key
    const text = "x".repeat(100);
    const results = await Promise.all(Array.from({ length: 50 }, () => speak(limited.key, "fishaudio", text)));
    const passed = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 402);
    expect(passed).toHaveLength(Math.floor(10_000 / per)); // 11 × 0.9 = 9.9 credits; a 12th would be 10.8
    expect(refused).toHaveLength(50 - passed.length);
    for (const r of passed) await r.arrayBuffer();
    for (const r of refused) expect(await codeOf(r)).toBe("key_credit_limit_reached");
    const usage = await until(
      async () => (await (await call("/v1/usage", { headers: auth(u.jwt) })).json()) as any,
      (x) => x.requestCount === passed.length,
    );
    expect(usage.credits.used).toBe((passed.length * per) / 1000);
    // The owner's other key and the JWT are not bound by this key's limit.
    const other = (await createKey(u.jwt, { name: "free of it" })).body;
    const res = await speak(other.key, "fishaudio", text);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const viaJwt = await speak(u.jwt, "fishaudio", text);
    expect(viaJwt.status).toBe(200);
    await viaJwt.arrayBuffer();
    // Still refused for the limited key.
    expect((await speak(limited.key, "fishaudio", text)).status).toBe(402);
  });

  it("reservations count against the key's limit until they settle: concurrent chats never pass it", async () => {
    const u = await userOn("pro");
    const bound = chatBound("gpt-4.1-mini", [{ role: "user", content: "hi" }], undefined, undefined).estimateMc ?? 0;
    const limitMc = bound * 3 + bound / 2;
    const limited = (await createKey(u.jwt, { monthlyCreditLimit: limitMc / 1000 })).body;
    const results = await Promise.all(Array.from({ length: 20 }, () => chat(limited.key)));
    const passed = results.filter((r) => r.status === 200).length;
    expect(passed).toBeGreaterThanOrEqual(3);
    for (const r of results.filter((x) => x.status !== 200)) expect(await codeOf(r)).toBe("key_credit_limit_reached");
    const spent = await until(
      () => inAccount(u.id, (instance: any) => instance.ledger.keys.usedMc(limited.apiKey.id, new Date().toISOString().slice(0, 7))),
      (v: number) => v < bound * passed, // settled at the provider's real usage, below the bound
    );
    expect(spent).toBeLessThanOrEqual(limitMc);
  });

  it("a failed request's refund gives the key its share back", async () => {
    const u = await userOn("pro");
    const limited = (await createKey(u.jwt, { monthlyCreditLimit: 1 })).body; // room for one 0.9-credit request
    const nonce = `refund-${crypto.randomUUID()}`;
    const text = `${nonce} ${"y".repeat(99 - nonce.length)}`;
    await fault({ provider: "fishaudio", bodyIncludes: nonce, mode: "error", status: 500 });
    const failed = await speak(limited.key, "fishaudio", text);
    expect(failed.status).toBe(502);
    const period = new Date().toISOString().slice(0, 7);
    const spent = await until(
      () => inAccount(u.id, (instance: any) => instance.ledger.keys.usedMc(limited.apiKey.id, period)),
      (v: number) => v === 0,
    );
    expect(spent).toBe(0);
    const ok = await speak(limited.key, "fishaudio", "z".repeat(100));
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    expect((await speak(limited.key, "fishaudio", "z".repeat(100))).status).toBe(402);
  });

  it("a key's own rate limit: of 8 concurrent requests against 5 a minute, exactly 5 pass", async () => {
    const u = await userOn("pro");
    const { body } = await createKey(u.jwt, { requestsPerMinute: 5 });
    const results = await Promise.all(Array.from({ length: 8 }, () => call("/v1/me", { headers: auth(body.key) })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(5);
    const limited = results.filter((r) => r.status === 429);
    expect(limited).toHaveLength(3);
    expect(limited[0]!.headers.get("x-ratelimit-limit")).toBe("5");
    expect(Number(limited[0]!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Other keys of the user have the plan's rate.
    expect((await call("/v1/me", { headers: auth((await keyOf(u)).key) })).headers.get("x-ratelimit-limit")).toBe("300");
  });

  it("a rate that does not divide the minute (9, 14 a minute) is exact too: L pass, X-RateLimit-Remaining counts L−1 … 0", async () => {
    // 60 s / 9 is not a whole number of ms: summed in floating point, 9 intervals came to 60,000.0002 ms,
    // so the 9th request could be refused, and the first was told 7 left instead of 8.
    const u = await userOn("pro");
    for (const rpm of [9, 14]) {
      const { body } = await createKey(u.jwt, { requestsPerMinute: rpm });
      const results = await Promise.all(Array.from({ length: rpm + 6 }, () => call("/v1/me", { headers: auth(body.key) })));
      const ok = results.filter((r) => r.status === 200);
      expect(ok).toHaveLength(rpm);
      expect(results.filter((r) => r.status === 429)).toHaveLength(6);
      const remaining = ok.map((r) => Number(r.headers.get("x-ratelimit-remaining"))).sort((a, b) => a - b);
      expect(remaining).toEqual(Array.from({ length: rpm }, (_, i) => i));
    }
  });

  it("the window on a frozen clock: of L + 1 requests exactly L pass, counting down L−1 … 0, for every L up to 1,000 (and 7,777)", () => {
    const now = Date.UTC(2026, 11, 1, 12, 0, 0, 123);
    const wrong: string[] = [];
    for (const limit of [...Array.from({ length: 1000 }, (_, i) => i + 1), 7_777]) {
      const bucket = new RateWindow(limit, 60_000);
      const remaining: number[] = [];
      for (let i = 0; i <= limit; i++) {
        const r = bucket.take(now);
        if (r.retryAfterSeconds !== undefined) {
          if (!(r.retryAfterSeconds >= 1)) wrong.push(`${limit}: Retry-After ${r.retryAfterSeconds}`);
          continue;
        }
        remaining.push(r.remaining);
      }
      if (remaining.length !== limit || remaining.some((left, i) => left !== limit - 1 - i)) {
        wrong.push(`${limit}: ${remaining.length} passed, remaining ${remaining.slice(0, 3).join(",")}…`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("a burst spread over time gets exactly L through, and no window of a minute ever holds more than L (GCRA refilled: 308 of 400 at 300)", () => {
    const start = Date.UTC(2026, 11, 1, 12, 0, 0, 0);
    for (const [limit, spacingMs] of [
      [300, 4],
      [30, 50],
      [60, 250],
      [9, 1_000],
    ] as const) {
      const bucket = new RateWindow(limit, 60_000);
      const passed: number[] = [];
      // 3 minutes of requests every spacingMs.
      for (let t = start; t < start + 180_000; t += spacingMs) if (bucket.take(t).retryAfterSeconds === undefined) passed.push(t);
      // Exactly L in the first minute, then never more than L in any minute.
      expect(
        passed.filter((t) => t < start + 60_000),
        `${limit}`,
      ).toHaveLength(limit);
      for (let i = limit; i < passed.length; i++) expect(passed[i]! - passed[i - limit]!, `${limit} #${i}`).toBeGreaterThanOrEqual(60_000);
      expect(passed.length, `${limit}`).toBeGreaterThanOrEqual(3 * limit - 1);
    }
  });

  it("the window outlives the object: a second after a burst it is in storage, and a woken object refuses as the old one did", async () => {
    const u = await userOn("free"); // 30 a minute, per user for JWT requests
    const results = await Promise.all(Array.from({ length: 35 }, () => call("/v1/me", { headers: auth(u.jwt) })));
    // userOn's own /v1/me and PATCH count too: the window is full either way.
    expect(results.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(5);
    await new Promise((r) => setTimeout(r, 1_300));
    const [before, after] = await inAccount(u.id, (instance, state) => {
      const now = Date.now();
      // What a wake is: a new instance of the object on the same storage, its memory empty.
      const woken = new instance.constructor(state, env);
      return [instance.rates.peek("user", 30, now).remaining, woken.rates.peek("user", 30, now).remaining];
    });
    expect(before).toBe(0);
    expect(after).toBe(0);
  });

  it("a limit lowered and raised again still counts the minute's requests (keeping only the newest reset the window: 119 of 60)", () => {
    const t0 = Date.UTC(2026, 11, 1, 12, 0, 0, 0);
    let bucket = new RateWindow(60, 60_000);
    for (let i = 0; i < 60; i++) expect(bucket.take(t0 + i).retryAfterSeconds).toBeUndefined();
    bucket = new RateWindow(1, 60_000, bucket);
    expect(bucket.take(t0 + 1_000).retryAfterSeconds).toBeGreaterThan(0);
    expect(bucket.peek(t0 + 1_000).remaining).toBe(0);
    bucket = new RateWindow(60, 60_000, bucket);
    expect(bucket.take(t0 + 2_000).retryAfterSeconds).toBe(58);
    // As the burst leaves the window, room comes back one by one.
    expect(bucket.take(t0 + 60_000).remaining).toBe(0);
    expect(bucket.take(t0 + 60_001).remaining).toBe(0);
    expect(bucket.take(t0 + 60_001).retryAfterSeconds).toBe(1);
  });

  it("a window holds only the last minute's requests: a limit of a million costs what its traffic takes", () => {
    const t0 = Date.UTC(2026, 11, 1, 12, 0, 0, 0);
    const big = new RateWindow(1_000_000, 60_000);
    for (let i = 0; i < 5; i++) expect(big.take(t0 + i).remaining).toBe(1_000_000 - 1 - i);
    expect(big.snapshot()).toHaveLength(5);
    // A minute later they have left: the window is empty again, and so is what storage keeps.
    expect(big.take(t0 + 60_005).remaining).toBe(999_999);
    expect(big.snapshot()).toHaveLength(1);
  });

  it("a rotated key's successor keeps its window (a rotation is no fresh minute); the old key's window is gone", async () => {
    const u = await userOn("pro");
    const { body } = await createKey(u.jwt, { requestsPerMinute: 3 });
    const results = await Promise.all(Array.from({ length: 4 }, () => call("/v1/me", { headers: auth(body.key) })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 429]);
    const rotated = await call(`/v1/keys/${body.apiKey.id}/rotate`, { method: "POST", headers: auth(u.jwt) });
    expect(rotated.status).toBe(201);
    const next = (await rotated.json()) as any;
    const first = await call("/v1/me", { headers: auth(next.key) });
    expect(first.status).toBe(429);
    expect(Number(first.headers.get("retry-after"))).toBeGreaterThan(50);
    await new Promise((r) => setTimeout(r, 1_300));
    const rows = await inAccount(u.id, (_instance, state) =>
      state.storage.sql
        .exec<{ rate_key: string }>("SELECT rate_key FROM rate_windows")
        .toArray()
        .map((r) => r.rate_key),
    );
    expect(rows).toContain(next.apiKey.id);
    expect(rows).not.toContain(body.apiKey.id);
  });

  it("a window too big to store does not keep the others from being stored; the stored one keeps its newest 100,000", async () => {
    const u = await userOn("pro");
    const stored = await inAccount(u.id, (instance, state) => {
      const now = Date.now();
      for (let i = 0; i < 150_000; i++) instance.rates.take("big", 1_000_000, now);
      instance.rates.take("small", 30, now);
      instance.rates.persist();
      return state.storage.sql
        .exec<{ rate_key: string; n: number }>("SELECT rate_key, length(times) / 8 AS n FROM rate_windows ORDER BY rate_key")
        .toArray()
        .map((r) => [r.rate_key, r.n]);
    });
    expect(stored).toEqual(
      expect.arrayContaining([
        ["big", 100_000],
        ["small", 1],
      ]),
    );
  });

  it("Retry-After says when the window lets the next request through; a changed limit holds at once", () => {
    const t0 = Date.UTC(2026, 11, 1, 12, 0, 0, 0);
    const bucket = new RateWindow(3, 60_000);
    expect(bucket.take(t0).remaining).toBe(2);
    expect(bucket.take(t0 + 10_000).remaining).toBe(1);
    expect(bucket.take(t0 + 20_000).remaining).toBe(0);
    expect(bucket.take(t0 + 30_000).retryAfterSeconds).toBe(30);
    expect(bucket.take(t0 + 59_999).retryAfterSeconds).toBe(1);
    expect(bucket.take(t0 + 60_000).remaining).toBe(0); // the first left the window
    expect(bucket.peek(t0 + 75_000).remaining).toBe(1);
    // Lowered to 2: the two newest carry over, so none passes until the older of them leaves the window.
    const lowered = new RateWindow(2, 60_000, bucket);
    expect(lowered.take(t0 + 75_000).retryAfterSeconds).toBe(5);
    expect(lowered.take(t0 + 80_000).remaining).toBe(0);
    // Raised to 5: three more pass now.
    const raised = new RateWindow(5, 60_000, lowered);
    expect([1, 2, 3].map(() => raised.take(t0 + 81_000).retryAfterSeconds)).toEqual([undefined, undefined, undefined]);
    expect(raised.take(t0 + 81_000).retryAfterSeconds).toBeGreaterThan(0);
  });
});

describe("changing and rotating", () => {
  it("PATCH changes a key's rules at once; null lifts them; rotation keeps them", async () => {
    const u = await userOn("pro");
    const { body } = await createKey(u.jwt, { name: "editable", scopes: ["tts"] });
    const id = body.apiKey.id;
    expect((await chat(body.key)).status).toBe(403);
    const patch = async (json: unknown, who = u.jwt) => call(`/v1/keys/${id}`, { method: "PATCH", headers: auth(who), json });
    const changed = await patch({ scopes: ["llm"], monthlyCreditLimit: 50, name: "chat only" });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as any).apiKey).toMatchObject({ id, name: "chat only", scopes: ["llm"], monthlyCreditLimit: 50 });
    expect((await chat(body.key)).status).toBe(200); // the Account object's copy changed with D1
    expect((await speak(body.key, "elevenlabs")).status).toBe(403);
    expect((await patch({ requestsPerMinute: 301 })).status).toBe(400); // above the pro plan's 300
    expect((await patch({ scopes: ["nope"] })).status).toBe(400);
    expect((await patch({ unknownField: 1 })).status).toBe(400);
    expect((await patch({ name: "x" }, (await userOn("pro")).jwt)).status).toBe(404); // another user's key

    const rotated = (await (await call(`/v1/keys/${id}/rotate`, { method: "POST", headers: auth(u.jwt) })).json()) as any;
    expect(rotated.apiKey).toMatchObject({ name: "chat only", scopes: ["llm"], monthlyCreditLimit: 50, providers: null });
    const res = await speak(rotated.key, "elevenlabs");
    expect(res.status).toBe(403);
    expect(await codeOf(res)).toBe("scope_denied");
    expect((await patch({ name: "gone" })).status).toBe(404); // the rotated-out key is revoked

    const lifted = await call(`/v1/keys/${rotated.apiKey.id}`, {
      method: "PATCH",
      headers: auth(u.jwt),
      json: { scopes: null, monthlyCreditLimit: null },
    });
    expect(((await lifted.json()) as any).apiKey).toMatchObject({ scopes: ALL, monthlyCreditLimit: null });
    const now = await speak(rotated.key, "elevenlabs");
    expect(now.status).toBe(200);
    await now.arrayBuffer();
  });
});

describe("the OpenAPI document", () => {
  it("documents scoped keys, webhooks and the request log, and which scope each route needs", async () => {
    const doc = (await (await call("/openapi.json")).json()) as any;
    expect(doc.paths["/v1/chat"].post.responses["403"]).toBeDefined();
    expect(doc.paths["/v1/chat"].post.description).toContain("'llm' scope");
    expect(doc.paths["/v1/agents/{id}/speak"].post.description).toContain("'agents' scope");
    expect(doc.paths["/v1/me"].get.description ?? "").not.toContain("scope");
    expect(doc.paths["/v1/keys/{id}"].patch.requestBody).toBeDefined();
    expect(Object.keys(doc.components.schemas.ApiKey.properties)).toEqual(
      expect.arrayContaining(["scopes", "providers", "monthlyCreditLimit", "requestsPerMinute"]),
    );
    for (const p of ["/v1/webhooks", "/v1/webhooks/{id}", "/v1/webhooks/{id}/test", "/v1/webhooks/{id}/deliveries", "/v1/requests"]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    expect(doc.info.description).toContain("webhook-signature");
  });
});

describe("a realtime client token for a provider outside the key's allow-list", () => {
  it("is refused when minted (403 scope_denied, nothing issued); its own provider, or none named, is 201", async () => {
    const u = await userOn("pro");
    const made = await createKey(u.jwt, { scopes: ["realtime"], providers: ["elevenlabs"] });
    expect(made.status).toBe(201);
    const token = (json: Record<string, unknown>) => call("/v1/realtime/tokens", { method: "POST", headers: auth(made.body.key), json });
    for (const json of [
      { operation: "listen", provider: "deepgram" },
      { operation: "speak", provider: "cartesia" },
      { operation: "realtime", provider: "openai" },
    ]) {
      const res = await token(json);
      expect(res.status, JSON.stringify(json)).toBe(403);
      expect(await codeOf(res)).toBe("scope_denied");
    }
    for (const json of [
      { operation: "listen", provider: "elevenlabs" },
      { operation: "speak", provider: "elevenlabs" },
      { operation: "listen" },
    ]) {
      const res = await token(json);
      expect(res.status, JSON.stringify(json)).toBe(201);
      expect(((await res.json()) as any).token).toMatch(/^vgt_/);
    }
  });
});
