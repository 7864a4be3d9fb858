// JWT verification with jose against JWT_JWKS_URL (remote, cached per isolate) or JWT_JWKS (inline).
import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from "jose";
import type { Config } from "../config";

/** The algorithm allow-list (API.md §1); anything else, `none` included, is refused. */
export const JWT_ALGORITHMS = ["RS256", "ES256", "EdDSA"];

type KeySet = ReturnType<typeof createLocalJWKSet> | ReturnType<typeof createRemoteJWKSet>;
// Module scope: the remote set's cache lives on the resolver, so keep one per URL / inline JWKS.
const keySets = new Map<string, KeySet>();

function keySet(config: Config): KeySet | null {
  const { JWT_JWKS_URL: url, JWT_JWKS: inline } = config;
  const id = url ?? inline;
  if (!id) return null;
  let set = keySets.get(id);
  if (!set) {
    set = url ? createRemoteJWKSet(new URL(url)) : createLocalJWKSet(JSON.parse(id));
    keySets.set(id, set);
  }
  return set;
}

export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

export type JwtResult = { ok: true; payload: JWTPayload & { sub: string } } | { ok: false; reason: string };

export async function verifyJwt(token: string, config: Config): Promise<JwtResult> {
  const set = keySet(config);
  if (!set || !config.JWT_ISSUER || !config.JWT_AUDIENCE) return { ok: false, reason: "JWT sign-in is not configured" };
  try {
    const { payload } = await jwtVerify(token, set, {
      algorithms: JWT_ALGORITHMS,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    });
    if (typeof payload.sub !== "string" || payload.sub.length === 0 || payload.sub.length > 255) {
      return { ok: false, reason: "token has no subject" };
    }
    return { ok: true, payload: payload as JWTPayload & { sub: string } };
  } catch (e) {
    if (e instanceof errors.JWTExpired) return { ok: false, reason: "token expired" };
    if (e instanceof errors.JWTClaimValidationFailed) return { ok: false, reason: `token ${e.claim} claim is not accepted` };
    return { ok: false, reason: "token is not valid" };
  }
}
