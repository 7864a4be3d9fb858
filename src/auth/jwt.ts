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
import { sha256Hex } from "../crypto/sha256";

/** The algorithm allow-list (API.md §1); anything else, `none` included, is refused. */
export const JWT_ALGORITHMS = ["RS256", "ES256", "EdDSA"];
/** Claims a token must carry (API.md §1): one without an expiry or a subject is refused. */
const REQUIRED_CLAIMS = ["exp", "sub"];
/** How far in the future a token's `iat` may be (the issuer's clock ahead of ours). */
const IAT_SKEW_MS = 60_000;

type KeyResolver = (header: JWTHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;
type Verified = Map<string, { payload: JWTPayload & { sub: string }; until: number }>;
/** A key set's resolver, and the tokens verified against it (see VERIFIED_FOR_MS). */
interface KeySet {
  resolve: KeyResolver;
  verified: Verified;
}
// Module scope: the remote set's cache (and its refresh) lives on jose's resolver, so keep one per URL /
// inline JWKS for the life of the isolate.
const keySets = new Map<string, KeySet>();

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

function keySet(config: Config): KeySet | null {
  const { JWT_JWKS_URL: url, JWT_JWKS: inline } = config;
  const id = url ?? inline;
  if (!id) return null;
  let set = keySets.get(id);
  if (!set) {
    set = { resolve: url ? remoteKeySet(url) : (createLocalJWKSet(JSON.parse(id)) as KeyResolver), verified: new Map() };
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

/**
 * Tokens this isolate verified, per key set, by the SHA-256 of the token with the issuer and audience it
 * was verified for (never the token itself): checking a signature is about a tenth of a JWT request's
 * CPU, and a client sends the same token for many requests. An entry lasts until the token's `exp`, and
 * at most VERIFIED_FOR_MS — shorter than jose's own cache of the key set (10 minutes), so a key dropped
 * from the JWKS is refused no later than it already was. The user behind the token is still checked on
 * every request (the Account object).
 */
const VERIFIED_FOR_MS = 60_000;
const VERIFIED_MAX = 10_000;

export async function verifyJwt(token: string, config: Config): Promise<JwtResult> {
  const set = keySet(config);
  if (!set || !config.JWT_ISSUER || !config.JWT_AUDIENCE) return { ok: false, reason: "JWT sign-in is not configured" };
  const { verified } = set;
  const id = await sha256Hex(`${config.JWT_ISSUER}\n${config.JWT_AUDIENCE}\n${token}`);
  const known = verified.get(id);
  if (known && Date.now() < known.until) return { ok: true, payload: known.payload };
  if (known) verified.delete(id);
  const result = await verifySignature(token, set.resolve, config);
  if (result.ok && typeof result.payload.exp === "number") {
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value as string);
    verified.set(id, { payload: result.payload, until: Math.min(result.payload.exp * 1000, Date.now() + VERIFIED_FOR_MS) });
  }
  return result;
}

async function verifySignature(token: string, set: KeyResolver, config: Config): Promise<JwtResult> {
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
    // jose checks `iat` only against a maximum age: a token "issued" in the future is a forged or broken
    // issuer's, refused beyond a minute of clock skew.
    if (typeof payload.iat === "number" && payload.iat * 1000 > Date.now() + IAT_SKEW_MS) {
      return { ok: false, reason: "token iat claim is in the future" };
    }
    return { ok: true, payload: payload as JWTPayload & { sub: string } };
  } catch (e) {
    if (e instanceof JwksUnavailable) return { ok: false, reason: "the key set could not be fetched", unavailable: true };
    if (e instanceof errors.JWTExpired) return { ok: false, reason: "token expired" };
    if (e instanceof errors.JWTClaimValidationFailed) return { ok: false, reason: `token ${e.claim} claim is not accepted` };
    return { ok: false, reason: "token is not valid" };
  }
}
