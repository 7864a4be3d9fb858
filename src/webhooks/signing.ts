// Standard Webhooks signatures (https://www.standardwebhooks.com/, the scheme Svix publishes): the secret
// is `whsec_` + base64 of random bytes; each request carries `webhook-id` (the event id, the same on
// every retry, so receivers can deduplicate), `webhook-timestamp` (Unix seconds, fresh on every attempt,
// so a receiver's replay window holds for retries hours later) and `webhook-signature: v1,<base64 of
// HMAC-SHA256 over "<id>.<timestamp>.<body>" keyed with the secret's bytes>`.
import { base64ToBytes, bytesToBase64 } from "../encoding/base64";

export const SECRET_PREFIX = "whsec_";
/** Standard Webhooks asks for 24–64 bytes of secret. */
const SECRET_BYTES = 32;

export function newSecret(): string {
  return SECRET_PREFIX + bytesToBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

export async function signature(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  const raw = base64ToBytes(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${bytesToBase64(new Uint8Array(mac))}`;
}

/** The headers of one delivery attempt of `body` (the event, serialized once for every attempt). */
export async function signedHeaders(secret: string, id: string, body: string, now: number): Promise<Record<string, string>> {
  const timestamp = Math.floor(now / 1000);
  return {
    "content-type": "application/json",
    "user-agent": "Voxgate-Webhooks/1.0",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signature(secret, id, timestamp, body),
  };
}
