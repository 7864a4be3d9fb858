// Realtime governance in the user's Account object (src/account/sessions.ts), called as the worker calls
// it: the plan's session cap and single-use client tokens under concurrency, slices topped up as far as
// the credits go, the exact charge once at the end, leases that run out (closed at their bound, corrected
// by a late close), revocation, and bypassed sessions.
import { describe, expect, it } from "vitest";
import type { SessionOpenRequest } from "../../../src/metering/contract";
import { env } from "../../helpers/env";
import { call, inAccount, keyOf, ledgerOf, sleep, userOn } from "../../helpers/reliability";

const account = (userId: string) => env.ACCOUNT.getByName(userId);

function openReq(userId: string, extra: Partial<SessionOpenRequest> = {}): SessionOpenRequest {
  return {
    userId,
    rateKey: "user",
    credential: "jwt",
    operation: "listen",
    meter: { provider: "deepgram", kind: "stt", byok: false, platformKeyAvailable: true, estimateMc: 4_500 },
    minimumMc: 150,
    leaseMs: 60_000,
    ...extra,
  };
}

const hash = () => crypto.randomUUID().replaceAll("-", "").repeat(2);

async function tokenFor(userId: string, extra: Record<string, unknown> = {}) {
  const tokenHash = hash();
  await account(userId).issueRealtimeToken({
    userId,
    credential: "jwt",
    tokenHash,
    operation: "listen",
    expiresAt: Date.now() + 60_000,
    ...extra,
  });
  return tokenHash;
}

describe("the plan's cap on concurrent sessions", () => {
  for (const [plan, cap] of [
    ["free", 1],
    ["starter", 2],
    ["pro", 10],
  ] as const) {
    it(`${plan}: of 20 opens at once exactly ${cap} pass; the rest get session_limit_reached`, async () => {
      const u = await userOn(plan);
      const results = await Promise.all(Array.from({ length: 20 }, () => account(u.id).openSession(openReq(u.id))));
      expect(results.filter((r) => r.ok)).toHaveLength(cap);
      expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.error)).toEqual(Array(20 - cap).fill("session_limit_reached"));
      // What the open sessions hold is reserved: it counts as spent until they end.
      expect((await ledgerOf(u.id)).reservedMc).toBe(cap * 4_500);
    });
  }
});

describe("client tokens", () => {
  it("open one session: of 10 opens at once with the same token exactly one passes", async () => {
    const u = await userOn("pro");
    const tokenHash = await tokenFor(u.id);
    const results = await Promise.all(Array.from({ length: 10 }, () => account(u.id).openSession(openReq(u.id, { tokenHash }))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(new Set(results.filter((r) => !r.ok).map((r) => !r.ok && r.error))).toEqual(new Set(["invalid_credentials"]));
  });

  it("only for their operation and provider (which does not use them up), and not once expired", async () => {
    const u = await userOn("pro");
    const tokenHash = await tokenFor(u.id, { provider: "deepgram", maxSeconds: 30, maxCreditsMc: 2_000 });
    const speak = await account(u.id).openSession(openReq(u.id, { tokenHash, operation: "speak" }));
    expect(speak).toMatchObject({ ok: false, error: "token_not_for_this" });
    const cartesia = await account(u.id).openSession(
      openReq(u.id, {
        tokenHash,
        meter: { provider: "cartesia", kind: "stt", byok: false, platformKeyAvailable: true, estimateMc: 5_000 },
      }),
    );
    expect(cartesia).toMatchObject({ ok: false, error: "token_not_for_this" });
    const ok = await account(u.id).openSession(openReq(u.id, { tokenHash }));
    expect(ok).toMatchObject({ ok: true, caps: { provider: "deepgram", maxSeconds: 30, maxCreditsMc: 2_000 }, credential: "jwt" });

    const expired = await tokenFor(u.id, { expiresAt: Date.now() + 20 });
    await sleep(30);
    expect(await account(u.id).openSession(openReq(u.id, { tokenHash: expired }))).toMatchObject({
      ok: false,
      error: "invalid_credentials",
    });
    expect(await account(u.id).openSession(openReq(u.id, { tokenHash: hash() }))).toMatchObject({
      ok: false,
      error: "invalid_credentials",
    });
  });
});

describe("credits", () => {
  it("top-ups grant what is asked as far as the credits go, then nothing; the close charges the exact cost once", async () => {
    const u = await userOn("free"); // 2,500,000 mc
    const a = account(u.id);
    const opened = await a.openSession(
      openReq(u.id, { meter: { provider: "elevenlabs", kind: "tts", byok: false, platformKeyAvailable: true, estimateMc: 41_500 } }),
    );
    if (!opened.ok) throw new Error(opened.error);
    expect(opened.reservedMc).toBe(41_500);
    const big = await a.renewSession({ userId: u.id, sessionId: opened.sessionId, needMc: 2_000_000, leaseMs: 60_000 });
    expect(big).toEqual({ ok: true, reservedMc: 2_041_500, grantedMc: 2_000_000, keyLimited: false });
    const rest = await a.renewSession({ userId: u.id, sessionId: opened.sessionId, needMc: 1_000_000, leaseMs: 60_000 });
    expect(rest).toEqual({ ok: true, reservedMc: 2_500_000, grantedMc: 458_500, keyLimited: false }); // the account's credits, not a key's limit
    const none = await a.renewSession({ userId: u.id, sessionId: opened.sessionId, needMc: 41_500, leaseMs: 60_000 });
    expect(none).toEqual({ ok: true, reservedMc: 2_500_000, grantedMc: 0, keyLimited: false });
    expect((await ledgerOf(u.id)).remainingMc).toBe(0);
    // Another session cannot start while this one holds everything.
    expect(await a.openSession(openReq(u.id))).toMatchObject({ ok: false, error: "session_limit_reached" });

    await a.closeSession({ userId: u.id, sessionId: opened.sessionId, actualMc: 2_489_000 });
    await a.closeSession({ userId: u.id, sessionId: opened.sessionId, actualMc: 2_489_000 });
    const after = await ledgerOf(u.id);
    expect([after.usedMc, after.reservedMc, after.remainingMc, after.requestCount, after.breakdownMc.tts]).toEqual([
      2_489_000, 0, 11_000, 1, 2_489_000,
    ]);
  });

  it("a balance below one unit of work cannot open a metered session; a debt neither", async () => {
    const u = await userOn("free");
    const a = account(u.id);
    const first = await a.openSession(openReq(u.id));
    if (!first.ok) throw new Error(first.error);
    await a.renewSession({ userId: u.id, sessionId: first.sessionId, needMc: 10_000_000, leaseMs: 60_000 });
    await a.closeSession({ userId: u.id, sessionId: first.sessionId, actualMc: 2_499_900 }); // 100 mc left
    expect(await a.openSession(openReq(u.id))).toMatchObject({ ok: false, error: "insufficient_credits" });
    const next = await a.openSession(openReq(u.id, { minimumMc: 50 }));
    expect(next).toMatchObject({ ok: true, reservedMc: 100 }); // the first slice is what is left
    if (!next.ok) return;
    // Reported past its reservation (OpenAI's usage can be): charged all the same, the excess as debt.
    await a.closeSession({ userId: u.id, sessionId: next.sessionId, actualMc: 600 });
    expect((await ledgerOf(u.id)).paygMc).toBe(-500);
    expect(await a.openSession(openReq(u.id, { minimumMc: 1 }))).toMatchObject({ ok: false, error: "insufficient_credits" });
  });

  it("a model without a price cannot open a metered session", async () => {
    const u = await userOn("pro");
    const r = await account(u.id).openSession(
      openReq(u.id, {
        operation: "realtime",
        meter: { provider: "openai", kind: "llm", byok: false, platformKeyAvailable: true, estimateMc: null },
      }),
    );
    expect(r).toMatchObject({ ok: false, error: "model_not_priced" });
  });
});

describe("leases", () => {
  it("a session whose lease ran out is closed by the alarm at its bound, freeing its slot; a late close corrects it", async () => {
    const u = await userOn("free");
    const a = account(u.id);
    const opened = await a.openSession(openReq(u.id, { leaseMs: 1 }));
    if (!opened.ok) throw new Error(opened.error);
    await sleep(10);
    await inAccount(u.id, (instance) => instance.alarm());
    const bound = await ledgerOf(u.id);
    expect([bound.usedMc, bound.reservedMc, bound.requestCount]).toEqual([4_500, 0, 1]);
    expect(await a.renewSession({ userId: u.id, sessionId: opened.sessionId, needMc: 0, leaseMs: 60_000 })).toEqual({
      ok: false,
      error: "session_closed",
    });
    const next = await a.openSession(openReq(u.id));
    expect(next.ok).toBe(true);

    await a.closeSession({ userId: u.id, sessionId: opened.sessionId, actualMc: 1_200 });
    const corrected = await ledgerOf(u.id);
    expect([corrected.usedMc, corrected.requestCount]).toEqual([1_200, 1]);
  });

  it("renewing pushes the lease on: the alarm leaves a live session alone", async () => {
    const u = await userOn("free");
    const a = account(u.id);
    const opened = await a.openSession(openReq(u.id, { leaseMs: 1_000 }));
    if (!opened.ok) throw new Error(opened.error);
    expect(await a.renewSession({ userId: u.id, sessionId: opened.sessionId, needMc: 0, leaseMs: 60_000 })).toMatchObject({ ok: true });
    await sleep(1_100); // past the first lease (the object's own alarm runs then too)
    await inAccount(u.id, (instance) => instance.alarm());
    expect(await a.openSession(openReq(u.id))).toMatchObject({ ok: false, error: "session_limit_reached" });
    expect((await ledgerOf(u.id)).usedMc).toBe(0);
  });
});

describe("revocation and bypassed sessions", () => {
  it("a revoked key: its session's next renewal says invalid_credentials, and so does a token it minted", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const a = account(u.id);
    const byKey = await a.openSession(openReq(u.id, { keyId: key.id, rateKey: key.id, credential: "api_key" }));
    const tokenHash = await tokenFor(u.id, { keyId: key.id, credential: "api_key" });
    const byToken = await a.openSession(openReq(u.id, { tokenHash }));
    if (!byKey.ok || !byToken.ok) throw new Error("not opened");
    expect(byToken.credential).toBe("api_key");
    expect((await call(`/v1/keys/${key.id}`, { method: "DELETE", headers: { authorization: `Bearer ${u.jwt}` } })).status).toBe(200);
    for (const s of [byKey, byToken]) {
      expect(await a.renewSession({ userId: u.id, sessionId: s.sessionId, needMc: 0, leaseMs: 60_000 })).toEqual({
        ok: false,
        error: "invalid_credentials",
      });
    }
    const again = await a.openSession(openReq(u.id, { keyId: key.id, rateKey: key.id, credential: "api_key" }));
    expect(again).toMatchObject({ ok: false, error: "invalid_credentials" });
  });

  it("a JWT's exp: recorded at the open, its session's first renewal after it says credential_expired; a token minted with the JWT hands it on", async () => {
    const u = await userOn("pro");
    const a = account(u.id);
    const jwtExpiresAt = Date.now() + 200;
    const byJwt = await a.openSession(openReq(u.id, { jwtExpiresAt }));
    const byToken = await a.openSession(openReq(u.id, { tokenHash: await tokenFor(u.id, { jwtExpiresAt }) }));
    if (!byJwt.ok || !byToken.ok) throw new Error("not opened");
    const renew = (sessionId: string) => a.renewSession({ userId: u.id, sessionId, needMc: 0, leaseMs: 60_000 });
    expect(await renew(byJwt.sessionId)).toMatchObject({ ok: true });
    await sleep(jwtExpiresAt - Date.now() + 10);
    for (const s of [byJwt, byToken]) expect(await renew(s.sessionId)).toEqual({ ok: false, error: "credential_expired" });
    // A token whose JWT has expired opens nothing, even within its own ttl.
    const late = await tokenFor(u.id, { jwtExpiresAt: Date.now() - 1 });
    expect(await a.openSession(openReq(u.id, { tokenHash: late }))).toMatchObject({ ok: false, error: "invalid_credentials" });
  });

  it("a BYOK session reserves and charges nothing, but counts against the cap", async () => {
    const u = await userOn("free");
    const a = account(u.id);
    const opened = await a.openSession(
      openReq(u.id, { meter: { provider: "deepgram", kind: "stt", byok: true, platformKeyAvailable: true, estimateMc: 4_500 } }),
    );
    expect(opened).toMatchObject({ ok: true, keySource: "byok", reservedMc: 0 });
    expect(await a.openSession(openReq(u.id))).toMatchObject({ ok: false, error: "session_limit_reached" });
    if (!opened.ok) return;
    await a.closeSession({ userId: u.id, sessionId: opened.sessionId, actualMc: 99_999 });
    const after = await ledgerOf(u.id);
    expect([after.usedMc, after.reservedMc, after.requestCount]).toEqual([0, 0, 1]);
  });
});

describe("scoped keys and realtime sessions", () => {
  it("a key without the realtime scope, or not allowed the provider, cannot open a session; a key's monthly limit caps its slices", async () => {
    const u = await userOn("pro");
    const make = async (body: Record<string, unknown>) => (await keyOf(u, body)).id;
    const ttsOnly = await make({ scopes: ["tts"] });
    const cartesiaOnly = await make({ scopes: ["realtime"], providers: ["cartesia"] });
    const capped = await make({ monthlyCreditLimit: 2 }); // 2,000 mc: less than the 4,500 mc slice asked for
    const withKey = (keyId: string) => openReq(u.id, { keyId, rateKey: keyId, credential: "api_key" });
    expect(await account(u.id).openSession(withKey(ttsOnly))).toMatchObject({ ok: false, error: "scope_denied" });
    expect(await account(u.id).openSession(withKey(cartesiaOnly))).toMatchObject({ ok: false, error: "scope_denied" });
    const opened = await account(u.id).openSession(withKey(capped));
    if (!opened.ok) throw new Error(opened.error);
    expect(opened.reservedMc).toBe(2_000);
    const more = await account(u.id).renewSession({ userId: u.id, sessionId: opened.sessionId, needMc: 5_000, leaseMs: 60_000 });
    expect(more).toEqual({ ok: true, reservedMc: 2_000, grantedMc: 0, keyLimited: true }); // the key's limit held it
    await account(u.id).closeSession({ userId: u.id, sessionId: opened.sessionId, actualMc: 2_000 });
    expect(await account(u.id).openSession(withKey(capped))).toMatchObject({ ok: false, error: "key_credit_limit_reached" });
  });
});
