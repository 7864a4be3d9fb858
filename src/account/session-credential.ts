// Whether a realtime session's credential still holds (src/account/sessions.ts asks at the open and at
// each renewal): an API key by its state in the Account object's copy (revoked, expired), a JWT by its
// exp, which only the worker saw — the session row keeps it (jwt_expires_at), as does a client token
// minted with a JWT, for its session — and a portal session (the one that minted a client token) by its
// row in D1 (auth_session), which signing out deletes: the one credential read from D1 at each check,
// and only for the sessions of tokens a portal session minted (API keys and JWTs gain no read).
// A running session's key is judged for its rules too (API.md §7.1): a key whose scopes lost `realtime`, or
// whose provider allow-list no longer names the session's provider, may no longer hold the session — it
// ends as a lapsed credential does (4401), with the key's own refusal code, scope_denied. A client token
// minted by the key carries the key's id to its session, so its session is judged by the same rules.
import { type KeyState, keyIsValid } from "./catalog-copy";
import { outsideKeyScope } from "./key-rules";

export type CredentialLapse = "invalid_credentials" | "credential_expired" | "scope_denied";

/** The credential columns a client token's row and a session's row share (a header credential fills them too). */
export interface CredentialColumns {
  key_id: string | null;
  jwt_expires_at: number | null;
  portal_session_id: string | null;
}

/** What judging a credential reads through the Account object. */
export interface CredentialReads {
  /** A key's state (read from D1 once if it was created after the copy was loaded). */
  readKey(keyId: string): Promise<KeyState | undefined>;
  /**
   * When the portal session ends (ms), as its auth_session row says now (one indexed D1 read); null when
   * the row is gone (signed out, deleted); undefined when D1 could not answer (judged again at the next check).
   */
  portalSessionUntil(id: string): Promise<number | null | undefined>;
}

/**
 * Read what the credential's judgement needs, and judge it at the time of the reads. With `session` (a
 * running session: its provider) the key's scopes and providers are judged too; the open judges them itself,
 * after the rate limit, as admission does (sessions.ts).
 */
export async function judgeCredential(
  cred: CredentialColumns,
  reads: CredentialReads,
  session?: { userId: string; provider: string | null },
): Promise<{ key: KeyState | undefined; lapse: CredentialLapse | undefined }> {
  const keyId = cred.key_id ?? undefined;
  const key = keyId ? await reads.readKey(keyId) : undefined;
  const portalUntil = cred.portal_session_id ? await reads.portalSessionUntil(cred.portal_session_id) : undefined;
  const lapse = credentialLapse(keyId, key, cred.jwt_expires_at, portalUntil, Date.now());
  if (lapse || !session) return { key, lapse };
  const req = { userId: session.userId, rateKey: keyId ?? "user", scope: "realtime" as const, provider: session.provider ?? undefined };
  return { key, lapse: outsideKeyScope(key, req) ? "scope_denied" : undefined };
}

/**
 * Why a session's credential no longer holds at `now`, or undefined while it does: its API key revoked
 * (or unknown), or past its expiry — the key's, or the exp of the JWT that opened the session or minted
 * its token; or the portal session that minted its token signed out (null) or past its expiry.
 */
export function credentialLapse(
  keyId: string | undefined,
  key: KeyState | undefined,
  jwtExpiresAt: number | null,
  portalSessionUntil: number | null | undefined,
  now: number,
): CredentialLapse | undefined {
  if (jwtExpiresAt !== null && jwtExpiresAt <= now) return "credential_expired";
  if (portalSessionUntil === null) return "invalid_credentials";
  if (portalSessionUntil !== undefined && portalSessionUntil <= now) return "credential_expired";
  if (!keyId || keyIsValid(key, now)) return undefined;
  return key?.revokedAt === null ? "credential_expired" : "invalid_credentials";
}
