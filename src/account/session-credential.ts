// Whether a realtime session's credential still holds (src/account/sessions.ts asks at the open and at
// each renewal): an API key by its state in the Account object's copy (revoked, expired), a JWT by its
// exp, which only the worker saw — the session row keeps it (jwt_expires_at), as does a client token
// minted with a JWT, for its session.
import { type KeyState, keyIsValid } from "./catalog-copy";

/**
 * Why a session's credential no longer holds at `now`, or undefined while it does: its API key revoked
 * (or unknown), or past its expiry — the key's, or the exp of the JWT that opened the session or minted
 * its token.
 */
export function credentialLapse(
  keyId: string | undefined,
  key: KeyState | undefined,
  jwtExpiresAt: number | null,
  now: number,
): "invalid_credentials" | "credential_expired" | undefined {
  if (jwtExpiresAt !== null && jwtExpiresAt <= now) return "credential_expired";
  if (!keyId || keyIsValid(key, now)) return undefined;
  return key?.revokedAt === null ? "credential_expired" : "invalid_credentials";
}
