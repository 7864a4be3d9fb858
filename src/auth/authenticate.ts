// Who is calling: an API key (Authorization: Bearer or X-API-Key) or a JWT (Bearer).
// A recently seen key is resolved from this isolate's memory — no D1 query. Whether it is still valid
// (not revoked, rotated out or expired) is decided by the user's Account object when the request is
// admitted (src/gateway/admission.ts), in the same round trip that rate-limits it, so revocation is
// immediate everywhere — and so a key's lastUsedAt is written only once admission said yes (keyAdmitted).
import type { MiddlewareHandler } from "hono";
import { type AppEnv, type Ctx, executionCtxOf, type Principal } from "../context";
import { sha256Hex } from "../crypto/sha256";
import { findKeyByHash, touchKey } from "../db/api-keys";
import { userForSubject } from "../db/users";
import { ApiError } from "../http/errors";
import { looksLikeApiKey } from "./api-key";
import { looksLikeJwt, verifyJwt } from "./jwt";
import {
  keysByHash,
  lastUsedWrites,
  remember,
  returnKeyLookup,
  revokedHashes,
  takeKeyLookup,
  unknownHashes,
  usersBySubject,
} from "./key-cache";

/** lastUsedAt is written at most this often per key and isolate: it may lag, it must not slow requests. */
const LAST_USED_WRITE_INTERVAL_MS = 60_000;

const unauthorized = (message: string) => new ApiError("unauthorized", message);

/**
 * The credential a request carries, or undefined. 400 when both headers carry different values. An empty
 * (or whitespace-only) header carries nothing: it is treated as absent, not as a second credential.
 */
export function credentialOf(c: Ctx): string | undefined {
  const authorization = c.req.header("authorization")?.trim() || undefined;
  const xApiKey = c.req.header("x-api-key")?.trim() || undefined;
  let bearer: string | undefined;
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw unauthorized("The Authorization header must be 'Bearer <API key or JWT>'.");
    bearer = m[1];
  }
  if (bearer !== undefined && xApiKey !== undefined && bearer !== xApiKey) {
    throw new ApiError("conflicting_credentials", "Authorization and X-API-Key carry different credentials; send one.");
  }
  return bearer ?? xApiKey;
}

export async function principalFor(c: Ctx, token: string): Promise<Principal> {
  const config = c.get("config");
  if (looksLikeApiKey(token, config.API_KEY_PREFIX)) return apiKeyPrincipal(c, token);
  if (looksLikeJwt(token) && c.req.header("authorization")) {
    const result = await verifyJwt(token, config);
    if (!result.ok && result.unavailable) {
      throw new ApiError("auth_unavailable", "Tokens cannot be verified right now (the key set is unreachable); try again shortly.");
    }
    if (!result.ok) throw unauthorized(`Invalid token: ${result.reason}.`);
    const sub = result.payload.sub;
    let userId = usersBySubject.get(sub);
    if (!userId) {
      userId = (await userForSubject(c.get("bindings").db, sub, Date.now())).id;
      remember(usersBySubject, sub, userId);
    }
    // exp is required (jwt.ts): a live session (realtime) ends when it passes.
    const expiresAt = typeof result.payload.exp === "number" ? result.payload.exp * 1000 : undefined;
    return { kind: "jwt", userId, isAdmin: result.payload.role === "admin", rateKey: "user", expiresAt };
  }
  throw unauthorized("The credential is not a valid API key or token.");
}

async function apiKeyPrincipal(c: Ctx, token: string): Promise<Principal> {
  const hash = await sha256Hex(token);
  const now = Date.now();
  let key = keysByHash.get(hash);
  if (!key) {
    if (unknownHashes.has(hash)) throw unauthorized("Unknown API key.");
    if (revokedHashes.has(hash)) throw unauthorized("This API key has been revoked.");
    // A key this isolate has not seen costs a D1 read: bounded per client address (key-cache.ts).
    const address = c.req.header("cf-connecting-ip") ?? "";
    const retryAfter = takeKeyLookup(address, now);
    if (retryAfter > 0) {
      throw new ApiError("rate_limited", "Too many unknown API keys from this address; try again later.", undefined, {
        "retry-after": String(retryAfter),
      });
    }
    const row = await findKeyByHash(c.get("bindings").db, hash);
    if (!row) {
      remember(unknownHashes, hash);
      throw unauthorized("Unknown API key.");
    }
    if (row.revokedAt !== null) {
      // Counted against the address like a miss, and remembered: revocation is never undone.
      remember(revokedHashes, hash);
      throw unauthorized("This API key has been revoked.");
    }
    returnKeyLookup(address, now);
    key = { keyId: row.id, userId: row.userId, expiresAt: row.expiresAt };
    remember(keysByHash, hash, key);
  }
  if (key.expiresAt !== null && key.expiresAt <= now) throw unauthorized("This API key has expired.");
  return { kind: "api_key", userId: key.userId, keyId: key.keyId, isAdmin: false, rateKey: key.keyId };
}

/**
 * The user's Account object admitted a request made with this key: record the use. Not before — a
 * revoked or rotated-out key this isolate still remembers is refused there, and a refused request
 * changes no state (API.md §8). After the response (waitUntil), at most once per interval per isolate.
 */
export function keyAdmitted(c: Ctx, keyId: string): void {
  const now = Date.now();
  const ctx = executionCtxOf(c);
  if (!ctx || now - (lastUsedWrites.get(keyId) ?? 0) < LAST_USED_WRITE_INTERVAL_MS) return;
  remember(lastUsedWrites, keyId, now);
  ctx.waitUntil(touchKey(c.env.DB, keyId, now).catch(() => {}));
}

/** Require an API key or JWT; sets c.get("principal"). */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = credentialOf(c);
  if (!token) throw unauthorized("Send an API key (Authorization: Bearer or X-API-Key) or a JWT.");
  c.set("principal", await principalFor(c, token));
  await next();
};

/** Admin routes: an admin JWT only (an API key or a user JWT gets 403). */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const p = c.get("principal");
  if (p.kind !== "jwt" || !p.isAdmin) throw new ApiError("forbidden", "This route takes an admin JWT.");
  await next();
};
