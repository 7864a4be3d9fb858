// Hostile callers of the portal's sign-in (issue 13, API.md §7): the console SMS provider only for
// requests to a loopback host, the global cap on sends per hour, the bound on wrong codes per phone
// number and day, and a sign-in body that is cut off while it is read.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../../src/index";
import { env } from "../../helpers/env";
import { newPhone, otpFor, portalSession } from "../../helpers/reliability";

const SEND = "/portal/auth/phone-number/send-otp";
const VERIFY = "/portal/auth/phone-number/verify";

let ipSeq = Math.floor(Math.random() * 60_000);
/** A client address of its own, so Better Auth's per-IP limits never get in the way of what is measured. */
function newIp(): string {
  const n = ipSeq++;
  return `10.${200 + ((n >> 16) % 50)}.${(n >> 8) & 255}.${n & 255}`;
}

type Env = object;
/** An env of the test deployment with `vars` on top (one object per scenario: its config is parsed once). */
const envWith = (vars: Record<string, string>): Env => ({ ...env, ...vars });

/** POST a JSON body through the worker's fetch handler, as a browser on `origin` would. */
async function post(e: Env, origin: string, path: string, json: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const req = new Request(`${origin}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin, "cf-connecting-ip": newIp(), ...headers },
    body: JSON.stringify(json),
  });
  const res = await worker.fetch(req, e as any, ctx);
  await res.clone().arrayBuffer();
  await waitOnExecutionContext(ctx);
  return res;
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(await res.json()).toMatchObject({ success: false, error: { code, message: expect.any(String) } });
}

async function storedCode(phone: string): Promise<string | null> {
  const row = await env.DB.prepare("SELECT value FROM auth_verification WHERE identifier = ?")
    .bind(`phone-number-otp-${phone}`)
    .first<{ value: string }>();
  return row?.value ?? null;
}

async function counter(key: string): Promise<{ count: number; window_start: number } | null> {
  return env.DB.prepare("SELECT count, window_start FROM auth_rate_limit WHERE key = ?")
    .bind(key)
    .first<{ count: number; window_start: number }>();
}

afterEach(() => vi.restoreAllMocks());

describe("SMS_PROVIDER=console serves only loopback hosts", () => {
  const consoleEnv = envWith({ SMS_PROVIDER: "console" });

  it("a deployed host → 503 sms_not_configured (no code generated, stored, logged or counted); loopback hosts get the code", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const tries: [string, Record<string, string>][] = [
      ["https://voxgate.example.com", {}],
      // Headers a caller sets on the side never make a request local.
      ["https://voxgate.example.com", { "x-forwarded-host": "localhost", forwarded: "host=127.0.0.1", "x-forwarded-for": "127.0.0.1" }],
      ["http://localhost.voxgate.example", {}],
      ["http://127.0.0.1.nip.io", {}],
    ];
    for (const [origin, headers] of tries) {
      const phone = newPhone();
      await expectError(await post(consoleEnv, origin, SEND, { phoneNumber: phone }, headers), 503, "sms_not_configured");
      expect(await storedCode(phone)).toBeNull();
      expect(await counter(`phone:${phone}`)).toBeNull();
    }
    expect(log.mock.calls.flat().join(" ")).not.toMatch(/sign-in code/);

    // `wrangler dev` on this machine: the code is printed to the log.
    for (const origin of ["http://localhost:8787", "http://127.0.0.1:8787", "http://[::1]:8787"]) {
      const phone = newPhone();
      const res = await post(consoleEnv, origin, SEND, { phoneNumber: phone });
      expect(res.status, `${origin}: ${await res.clone().text()}`).toBe(200);
      const code = await otpFor(phone);
      expect(log.mock.calls.flat().join(" ")).toContain(`SMS to ${phone}: Your Voxgate sign-in code is ${code}`);
    }
    // Twilio serves any host.
    const phone = newPhone();
    expect((await post(env, "https://voxgate.example.com", SEND, { phoneNumber: phone })).status).toBe(200);
    expect(await storedCode(phone)).not.toBeNull();
  });
});

describe("OTP_SENDS_PER_HOUR caps the codes sent by everyone", () => {
  it("beyond the cap: 429 rate_limited with Retry-After, from any address and for any number, and no code is made", async () => {
    const now = Date.now();
    const before = await counter("otp:global");
    const used = before && now - before.window_start < 3600_000 ? before.count : 0;
    const capped = envWith({ OTP_SENDS_PER_HOUR: String(used + 2) });
    for (let i = 0; i < 2; i++) {
      const phone = newPhone();
      expect((await post(capped, "https://voxgate.example.com", SEND, { phoneNumber: phone })).status, `send ${i + 1}`).toBe(200);
    }
    for (let i = 0; i < 2; i++) {
      const phone = newPhone();
      const res = await post(capped, "https://voxgate.example.com", SEND, { phoneNumber: phone });
      const retryAfter = Number(res.headers.get("retry-after"));
      await expectError(res, 429, "rate_limited");
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(3600);
      expect(await storedCode(phone)).toBeNull();
    }
    // The counter is in D1: every isolate and location counts against the same number.
    expect((await counter("otp:global"))?.count).toBe(used + 4);
  });

  it("defaults to 1000 an hour", async () => {
    const { getConfig } = await import("../../../src/config");
    expect(getConfig(envWith({ OTP_SENDS_PER_HOUR: "" }) as any).OTP_SENDS_PER_HOUR).toBe(1000);
  });
});

describe("wrong codes per phone number and day", () => {
  it("after 20 wrong codes (from any addresses) even the right code gets 429 for the rest of the day", async () => {
    const phone = newPhone();
    for (let i = 0; i < 20; i++) {
      const res = await post(env, "https://voxgate.example.com", VERIFY, { phoneNumber: phone, code: String(100000 + i) });
      expect(res.status, `guess ${i + 1}`).toBe(400); // no code was sent: otp_not_found
    }
    expect((await post(env, "https://voxgate.example.com", SEND, { phoneNumber: phone })).status).toBe(200);
    const res = await post(env, "https://voxgate.example.com", VERIFY, { phoneNumber: phone, code: await otpFor(phone) });
    const retryAfter = Number(res.headers.get("retry-after"));
    await expectError(res, 429, "rate_limited");
    expect(retryAfter).toBeGreaterThan(23 * 3600);
    expect(retryAfter).toBeLessThanOrEqual(24 * 3600);
  });

  it("a right code is not counted", async () => {
    const phone = newPhone();
    expect((await post(env, "https://voxgate.example.com", SEND, { phoneNumber: phone })).status).toBe(200);
    const res = await post(env, "https://voxgate.example.com", VERIFY, { phoneNumber: phone, code: await otpFor(phone) });
    expect(res.status).toBe(200);
    expect((await counter(`verify:${phone}`))?.count).toBe(0);
  });
});

/** A body of `total` bytes of JSON whitespace, produced only as it is read: how much was pulled, and whether it was cancelled. */
function countingBody(total: number, chunk = 1024) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (seen.pulled >= total) return controller.close();
        seen.pulled += chunk;
        controller.enqueue(new Uint8Array(chunk).fill(0x20));
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

/** A chunked POST (no Content-Length) of `body` through the worker's fetch handler. */
async function postStream(path: string, body: ReadableStream<Uint8Array>, extra: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const req = new Request(`https://voxgate.example.com${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: "https://voxgate.example.com", "cf-connecting-ip": newIp(), ...extra },
    body,
  });
  expect(req.headers.get("content-length")).toBeNull();
  const res = await worker.fetch(req, env as any, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("sign-in bodies are capped while they are read", () => {
  it("a chunked 1 MiB body without Content-Length → 413 payload_too_large, read only up to about 16 KiB", async () => {
    const { stream, seen } = countingBody(1024 * 1024);
    await expectError(await postStream(SEND, stream), 413, "payload_too_large");
    expect(seen.pulled).toBeLessThanOrEqual(16 * 1024 + 4 * 1024);
    expect(seen.cancelled).toBe(true);

    // A body just under the cap (whitespace and all) is still read.
    const phone = newPhone();
    const under = new Request(`https://voxgate.example.com${SEND}`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://voxgate.example.com", "cf-connecting-ip": newIp() },
      body: `${" ".repeat(15 * 1024)}${JSON.stringify({ phoneNumber: phone })}`,
    });
    const ctx2 = createExecutionContext();
    const ok = await worker.fetch(under, env as any, ctx2);
    await waitOnExecutionContext(ctx2);
    expect(ok.status, await ok.clone().text()).toBe(200);
  });

  it("the portal's JSON API (/portal/api/*) never reads a chunked body past its 1 MiB cap: 401 unread without a session, 413 with one", async () => {
    const anonymous = countingBody(4 * 1024 * 1024);
    await expectError(await postStream("/portal/api/keys", anonymous.stream), 401, "unauthorized");
    expect(anonymous.seen.pulled).toBeLessThanOrEqual(1024 * 1024 + 4 * 1024);
    const { cookie } = await portalSession();
    const signedIn = countingBody(4 * 1024 * 1024);
    await expectError(await postStream("/portal/api/keys", signedIn.stream, { cookie }), 413, "payload_too_large");
    expect(signedIn.seen.pulled).toBeLessThanOrEqual(1024 * 1024 + 4 * 1024);
  });
});
