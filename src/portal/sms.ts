// Sending the portal's one-time codes by SMS, through SMS_PROVIDER: `console` (local development: the
// code is printed to the log) or `twilio` (Twilio's Messages API over fetch; TWILIO_BASE_URL lets tests
// and proxies stand in for api.twilio.com).
import { ConfigError } from "../config";
import type { Env } from "../env";

export type SendSms = (to: string, body: string) => Promise<void>;

/** Twilio answers a slow send with a timeout of its own; don't keep the background task longer. */
const TWILIO_TIMEOUT_MS = 10_000;

export function otpMessage(code: string): string {
  return `Your Voxgate sign-in code is ${code}. It expires in 5 minutes.`;
}

/** The configured sender. A misconfigured Twilio fails here, at the first send-otp, with the variable named. */
export function smsSender(env: Env): SendSms {
  const provider = str(env.SMS_PROVIDER) || "console";
  if (provider === "console") {
    return async (to, body) => console.log(`[voxgate] SMS to ${to}: ${body}`);
  }
  if (provider !== "twilio") throw new ConfigError(`Invalid configuration: SMS_PROVIDER: must be console or twilio`);
  const missing = ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"].filter((k) => !str(env[k]));
  if (missing.length) throw new ConfigError(`Invalid configuration: SMS_PROVIDER is twilio but ${missing.join(", ")} is not set`);
  const sid = str(env.TWILIO_ACCOUNT_SID);
  const token = str(env.TWILIO_AUTH_TOKEN);
  const from = str(env.TWILIO_FROM);
  const base = (str(env.TWILIO_BASE_URL) || "https://api.twilio.com").replace(/\/+$/, "");
  const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(sid)}/Messages.json`;
  const authorization = `Basic ${btoa(`${sid}:${token}`)}`;
  return async (to, body) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization, "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ To: to, From: from, Body: body }),
      signal: AbortSignal.timeout(TWILIO_TIMEOUT_MS),
    });
    if (!res.ok) {
      // Twilio's error body names the problem (e.g. code 21211, invalid 'To'); it never echoes our token.
      const detail = (await res.text().catch(() => "")).slice(0, 300);
      throw new Error(`Twilio answered ${res.status} for an SMS to ${maskPhone(to)}: ${detail}`);
    }
    await res.body?.cancel();
  };
}

/** +15551234567 → +1555•••4567: enough to find a failed send in the log, not a full number. */
export function maskPhone(phone: string): string {
  return phone.length > 8 ? `${phone.slice(0, 5)}•••${phone.slice(-4)}` : "•••";
}

function str(v: unknown): string {
  return typeof v === "string" ? v.trim() : "";
}
