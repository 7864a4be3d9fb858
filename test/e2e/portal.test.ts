// Portal sign-in end to end: a real `wrangler dev` (local D1), the codes captured by the mock Twilio.
// The right code, a wrong one, an expired one, too many attempts and too many sends; the session then
// reaches /portal/api/* and nothing else does.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { bearer, call, jwtFor } from "./client";
import { newPhone, portalCall, sendOtp, sessionCookie, setCookies, texts, twilioOrigin, verifyOtp, waitForCode } from "./portal-client";

const ROOT = join(import.meta.dirname, "..", "..");

/** Run SQL against the local D1 that `wrangler dev` serves (same persisted SQLite). */
function d1(sql: string) {
  execFileSync("npx", ["wrangler", "d1", "execute", "DB", "--local", "--persist-to", inject("persistDir"), "--command", sql], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    stdio: "pipe",
  });
}

async function errorCode(res: Response) {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return ((await res.json()) as any).error?.code;
}

let ipSeq = 1;
/** Each test its own client address (wrangler dev passes CF-Connecting-IP through; Cloudflare sets it). */
const fromIp = () => ({ "cf-connecting-ip": `198.51.100.${ipSeq++}` });

describe("portal sign-in through wrangler dev", () => {
  it("send-otp → SMS via Twilio → verify → session cookie → /portal/api/me; API credentials get 401", async () => {
    expect(twilioOrigin(), "the mock Twilio (test/helpers/twilio-setup.ts) must be in the e2e globalSetup").toBeTruthy();
    const phone = newPhone();
    const ip = fromIp();
    const sent = await portalCall("/portal/auth/phone-number/send-otp", { method: "POST", headers: ip, json: { phoneNumber: phone } });
    expect(sent.status).toBe(200);
    const code = await waitForCode(phone);
    const [sms] = await texts(phone);
    expect(sms!.body).toContain(code); // waitForCode saw it
    const res = await portalCall("/portal/auth/phone-number/verify", { method: "POST", headers: ip, json: { phoneNumber: phone, code } });
    expect(res.status).toBe(200);
    const setCookie = setCookies(res).join("\n");
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    // http://127.0.0.1 is local development: not Secure, or the browser would drop it.
    expect(setCookie).not.toMatch(/;\s*Secure/i);
    const cookie = sessionCookie(res)!;
    const me = await call("/portal/api/me", { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as any).user.phoneNumber).toBe(phone);

    const jwt = await jwtFor(`e2e-portal-${Date.now()}`);
    for (const headers of [bearer(jwt), bearer(await jwtFor("e2e-admin", "admin")), { cookie, ...bearer(jwt) }]) {
      const r = await call("/portal/api/me", { headers });
      expect(r.status).toBe(401);
      expect(await errorCode(r)).toBe("unauthorized");
    }
    const foreign = await call("/portal/api/keys", { method: "POST", headers: { cookie, origin: "https://evil.example" }, json: {} });
    expect(foreign.status).toBe(403);
  });

  it("a wrong code: 400; three wrong codes: the code is burned (403), even the right one fails after", async () => {
    const phone = newPhone();
    const ip = fromIp();
    await portalCall("/portal/auth/phone-number/send-otp", { method: "POST", headers: ip, json: { phoneNumber: phone } });
    const code = await waitForCode(phone);
    const wrong = code === "000000" ? "999999" : "000000";
    const verify = (c: string) =>
      portalCall("/portal/auth/phone-number/verify", { method: "POST", headers: ip, json: { phoneNumber: phone, code: c } });
    for (let i = 0; i < 3; i++) {
      const r = await verify(wrong);
      expect(r.status).toBe(400);
      expect(await errorCode(r)).toBe("invalid_otp");
    }
    const burned = await verify(code);
    expect(burned.status).toBe(403);
    expect(await errorCode(burned)).toBe("too_many_attempts");
    const after = await verify(code);
    expect(after.status).toBe(400);
    expect(sessionCookie(after)).toBeUndefined();
  });

  it("an expired code: 400 otp_expired", async () => {
    const phone = newPhone();
    await sendOtp(phone);
    const code = await waitForCode(phone);
    d1(`UPDATE auth_verification SET expires_at = '2000-01-01T00:00:00.000Z' WHERE identifier = 'phone-number-otp-${phone}'`);
    const r = await verifyOtp(phone, code);
    expect(r.status).toBe(400);
    expect(await errorCode(r)).toBe("otp_expired");
    expect(sessionCookie(r)).toBeUndefined();
  });

  it("too many sends: per phone number (3 per 10 minutes) and per address (10 per 10 minutes) → 429 with Retry-After", async () => {
    const phone = newPhone();
    for (let i = 0; i < 3; i++) {
      expect(
        (await portalCall("/portal/auth/phone-number/send-otp", { method: "POST", headers: fromIp(), json: { phoneNumber: phone } }))
          .status,
      ).toBe(200);
    }
    const perPhone = await portalCall("/portal/auth/phone-number/send-otp", {
      method: "POST",
      headers: fromIp(),
      json: { phoneNumber: phone },
    });
    expect(perPhone.status).toBe(429);
    expect(await errorCode(perPhone)).toBe("rate_limited");
    expect(Number(perPhone.headers.get("retry-after"))).toBeGreaterThan(0);

    const ip = fromIp();
    for (let i = 0; i < 10; i++) {
      expect(
        (await portalCall("/portal/auth/phone-number/send-otp", { method: "POST", headers: ip, json: { phoneNumber: newPhone() } })).status,
      ).toBe(200);
    }
    const perIp = await portalCall("/portal/auth/phone-number/send-otp", {
      method: "POST",
      headers: ip,
      json: { phoneNumber: newPhone() },
    });
    expect(perIp.status).toBe(429);
    expect(await errorCode(perIp)).toBe("rate_limited");
    expect(Number(perIp.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
