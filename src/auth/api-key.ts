// API key format: <prefix><secret>, the secret 32 random bytes in base64url (43 characters).
// Only the SHA-256 of the whole key is stored; keyPrefix (shown in listings) is prefix + 5 characters.
import { bytesToBase64url } from "../encoding/base64";

const SECRET_BYTES = 32;
const SECRET_CHARS = 43;
const KEY_PREFIX_SHOWN_CHARS = 5;

export function generateApiKey(prefix: string): { plaintext: string; keyPrefix: string } {
  const secret = bytesToBase64url(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
  return { plaintext: prefix + secret, keyPrefix: prefix + secret.slice(0, KEY_PREFIX_SHOWN_CHARS) };
}

/**
 * A key under a prefix an operator may have set before (letters, digits and _, ending in _, as `plabs_` and
 * `sona_sk_` do) followed by its secret. A key stays valid when the operator changes `API_KEY_PREFIX` (API.md
 * §1: valid until revoked or expired): its hash covers the prefix it was made with. The closing `_` keeps
 * other opaque tokens (a 64-character hex string) from costing a key look-up.
 */
const EARLIER_PREFIX_KEY = new RegExp(`^[A-Za-z0-9_]{0,31}_[A-Za-z0-9_-]{${SECRET_CHARS}}$`);

/** Does this bearer token look like one of our API keys (as opposed to a JWT) — under this prefix or an earlier one? */
export function looksLikeApiKey(token: string, prefix: string): boolean {
  if (token.startsWith(prefix) && token.length === prefix.length + SECRET_CHARS) return /^[A-Za-z0-9_-]+$/.test(token.slice(prefix.length));
  return EARLIER_PREFIX_KEY.test(token);
}

export function newKeyId(): string {
  return `key_${crypto.randomUUID().replaceAll("-", "")}`;
}
