// JWT verification with jose against JWT_JWKS_URL (remote, cached per isolate) or JWT_JWKS (inline).
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type FlattenedJWSInput,
  type JWTHeaderParameters,
  type JWTPayload,
  jwtVerify,
} from "jose";
import type { Config } from "../config";

/** The algorithm allow-list (API.md §1); anything else, `none` included, is refused. */
export const JWT_ALGORITHMS = ["RS256", "ES256", "EdDSA"];
/** Claims a token must carry (API.md §1): one without an expiry or a subject is refused. */
const REQUIRED_CLAIMS = ["exp", "sub"];

type KeyResolver = (header: JWTHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;
// Module scope: the remote set's cache (and its refresh) lives on jose's resolver, so keep one per URL /
// inline JWKS for the life of the isolate.
const keySets = new Map<string, KeyResolver>();

/** The remote JWKS could not be fetched (network error, timeout, non-200, not a JWKS). */
class JwksUnavailable extends Error {}

/**
 * Did fetching the JWKS fail (rather than the token not matching it)? jose's remote set throws
 * JWKSTimeout, JWKSInvalid (the document is not a JWKS), a plain JOSEError (non-200, invalid JSON) or the
 * fetch's own error (connection refused); a token it cannot match throws JWKSNoMatchingKey and the like.
 */
function isFetchFailure(e: unknown): boolean {
  if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid) return true;
  if (!(e instanceof errors.JOSEError)) return true;
  return e.code === errors.JOSEError.code;
}

function remoteKeySet(url: string): KeyResolver {
  const remote = createRemoteJWKSet(new URL(url));
  return async (header, token) => {
    try {
      return (await remote(header, token)) as CryptoKey;
    } catch (e) {
      throw isFetchFailure(e) ? new JwksUnavailable("JWKS unavailable", { cause: e }) : e;
    }
  };
}

function keySet(config: Config): KeyResolver | null {
  const { JWT_JWKS_URL: url, JWT_JWKS: inline } = config;
  const id = url ?? inline;
  if (!id) return null;
  let set = keySets.get(id);
  if (!set) {
    set = url ? remoteKeySet(url) : (createLocalJWKSet(JSON.parse(id)) as KeyResolver);
    keySets.set(id, set);
  }
  return set;
}

export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

export type JwtResult =
  | { ok: true; payload: JWTPayload & { sub: string } }
  // unavailable: the JWKS could not be fetched, which is not the token's fault.
  | { ok: false; reason: string; unavailable?: boolean };

export async function verifyJwt(token: string, config: Config): Promise<JwtResult> {
  const set = keySet(config);
  if (!set || !config.JWT_ISSUER || !config.JWT_AUDIENCE) return { ok: false, reason: "JWT sign-in is not configured" };
  try {
    const { payload } = await jwtVerify(token, set, {
      algorithms: JWT_ALGORITHMS,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      requiredClaims: REQUIRED_CLAIMS,
    });
    if (typeof payload.sub !== "string" || payload.sub.length === 0 || payload.sub.length > 255) {
      return { ok: false, reason: "token has no subject" };
    }
    return { ok: true, payload: payload as JWTPayload & { sub: string } };
  } catch (e) {
    if (e instanceof JwksUnavailable) return { ok: false, reason: "the key set could not be fetched", unavailable: true };
    if (e instanceof errors.JWTExpired) return { ok: false, reason: "token expired" };
    if (e instanceof errors.JWTClaimValidationFailed) return { ok: false, reason: `token ${e.claim} claim is not accepted` };
    return { ok: false, reason: "token is not valid" };
  }
}
