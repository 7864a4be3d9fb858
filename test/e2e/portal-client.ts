// Node-side helpers for the portal's end-to-end tests: the mock Twilio (started by
// test/helpers/twilio-setup.ts) and the portal's sign-in calls, as a browser on the portal makes them.
import { inject } from "vitest";
import { call, settled, workerUrl } from "./client";

/** The mock Twilio's origin: provided by its global setup (or found from the port test-config chose). */
export function twilioOrigin(): string {
  try {
    const provided = inject("twilioOrigin");
    if (provided) return provided;
  } catch {}
  return process.env.VOXGATE_TWILIO_PORT ? `http://127.0.0.1:${process.env.VOXGATE_TWILIO_PORT}` : "";
}

export async function texts(phone: string): Promise<{ to: string; body: string }[]> {
  return (await (await fetch(`${twilioOrigin()}/__twilio/messages?to=${encodeURIComponent(phone)}`)).json()) as any[];
}

/** The code in the `n`th SMS sent to `phone` (it goes out after the response: wait for it). */
export async function waitForCode(phone: string, n = 1): Promise<string> {
  const msgs = await settled(
    () => texts(phone),
    (m) => m.length >= n,
  );
  const sms = msgs[n - 1];
  const code = sms && /\b(\d{6})\b/.exec(sms.body)?.[1];
  if (!code) throw new Error(`no SMS #${n} to ${phone} (got ${msgs.length})`);
  return code;
}

let seq = Math.floor(Math.random() * 9_000_000);
export const newPhone = () => `+1555${String(seq++ % 10_000_000).padStart(7, "0")}`;

/** A same-origin request, as the portal page makes it. */
export function portalCall(path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  if (init.method && init.method !== "GET" && !headers.has("origin")) headers.set("origin", workerUrl());
  return call(path, { ...init, headers });
}

export const sendOtp = (phoneNumber: string) => portalCall("/portal/auth/phone-number/send-otp", { method: "POST", json: { phoneNumber } });
export const verifyOtp = (phoneNumber: string, code: string) =>
  portalCall("/portal/auth/phone-number/verify", { method: "POST", json: { phoneNumber, code } });

export function sessionCookie(res: Response): string | undefined {
  return setCookies(res)
    .find((c) => c.includes("better-auth.session_token="))
    ?.split(";")[0];
}

/** Each Set-Cookie header. These tests run in Node, whose Headers has getSetCookie(); the repo's types are workerd's, which lack it. */
export function setCookies(res: Response): string[] {
  return (res.headers as Headers & { getSetCookie(): string[] }).getSetCookie();
}
