// Client tokens for browsers, which cannot set headers on a WebSocket (API.md §4.3):
//   vgt_<base64url(user id)>.<32 random bytes, base64url>
// The token names its user, so the worker finds the user's Account object without D1; the object holds
// only the token's SHA-256 and marks it used when it opens a session (src/account/sessions.ts).
// Sent as the query parameter `token` or the subprotocol `voxgate-token.<token>` (echoed back only when the
// client offered no subprotocol without a credential beside it).
//
// On /v1/realtime also as OpenAI's browser clients send a key (the official SDK's OpenAIRealtimeWebSocket
// offers ["realtime", "openai-insecure-api-key.<key>"]): a client token or an API key there is taken as
// if sent in a header, and answered, as OpenAI answers, with the subprotocol `realtime`. A subprotocol
// carrying a credential is never the one answered (response headers end up in proxies' logs).
import type { Ctx } from "../context";
import { bytesToBase64url } from "../encoding/base64";

export const CLIENT_TOKEN_PREFIX = "vgt_";
export const TOKEN_SUBPROTOCOL_PREFIX = "voxgate-token.";
export const OPENAI_KEY_SUBPROTOCOL_PREFIX = "openai-insecure-api-key.";
/** Paths of the realtime WebSocket upgrades (the only ones a client token opens). */
export const REALTIME_UPGRADE_PATHS = /^\/v1\/realtime(\/listen|\/speak)?\/?$/;
/** The OpenAI Realtime passthrough: the one path that takes OpenAI's key subprotocol. */
const OPENAI_REALTIME_PATH = /^\/v1\/realtime\/?$/;

const SECRET_BYTES = 32;
const TOKEN_PATTERN = /^vgt_([A-Za-z0-9_-]{4,200})\.([A-Za-z0-9_-]{43})$/;

export function newClientToken(userId: string): string {
  const user = bytesToBase64url(new TextEncoder().encode(userId));
  return `${CLIENT_TOKEN_PREFIX}${user}.${bytesToBase64url(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)))}`;
}

/** The user a well-formed token names (whether it is valid is the Account object's to say). */
export function tokenUser(token: string): string | undefined {
  const m = TOKEN_PATTERN.exec(token);
  if (!m?.[1]) return undefined;
  try {
    const b64 = m[1].replaceAll("-", "+").replaceAll("_", "/");
    const user = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
    return /^[A-Za-z0-9_-]{1,100}$/.test(user) ? user : undefined;
  } catch {
    return undefined;
  }
}

/** The subprotocols a client offered. */
export function offeredSubprotocols(c: Ctx): string[] {
  return (c.req.header("sec-websocket-protocol") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

/** The credential in OpenAI's key subprotocol, on GET /v1/realtime (an API key or a client token). */
export function openAiSubprotocolCredential(c: Ctx): string | undefined {
  if (c.req.method !== "GET" || !OPENAI_REALTIME_PATH.test(c.req.path)) return undefined;
  const sub = offeredSubprotocols(c).find((p) => p.startsWith(OPENAI_KEY_SUBPROTOCOL_PREFIX));
  return sub?.slice(OPENAI_KEY_SUBPROTOCOL_PREFIX.length) || undefined;
}

/**
 * The client token of a realtime upgrade, from the query, a `voxgate-token.` subprotocol (then the
 * subprotocol to echo), or OpenAI's key subprotocol.
 */
export function clientTokenOf(c: Ctx): { token: string; subprotocol?: string } | undefined {
  const sub = offeredSubprotocols(c).find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
  if (sub) return { token: sub.slice(TOKEN_SUBPROTOCOL_PREFIX.length), subprotocol: sub };
  const query = c.req.query("token");
  if (query) return { token: query };
  const openAi = openAiSubprotocolCredential(c);
  return openAi?.startsWith(CLIENT_TOKEN_PREFIX) ? { token: openAi } : undefined;
}

/**
 * The subprotocol a 101 answers with: `realtime` if offered (OpenAI's answer), else the first that carries no
 * credential; the `voxgate-token.` one only when it is all the client offered (a browser refuses a 101 that
 * answers none of its offers), since response headers end up in proxies' logs.
 */
export function answeredSubprotocol(c: Ctx, token?: { subprotocol?: string }): string | undefined {
  const plain = offeredSubprotocols(c).filter(
    (p) => !p.startsWith(TOKEN_SUBPROTOCOL_PREFIX) && !p.startsWith(OPENAI_KEY_SUBPROTOCOL_PREFIX),
  );
  if (plain.length === 0) return token?.subprotocol;
  return plain.includes("realtime") ? "realtime" : plain[0];
}

/**
 * A realtime upgrade that carries its credential where a browser can put it — a client token, or on
 * /v1/realtime OpenAI's key subprotocol — and none in a header: its route checks it (authentication by
 * header does not apply). A header credential, when sent, always wins.
 */
export function carriesClientToken(c: Ctx): boolean {
  if (c.req.method !== "GET" || !REALTIME_UPGRADE_PATHS.test(c.req.path)) return false;
  if (c.req.header("authorization") !== undefined || c.req.header("x-api-key") !== undefined) return false;
  return clientTokenOf(c) !== undefined || openAiSubprotocolCredential(c) !== undefined;
}
