import { describe, expect, it } from "vitest";
import { ensureSchema } from "../../../src/account/schema";
import { sha256Hex } from "../../../src/crypto/sha256";
import type { SessionOpenRequest } from "../../../src/metering/contract";
import { BASE } from "../../helpers/api";
import { env } from "../../helpers/env";
import { call, inAccount, keyOf, portalSession, userOn } from "../../helpers/reliability";
import { closedWithin, openSocket } from "./handshake";

const LISTEN = "/v1/realtime/listen?provider=deepgram&encoding=linear16&sampleRate=16000";
/** A check every second, so a lapse is seen within a second. */
const FAST = { ...(env as any), REALTIME_CHECK_INTERVAL_SECONDS: "1" };
/** A browser on the portal: its own Origin, from one client address. */
const BROWSER = { origin: new URL(BASE).origin, "cf-connecting-ip": "192.0.2.44" };

/** Opens a listen session with a client token in the query, under FAST. */
const openListen = (token: string) => openSocket(`${LISTEN}&token=${token}`, { env: FAST });
/** A client token from the portal's own route, with the session cookie (as the "try it" page gets one). */
async function mint(cookie: string): Promise<{ token: string; expiresAt: string }> {
  const res = await call("/portal/api/realtime/tokens", {
    method: "POST",
    headers: { ...BROWSER, cookie },
    json: { operation: "listen", ttlSeconds: 600 },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { token: string; expiresAt: string };
}

/** The auth_session row behind a signed-in phone number. */
async function authSessionOf(phone: string): Promise<{ id: string; expires_at: string }> {
  const row = await env.DB.prepare(
    "SELECT s.id, s.expires_at FROM auth_session s JOIN auth_user u ON u.id = s.user_id WHERE u.phone_number = ?",
  )
    .bind(phone)
    .first<{ id: string; expires_at: string }>();
  if (!row) throw new Error(`no auth_session for ${phone}`);
  return row;
}

describe("a client token minted with a portal session", () => {
  it("signing out of the portal ends its session: an error event, then 4401 within the check interval", async () => {
    const s = await portalSession();
    const { token, expiresAt } = await mint(s.cookie);
    // The token never outlives the portal session that minted it.
    expect(Date.parse(expiresAt)).toBeLessThanOrEqual(Date.parse((await authSessionOf(s.phone)).expires_at));
    const c = await openListen(token);
    expect(c.res.status).toBe(101);
    // While the portal session holds, the checks let the session run.
    expect(await closedWithin(c, 2_500)).toBe("open");
    const out = await call("/portal/auth/sign-out", { method: "POST", headers: { ...BROWSER, cookie: s.cookie } });
    expect(out.status).toBe(200);
    const signedOutAt = Date.now();
    const end = await closedWithin(c, 8_000);
    if (end === "open") throw new Error("the token's session outlived the portal session that minted it");
    expect(end.code).toBe(4401);
    expect(end.at - signedOutAt).toBeLessThan(4_000); // one check interval (1 s), and slack for a busy machine
    const error = c.events.findLast((e) => e.type === "error");
    expect(error).toMatchObject({ code: "unauthorized", message: expect.stringMatching(/revoked/) });
  }, 30_000);

  it("a portal session that expires ends its session too, and a token minted before the sign-out opens nothing after it", async () => {
    const s = await portalSession();
    const first = await mint(s.cookie);
    const spare = await mint(s.cookie);
    const c = await openListen(first.token);
    expect(c.res.status).toBe(101);
    const expiredAt = Date.now();
    await env.DB.prepare("UPDATE auth_session SET expires_at = ? WHERE id = ?")
      .bind(new Date(expiredAt - 1_000).toISOString(), (await authSessionOf(s.phone)).id)
      .run();
    const end = await closedWithin(c, 8_000);
    if (end === "open") throw new Error("the token's session outlived the portal session's expiry");
    expect(end.code).toBe(4401);
    expect(end.at - expiredAt).toBeLessThan(4_000);
    expect(c.events.findLast((e) => e.type === "error")).toMatchObject({ code: "unauthorized", message: expect.stringMatching(/expired/) });
    // Gone altogether (as signing out leaves it): the unused token is refused at the upgrade.
    await env.DB.prepare("DELETE FROM auth_session WHERE id = ?")
      .bind((await authSessionOf(s.phone)).id)
      .run();
    expect((await openListen(spare.token)).res.status).toBe(401);
  }, 30_000);
});

describe("D1 reads at a session's renewal", () => {
  const account = (userId: string) => env.ACCOUNT.getByName(userId);
  const d1Reads = (userId: string) => inAccount(userId, (instance) => instance.d1Queries as number);
  const openReq = (userId: string, extra: Partial<SessionOpenRequest>): SessionOpenRequest => ({
    userId,
    rateKey: "user",
    operation: "listen",
    meter: { provider: "deepgram", kind: "stt", byok: false, platformKeyAvailable: true, estimateMc: 4_500 },
    minimumMc: 150,
    leaseMs: 60_000,
    ...extra,
  });
  const renew = (userId: string, sessionId: string) => account(userId).renewSession({ userId, sessionId, needMc: 0, leaseMs: 60_000 });

  it("an API-key or a JWT session makes none; a portal-minted one reads its portal session once per renewal", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const byKey = await account(u.id).openSession(openReq(u.id, { keyId: key.id, rateKey: key.id, credential: "api_key" }));
    const byJwt = await account(u.id).openSession(openReq(u.id, { credential: "jwt", jwtExpiresAt: Date.now() + 600_000 }));
    if (!byKey.ok || !byJwt.ok) throw new Error("not opened");
    const before = await d1Reads(u.id);
    for (const s of [byKey, byJwt, byKey, byJwt]) expect(await renew(u.id, s.sessionId)).toMatchObject({ ok: true });
    expect(await d1Reads(u.id)).toBe(before);

    const p = await portalSession();
    const { token } = await mint(p.cookie);
    const byPortal = await account(p.userId).openSession(openReq(p.userId, { tokenHash: await sha256Hex(token) }));
    if (!byPortal.ok) throw new Error(byPortal.error);
    const start = await d1Reads(p.userId);
    expect(await renew(p.userId, byPortal.sessionId)).toMatchObject({ ok: true });
    expect(await d1Reads(p.userId)).toBe(start + 1);
    await env.DB.prepare("DELETE FROM auth_session WHERE id = ?")
      .bind((await authSessionOf(p.phone)).id)
      .run();
    expect(await renew(p.userId, byPortal.sessionId)).toEqual({ ok: false, error: "invalid_credentials" });
    await account(p.userId).closeSession({ userId: p.userId, sessionId: byPortal.sessionId, actualMc: 0 });
  });
});

describe("objects created before the column", () => {
  it("an Account object whose realtime tables lack portal_session_id gets it at its next schema change", async () => {
    const u = await userOn("pro");
    await inAccount(u.id, (_instance, state) => {
      const sql = state.storage.sql;
      const has = (table: string) =>
        sql
          .exec<{ name: string }>(`PRAGMA table_info(${table})`)
          .toArray()
          .some((c) => c.name === "portal_session_id");
      for (const table of ["rt_tokens", "rt_sessions"]) sql.exec(`ALTER TABLE ${table} DROP COLUMN portal_session_id`);
      sql.exec("UPDATE meta SET v = 'older' WHERE k = 'schema'"); // what storage set up by the previous deploy says
      ensureSchema(sql);
      expect([has("rt_tokens"), has("rt_sessions")]).toEqual([true, true]);
    });
  });
});
