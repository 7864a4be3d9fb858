// The developer portal (issue 6): phone-OTP sign-in through Better Auth on D1, with the codes read from a
// mock Twilio; the session-only JSON API under /portal/api/*; the origin check; the page.

import { afterEach, describe, expect, it, vi } from "vitest";
import { dailySeries } from "../../src/api/account";
import { ConfigError } from "../../src/config";
import { smsSender } from "../../src/portal/sms";
import { adminJwt, api, BASE, bearer, createKey, eventually, jwtFor, newUser, uniqueSub } from "../helpers/api";
import { env } from "../helpers/env";
import { nth } from "../helpers/items";

const ORIGIN = new URL(BASE).origin;
const TWILIO = env.TWILIO_BASE_URL as string;

let seq = Math.floor(Math.random() * 9_000_000);
/** A phone number no other test of this run uses (+1 555 …: fictional numbers). */
function newPhone(): string {
  return `+1555${String(seq++ % 10_000_000).padStart(7, "0")}`;
}
/** A client address of its own per test, so the per-IP limits of one test don't touch another. */
function newIp(): string {
  const r = () => Math.floor(Math.random() * 250) + 1;
  return `10.${r()}.${r()}.${r()}`;
}

type Init = RequestInit & { json?: unknown };
/** A browser on the portal: same-origin requests (Origin set) from one client address. */
function portal(path: string, init: Init = {}, ip = "192.0.2.1"): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("origin") && init.method && init.method !== "GET") headers.set("origin", ORIGIN);
  if (headers.get("origin") === "") headers.delete("origin");
  headers.set("cf-connecting-ip", ip);
  return api(path, { ...init, headers });
}

const sendOtp = (phoneNumber: string, ip: string, headers: Record<string, string> = {}) =>
  portal("/portal/auth/phone-number/send-otp", { method: "POST", json: { phoneNumber }, headers }, ip);
const verifyOtp = (phoneNumber: string, code: string, ip: string) =>
  portal("/portal/auth/phone-number/verify", { method: "POST", json: { phoneNumber, code } }, ip);

async function texts(phone: string): Promise<{ to: string; from: string; body: string }[]> {
  return (await (await fetch(`${TWILIO}/__twilio/messages?to=${encodeURIComponent(phone)}`)).json()) as any[];
}
/** The code of the `n`th SMS sent to `phone` (the send runs after the response, so wait for it). */
async function codeSent(phone: string, n = 1): Promise<string> {
  const msgs = await eventually(
    () => texts(phone),
    (m) => m.length >= n,
  );
  expect(msgs.length).toBeGreaterThanOrEqual(n);
  const { body } = nth(msgs, n - 1, "SMS");
  const code = /\b(\d{6})\b/.exec(body)?.[1];
  if (!code) throw new Error(`no code in ${body}`);
  return code;
}

function sessionCookie(res: Response): string {
  const cookie = res.headers.getAll("set-cookie").find((c) => /better-auth\.session_token=/.test(c));
  if (!cookie) throw new Error(`no session cookie in ${res.status} ${JSON.stringify(res.headers.getAll("set-cookie"))}`);
  const [nameValue = cookie] = cookie.split(";"); // split always yields a first part
  return nameValue;
}

interface Session {
  phone: string;
  cookie: string;
  userId: string;
  ip: string;
}

async function signIn(phone = newPhone(), ip = newIp()): Promise<Session> {
  const before = (await texts(phone)).length;
  const sent = await sendOtp(phone, ip);
  expect(sent.status, await sent.clone().text()).toBe(200);
  const res = await verifyOtp(phone, await codeSent(phone, before + 1), ip);
  expect(res.status, await res.clone().text()).toBe(200);
  const body = (await res.json()) as any;
  return { phone, cookie: sessionCookie(res), userId: body.user.id, ip };
}

const withSession = (s: Session, init: Init = {}): Init => ({ ...init, headers: { ...(init.headers as any), cookie: s.cookie } });

async function makePaying(userId: string, plan = "pro") {
  const res = await api(`/api/admin/users/${userId}`, { method: "PATCH", headers: bearer(await adminJwt()), json: { plan } });
  expect(res.status).toBe(200);
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await res.json()) as any;
  expect(body).toMatchObject({ success: false, error: { code } });
  expect(typeof body.error.message).toBe("string");
  return body;
}

describe("phone-OTP sign-in", () => {
  it("texts a 6-digit code through Twilio; verify sets an httpOnly SameSite session cookie for the Voxgate user", async () => {
    const phone = newPhone();
    const ip = newIp();
    const sent = await sendOtp(phone, ip);
    expect(sent.status).toBe(200);
    expect(await sent.json()).toEqual({ success: true });
    const code = await codeSent(phone);
    const [sms] = await texts(phone);
    expect(sms).toMatchObject({ to: phone, from: env.TWILIO_FROM });
    expect(sms!.body).toContain(code);

    const res = await verifyOtp(phone, code, ip);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toEqual({ success: true, user: { id: expect.stringMatching(/^usr_/), phoneNumber: phone } });
    const setCookie = res.headers.getAll("set-cookie").find((c) => c.includes("session_token="))!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=(Lax|Strict)/i);
    expect(setCookie).toMatch(/Secure/i); // http://voxgate.test is not localhost: cookies are Secure

    const me = await portal("/portal/api/me", withSession({ cookie: sessionCookie(res) } as Session));
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ success: true, user: { id: body.user.id, plan: "free", paygCredits: 0, phoneNumber: phone } });
  });

  it("the same phone number signs in to the same user; the portal user is the user API keys and the admin API see", async () => {
    const first = await signIn();
    const again = await signIn(first.phone);
    expect(again.userId).toBe(first.userId);
    await makePaying(first.userId);
    const me = (await (await portal("/portal/api/me", withSession(again))).json()) as any;
    expect(me.user.plan).toBe("pro");
  });

  it("a wrong code is refused (400) and counts as an attempt; the right one still works", async () => {
    const phone = newPhone();
    const ip = newIp();
    await sendOtp(phone, ip);
    const code = await codeSent(phone);
    const wrong = code === "000000" ? "111111" : "000000";
    const res = await verifyOtp(phone, wrong, ip);
    await expectError(res, 400, "invalid_otp");
    expect(res.headers.getAll("set-cookie").some((c) => c.includes("session_token="))).toBe(false);
    expect((await verifyOtp(phone, code, ip)).status).toBe(200);
  });

  it("an expired code is refused (400 otp_expired), even when it is the right one", async () => {
    const phone = newPhone();
    const ip = newIp();
    await sendOtp(phone, ip);
    const code = await codeSent(phone);
    const upd = await env.DB.prepare("UPDATE auth_verification SET expires_at = ? WHERE identifier = ?")
      .bind(new Date(Date.now() - 1000).toISOString(), `phone-number-otp-${phone}`)
      .run();
    expect(upd.meta.changes).toBe(1);
    const res = await verifyOtp(phone, code, ip);
    await expectError(res, 400, "otp_expired");
    expect(res.headers.getAll("set-cookie").some((c) => c.includes("session_token="))).toBe(false);
  });

  it("three wrong codes burn the code: the fourth try gets 403, and the right code no longer works", async () => {
    const phone = newPhone();
    const ip = newIp();
    await sendOtp(phone, ip);
    const code = await codeSent(phone);
    const wrong = code === "000000" ? "111111" : "000000";
    for (let i = 0; i < 3; i++) await expectError(await verifyOtp(phone, wrong, ip), 400, "invalid_otp");
    await expectError(await verifyOtp(phone, code, ip), 403, "too_many_attempts");
    const after = await verifyOtp(phone, code, ip);
    expect(after.status).toBe(400);
    expect(after.headers.getAll("set-cookie").some((c) => c.includes("session_token="))).toBe(false);
    // A new code starts a fresh budget.
    await sendOtp(phone, ip);
    expect((await verifyOtp(phone, await codeSent(phone, 2), ip)).status).toBe(200);
  });

  it("too many codes to one phone number: 429 with Retry-After, from any address, and no SMS goes out", async () => {
    const phone = newPhone();
    for (let i = 0; i < 3; i++) expect((await sendOtp(phone, newIp())).status).toBe(200);
    await codeSent(phone, 3);
    const res = await sendOtp(phone, newIp());
    await expectError(res, 429, "rate_limited");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(await texts(phone)).toHaveLength(3);
    // Other numbers are not affected.
    expect((await sendOtp(newPhone(), newIp())).status).toBe(200);
  });

  it("too many codes from one address: 429 with Retry-After, whatever the numbers (the limit is in D1, not in memory)", async () => {
    const ip = newIp();
    for (let i = 0; i < 10; i++) expect((await sendOtp(newPhone(), ip)).status, `send ${i + 1}`).toBe(200);
    const blocked = newPhone();
    const res = await sendOtp(blocked, ip);
    await expectError(res, 429, "rate_limited");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    const counter = await env.DB.prepare("SELECT count FROM auth_rate_limit WHERE key = ?")
      .bind(`ip:${ip}|/phone-number/send-otp`)
      .first<{ count: number }>();
    expect(counter?.count).toBe(11);
    expect((await sendOtp(blocked, newIp())).status).toBe(200);
  });

  it("refuses malformed sign-in requests with JSON errors", async () => {
    const ip = newIp();
    await expectError(await sendOtp("5551234", ip), 400, "invalid_phone_number");
    await expectError(
      await portal(
        "/portal/auth/phone-number/send-otp",
        { method: "POST", body: "phoneNumber=%2B15551234567", headers: { "content-type": "application/x-www-form-urlencoded" } },
        ip,
      ),
      415,
      "unsupported_media_type",
    );
    await expectError(
      await portal(
        "/portal/auth/phone-number/send-otp",
        { method: "POST", body: "{nope", headers: { "content-type": "application/json" } },
        ip,
      ),
      400,
      "invalid_json",
    );
    const missing = await portal("/portal/auth/phone-number/verify", { method: "POST", json: {} }, ip);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as any).success).toBe(false);
    await expectError(await verifyOtp(newPhone(), "123456", ip), 400, "otp_not_found");
  });

  it("exposes only the portal's sign-in routes of Better Auth", async () => {
    const ip = newIp();
    for (const path of [
      "/portal/auth/sign-up/email",
      "/portal/auth/sign-in/phone-number",
      "/portal/auth/update-user",
      "/portal/auth/phone-number/request-password-reset",
    ]) {
      await expectError(
        await portal(path, { method: "POST", json: { phoneNumber: "+15551234567", password: "x".repeat(12) } }, ip),
        404,
        "not_found",
      );
    }
    await expectError(await portal("/portal/auth/get-session"), 404, "not_found");
  });

  it("sign-out ends the session", async () => {
    const s = await signIn();
    expect((await portal("/portal/api/me", withSession(s))).status).toBe(200);
    const out = await portal("/portal/auth/sign-out", withSession(s, { method: "POST" }), s.ip);
    expect(out.status).toBe(200);
    await expectError(await portal("/portal/api/me", withSession(s)), 401, "unauthorized");
  });

  it("an SMS provider failure does not fail the request (the send runs after the response) and leaks nothing", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      await fetch(`${TWILIO}/__twilio/fail`, { method: "POST", body: JSON.stringify({ status: 500 }) });
      const phone = newPhone();
      const res = await sendOtp(phone, newIp());
      expect(res.status).toBe(200);
      await eventually(
        async () => errors.mock.calls.length,
        (n) => n > 0,
      );
      const logged = errors.mock.calls.flat().join(" ");
      expect(logged).toMatch(/Twilio answered 500/);
      expect(logged).not.toContain(env.TWILIO_AUTH_TOKEN as string);
    } finally {
      errors.mockRestore();
    }
  });
});

describe("SMS_PROVIDER", () => {
  afterEach(() => vi.restoreAllMocks());

  it("console prints the code to the log (local development)", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await smsSender({ SMS_PROVIDER: "console" } as any)("+15551230000", "Your Voxgate sign-in code is 424242.");
    expect(log.mock.calls.flat().join(" ")).toContain("424242");
  });

  it("twilio without its credentials is a configuration error that names them", () => {
    expect(() => smsSender({ SMS_PROVIDER: "twilio", TWILIO_ACCOUNT_SID: "AC1" } as any)).toThrow(ConfigError);
    expect(() => smsSender({ SMS_PROVIDER: "twilio", TWILIO_ACCOUNT_SID: "AC1" } as any)).toThrow(/TWILIO_AUTH_TOKEN, TWILIO_FROM/);
    expect(() => smsSender({ SMS_PROVIDER: "pigeon" } as any)).toThrow(ConfigError);
  });
});

// ---- the portal API: session only -------------------------------------------------------------------

interface Fixture {
  session: Session;
  apiKey: string;
  keyToRotate: string;
  keyToRevoke: string;
}

/** A paying portal user with keys and stored provider keys for the routes that need them to succeed. */
async function fixture(): Promise<Fixture> {
  const session = await signIn();
  await makePaying(session.userId);
  const create = async () => {
    const res = await portal("/portal/api/keys", withSession(session, { method: "POST", json: { name: "fixture" } }));
    expect(res.status).toBe(201);
    return (await res.json()) as any;
  };
  const a = await create();
  const b = await create();
  const c = await create();
  for (const provider of ["elevenlabs", "deepgram"]) {
    const res = await portal(
      "/portal/api/provider-keys",
      withSession(session, { method: "POST", json: { provider, apiKey: `sk-portal-${provider}-1234` } }),
    );
    expect(res.status).toBe(201);
  }
  return { session, apiKey: a.key, keyToRotate: b.apiKey.id, keyToRevoke: c.apiKey.id };
}

interface PortalRoute {
  method: string;
  path: (f: Fixture) => string;
  json?: unknown;
  ok: number;
}

const ROUTES: PortalRoute[] = [
  { method: "GET", path: () => "/portal/api/me", ok: 200 },
  { method: "GET", path: () => "/portal/api/usage", ok: 200 },
  { method: "GET", path: () => "/portal/api/keys", ok: 200 },
  { method: "POST", path: () => "/portal/api/keys", json: { name: "matrix" }, ok: 201 },
  { method: "POST", path: (f) => `/portal/api/keys/${f.keyToRotate}/rotate`, ok: 201 },
  { method: "DELETE", path: (f) => `/portal/api/keys/${f.keyToRevoke}`, ok: 200 },
  { method: "GET", path: () => "/portal/api/provider-keys", ok: 200 },
  { method: "POST", path: () => "/portal/api/provider-keys", json: { provider: "openai", apiKey: "sk-portal-openai-1234" }, ok: 201 },
  { method: "POST", path: () => "/portal/api/provider-keys/elevenlabs/verify", ok: 200 },
  { method: "DELETE", path: () => "/portal/api/provider-keys/deepgram", ok: 200 },
];

describe("credential matrix: every /portal/api route takes the portal session and nothing else", () => {
  it("none, API key (Bearer and X-API-Key), user JWT and admin JWT get 401; the session gets 2xx", async () => {
    const f = await fixture();
    const userJwt = await jwtFor(uniqueSub());
    const adminJwtToken = await jwtFor(uniqueSub(), { role: "admin" });
    // An API key and a JWT of the signed-in user themselves: still not a portal credential.
    const ownJwt = await jwtFor(uniqueSub());
    const credentials: [string, Record<string, string>][] = [
      ["none", {}],
      ["API key (Bearer)", bearer(f.apiKey)],
      ["API key (X-API-Key)", { "x-api-key": f.apiKey }],
      ["user JWT", bearer(userJwt)],
      ["admin JWT", bearer(adminJwtToken)],
      ["session + API key", { cookie: f.session.cookie, ...bearer(f.apiKey) }],
      ["session + JWT", { cookie: f.session.cookie, ...bearer(ownJwt) }],
    ];
    for (const route of ROUTES) {
      for (const [label, headers] of credentials) {
        const res = await portal(route.path(f), { method: route.method, headers, json: route.json });
        const what = `${route.method} ${route.path(f)} with ${label}`;
        expect(res.status, what).toBe(401);
        expect(((await res.json()) as any).error.code, what).toBe("unauthorized");
      }
      const res = await portal(route.path(f), withSession(f.session, { method: route.method, json: route.json }));
      expect(res.status, `${route.method} ${route.path(f)} with the session: ${await res.clone().text()}`).toBe(route.ok);
      expect(((await res.json()) as any).success ?? true).toBe(true);
    }
  });

  it("the page and the sign-in routes refuse API keys and JWTs too", async () => {
    const u = await newUser({ plan: "pro" });
    const { key } = await createKey(u.jwt);
    for (const headers of [bearer(key), { "x-api-key": key }, bearer(u.jwt), bearer(await adminJwt())]) {
      await expectError(await portal("/portal", { headers }), 401, "unauthorized");
      await expectError(await sendOtp(newPhone(), newIp(), headers), 401, "unauthorized");
    }
    expect((await portal("/portal")).status).toBe(200);
  });

  it("a session whose cookie was tampered with, or that expired, gets 401", async () => {
    const s = await signIn();
    const [name, value = ""] = s.cookie.split("=");
    const tampered = `${name}=${value.slice(0, -3)}abc`;
    await expectError(await portal("/portal/api/me", { headers: { cookie: tampered } }), 401, "unauthorized");
    await env.DB.prepare("UPDATE auth_session SET expires_at = ? WHERE user_id = (SELECT id FROM auth_user WHERE phone_number = ?)")
      .bind(new Date(Date.now() - 1000).toISOString(), s.phone)
      .run();
    await expectError(await portal("/portal/api/me", withSession(s)), 401, "unauthorized");
  });

  it("a state change without a session is 401 with or without an Origin (credentials come before the origin check)", async () => {
    for (const origin of ["", ORIGIN, "https://evil.example"]) {
      const headers = { origin };
      await expectError(await portal("/portal/api/keys", { method: "POST", headers, json: { name: "x" } }), 401, "unauthorized");
      await expectError(await portal("/portal/api/provider-keys/openai", { method: "DELETE", headers }), 401, "unauthorized");
    }
    // With a session, the Origin is still required.
    const s = await signIn();
    await expectError(
      await portal("/portal/api/keys", withSession(s, { method: "POST", headers: { origin: "" }, json: {} })),
      403,
      "forbidden",
    );
  });

  it("unknown portal API routes are 404 for everyone", async () => {
    const s = await signIn();
    await expectError(await portal("/portal/api/nope"), 404, "not_found");
    await expectError(await portal("/portal/api/nope", withSession(s)), 404, "not_found");
  });
});

describe("sign-in from a non-browser client", () => {
  it("send-otp and verify without any Origin work (a browser always sends one); a foreign Origin is 403", async () => {
    const phone = newPhone();
    const ip = newIp();
    const noOrigin = { origin: "" };
    const sent = await portal(
      "/portal/auth/phone-number/send-otp",
      { method: "POST", json: { phoneNumber: phone }, headers: noOrigin },
      ip,
    );
    expect(sent.status, await sent.clone().text()).toBe(200);
    const code = await codeSent(phone);
    const verified = await portal(
      "/portal/auth/phone-number/verify",
      { method: "POST", json: { phoneNumber: phone, code }, headers: noOrigin },
      ip,
    );
    expect(verified.status).toBe(200);
    expect(sessionCookie(verified)).toMatch(/session_token=/);
    await expectError(await sendOtp(newPhone(), newIp(), { origin: "https://evil.example" }), 403, "forbidden");
  });

  it("a sign-in body that fails validation is 400 validation_failed listing the fields, as everywhere else", async () => {
    const ip = newIp();
    const res = await portal("/portal/auth/phone-number/verify", { method: "POST", json: { phoneNumber: newPhone() } }, ip);
    const body = (await res.json()) as any;
    expect(res.status).toBe(400);
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.fields.map((f: any) => f.path)).toContain("code");
  });
});

describe("origin check on state changes", () => {
  it("a missing or foreign Origin gets 403 and changes nothing; reads need no Origin", async () => {
    const f = await fixture();
    const keysBefore = ((await (await portal("/portal/api/keys", withSession(f.session))).json()) as any).apiKeys.length;
    for (const origin of ["", "https://evil.example", "http://voxgate.test.evil.example", "null"]) {
      const headers = { origin };
      await expectError(
        await portal("/portal/api/keys", withSession(f.session, { method: "POST", headers, json: { name: "csrf" } })),
        403,
        "forbidden",
      );
      await expectError(
        await portal(`/portal/api/keys/${f.keyToRevoke}`, withSession(f.session, { method: "DELETE", headers })),
        403,
        "forbidden",
      );
      await expectError(
        await portal(`/portal/api/keys/${f.keyToRotate}/rotate`, withSession(f.session, { method: "POST", headers })),
        403,
        "forbidden",
      );
      await expectError(
        await portal(
          "/portal/api/provider-keys",
          withSession(f.session, { method: "POST", headers, json: { provider: "openai", apiKey: "sk-x-1234" } }),
        ),
        403,
        "forbidden",
      );
      // Sign-in and sign-out refuse another origin; no Origin at all is a non-browser client (next test).
      if (origin !== "") {
        await expectError(await portal("/portal/auth/sign-out", withSession(f.session, { method: "POST", headers })), 403, "forbidden");
        await expectError(await sendOtp(newPhone(), newIp(), headers), 403, "forbidden");
      }
    }
    const after = ((await (await portal("/portal/api/keys", withSession(f.session))).json()) as any).apiKeys;
    expect(after.length).toBe(keysBefore);
    expect(after.every((k: any) => k.revokedAt === null)).toBe(true);
    expect((await portal("/portal/api/me", withSession(f.session))).status).toBe(200);
  });
});

describe("portal API", () => {
  it("keys: a free user may not create one (403); a paying user creates, lists, rotates and revokes, and the keys work on /v1", async () => {
    const s = await signIn();
    await expectError(await portal("/portal/api/keys", withSession(s, { method: "POST", json: {} })), 403, "paid_plan_required");
    await makePaying(s.userId);
    const created = await portal("/portal/api/keys", withSession(s, { method: "POST", json: { name: "web", expiresInDays: 30 } }));
    expect(created.status).toBe(201);
    const { key, apiKey } = (await created.json()) as any;
    expect(apiKey).toMatchObject({ name: "web", revokedAt: null });
    const me = await api("/v1/me", { headers: bearer(key) });
    expect(me.status).toBe(200);
    expect(((await me.json()) as any).user.id).toBe(s.userId);

    const listed = (await (await portal("/portal/api/keys", withSession(s))).json()) as any;
    expect(listed.apiKeys.map((k: any) => k.id)).toEqual([apiKey.id]);
    expect(JSON.stringify(listed)).not.toContain(key);

    const rotated = (await (await portal(`/portal/api/keys/${apiKey.id}/rotate`, withSession(s, { method: "POST" }))).json()) as any;
    expect(rotated.revokedKeyId).toBe(apiKey.id);
    expect((await api("/v1/me", { headers: bearer(key) })).status).toBe(401);
    expect((await api("/v1/me", { headers: bearer(rotated.key) })).status).toBe(200);

    expect((await portal(`/portal/api/keys/${rotated.apiKey.id}`, withSession(s, { method: "DELETE" }))).status).toBe(200);
    expect((await api("/v1/me", { headers: bearer(rotated.key) })).status).toBe(401);
    // Another user's key: 404.
    const other = await newUser({ plan: "pro" });
    const theirs = await createKey(other.jwt);
    await expectError(await portal(`/portal/api/keys/${theirs.id}`, withSession(s, { method: "DELETE" })), 404, "not_found");
  });

  it("provider keys: store, list (never the secret), verify with the provider, delete", async () => {
    const s = await signIn();
    const secret = "sk-portal-eleven-9876";
    const put = await portal(
      "/portal/api/provider-keys",
      withSession(s, { method: "POST", json: { provider: "elevenlabs", apiKey: secret } }),
    );
    expect(put.status).toBe(201);
    const list = await (await portal("/portal/api/provider-keys", withSession(s))).text();
    expect(list).not.toContain(secret);
    expect(JSON.parse(list).providerKeys).toMatchObject([{ provider: "elevenlabs", last4: "9876", verifiedAt: null }]);
    const ok = (await (await portal("/portal/api/provider-keys/elevenlabs/verify", withSession(s, { method: "POST" }))).json()) as any;
    expect(ok).toMatchObject({ success: true, provider: "elevenlabs", valid: true });
    await portal(
      "/portal/api/provider-keys",
      withSession(s, { method: "POST", json: { provider: "elevenlabs", apiKey: "invalid-key-0000" } }),
    );
    const bad = (await (await portal("/portal/api/provider-keys/elevenlabs/verify", withSession(s, { method: "POST" }))).json()) as any;
    expect(bad.valid).toBe(false);
    expect((await portal("/portal/api/provider-keys/elevenlabs", withSession(s, { method: "DELETE" }))).status).toBe(200);
    expect(((await (await portal("/portal/api/provider-keys", withSession(s))).json()) as any).providerKeys).toEqual([]);
  });

  it("usage: /v1/usage's numbers plus one entry per day of the month, split tts/stt/llm", async () => {
    const s = await signIn();
    await makePaying(s.userId);
    const { key } = (await (await portal("/portal/api/keys", withSession(s, { method: "POST", json: {} }))).json()) as any;
    const synth = await api("/v1/synthesize", {
      method: "POST",
      headers: bearer(key),
      json: { provider: "elevenlabs", text: "a".repeat(100) },
    });
    expect(synth.status).toBe(200);
    await synth.arrayBuffer();
    const usage = await eventually(
      async () => (await (await portal("/portal/api/usage", withSession(s))).json()) as any,
      (u) => u.requestCount === 1,
    );
    const today = new Date().toISOString().slice(0, 10);
    const [y = 0, m = 0] = today.split("-").map(Number); // "YYYY-MM-DD": both are there
    expect(usage.period).toBe(today.slice(0, 7));
    expect(usage.daily).toHaveLength(new Date(Date.UTC(y, m, 0)).getUTCDate());
    expect(usage.daily[0].day).toBe(`${today.slice(0, 7)}-01`);
    expect(usage.daily.find((d: any) => d.day === today)).toEqual({ day: today, tts: 14.94, stt: 0, llm: 0 });
    expect(usage.breakdown.tts).toBe(14.94);
    const v1 = (await (await api("/v1/usage", { headers: bearer(key) })).json()) as any;
    expect({ credits: usage.credits, breakdown: usage.breakdown }).toEqual({ credits: v1.credits, breakdown: v1.breakdown });
  });

  it("the per-day series fills every day of the month and converts millicredits", () => {
    const days = dailySeries("2028-02", [
      { day: "2028-02-03", kind: "tts", mc: 1500 },
      { day: "2028-02-03", kind: "llm", mc: 25 },
      { day: "2028-02-29", kind: "stt", mc: 9000 },
    ]);
    expect(days).toHaveLength(29);
    expect(days[2]).toEqual({ day: "2028-02-03", tts: 1.5, stt: 0, llm: 0.025 });
    expect(days[28]).toEqual({ day: "2028-02-29", tts: 0, stt: 9, llm: 0 });
  });

  it("portal requests are admitted like /v1 requests: rate-limit headers, and 429 past the plan's limit", async () => {
    const s = await signIn();
    const res = await portal("/portal/api/me", withSession(s));
    expect(res.headers.get("x-ratelimit-limit")).toBe("30");
    let last = res;
    // 30 a minute with bursts of 30 (GCRA): a token comes back every 2 s while the loop runs.
    for (let i = 0; i < 40 && last.status !== 429; i++) last = await portal("/portal/api/me", withSession(s));
    await expectError(last, 429, "rate_limited");
    expect(Number(last.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("GET /portal", () => {
  it("serves a self-contained page: no external scripts, styles or fonts, a nonce CSP", async () => {
    const res = await portal("/portal");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    for (const id of [
      "phone",
      "send-code",
      "code",
      "verify",
      "key-name",
      "create-key",
      "new-key-value",
      "copy-key",
      "chart",
      "pk-provider",
    ]) {
      expect(html).toContain(`id="${id}"`);
    }
    expect(html).toContain('value="elevenlabs"');
    expect(html).toContain('value="huggingface"');
  });

  it("is listed in the OpenAPI document with its sign-in and API routes", async () => {
    const res = await api("/openapi.json");
    const doc = (await res.json()) as any;
    expect(res.status, JSON.stringify(doc).slice(0, 500)).toBe(200);
    for (const path of [
      "/portal/auth/phone-number/send-otp",
      "/portal/auth/phone-number/verify",
      "/portal/api/me",
      "/portal/api/usage",
      "/portal/api/keys",
      "/portal/api/keys/{id}/rotate",
      "/portal/api/provider-keys",
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.paths["/portal/api/keys"].post.security).toEqual([{ portalSession: [] }]);
  });
});
