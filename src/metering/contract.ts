// The Account object's RPC contract: what the worker sends it and what it answers. Shared by the
// object (src/account/) and its callers (admission, routes), so neither imports the other's code.
import type { Scope } from "../auth/scopes";
import type { RateState } from "../ratelimit/window";
import type { PlanId, UsageKind } from "./plans";

export type { RateState };

export type KeySource = "byok" | "stored" | "platform";

/** What one charge took from where: enough to reverse it exactly (refund). */
export interface ChargeReceipt {
  /** The charge's id: a reversible charge is refunded by it, at most once. */
  id: string;
  kind: UsageKind;
  period: string;
  day: string;
  amountMc: number;
  fromPlanMc: number;
  fromPaygMc: number;
}

export interface StoredKeyCipher {
  ciphertext: string;
  iv: string;
  keyVersion: number;
}

/** How a gateway request would be paid for; absent for a request that proxies nothing. */
export interface Meter {
  provider: string;
  kind: UsageKind;
  byok: boolean;
  platformKeyAvailable: boolean;
  /** Estimated cost with the platform key; null when the model has no price. */
  estimateMc: number | null;
  /**
   * The estimate is the exact cost (TTS: characters × price): charge it now, not a reservation, so a
   * successful request needs no settle call; a failed one is refunded with the receipt.
   */
  exact?: boolean;
}

export interface IdempotencyClaim {
  key: string;
  fingerprint: string;
}

export interface AdmitRequest {
  userId: string;
  /** The API key id, when the request came with an API key. */
  keyId?: string;
  /** Rate-limit bucket: the API key id, or "user" for JWT / portal requests. */
  rateKey: string;
  /** The scope the route needs from an API key (src/auth/scopes.ts); undefined: any key may call it. */
  scope?: Scope;
  /** This request already took its rate-limit token (a second admission: after a download, another provider). */
  rateCounted?: boolean;
  meter?: Meter;
  /** The provider an unmetered request acts on (a stored provider key's): checked against a key's providers like a meter's. */
  provider?: string;
  /** Every provider the operation may be served by (its failover chain): a key's allow-list must hold them all. */
  chain?: readonly string[];
  idempotency?: IdempotencyClaim;
  /**
   * Earlier requests' settles this isolate held back (src/gateway/settle-batch.ts): applied before this
   * admission is decided, so the reservations they close no longer count against it.
   */
  settles?: SettleRequest[];
}

export interface UsageSnapshot {
  period: string;
  plan: PlanId;
  planExpiresAt: number | null;
  role: string;
  usedMc: number;
  limitMc: number;
  remainingMc: number;
  paygMc: number;
  reservedMc: number;
  breakdownMc: Record<UsageKind, number>;
  requestCount: number;
}

export interface IdempotentResult {
  status: number;
  contentType: string;
  headers: Record<string, string>;
  bodyBase64: string;
}

export type AdmitRefusal =
  | "invalid_credentials"
  | "scope_denied"
  | "key_credit_limit_reached"
  | "rate_limited"
  | "insufficient_credits"
  | "provider_key_missing"
  | "model_not_priced"
  | "idempotency_in_progress"
  | "idempotency_completed"
  | "idempotency_key_reused"
  | "idempotency_replay";

export interface Admitted {
  ok: true;
  rate: RateState;
  usage: UsageSnapshot;
  keySource?: KeySource;
  storedKey?: StoredKeyCipher;
  reservationId?: string;
  /** Set when an exact-cost request was charged at admission (refunded by its id if the provider fails). */
  charge?: ChargeReceipt;
  /** D1 queries the object made for this call (DEBUG_STORAGE_COUNTS). */
  d1Queries: number;
  /** The request's `settles` were applied (an unknown user's are not: the caller sends them alone). */
  settlesApplied?: boolean;
}

export interface Refused {
  ok: false;
  error: AdmitRefusal;
  rate?: RateState;
  usage?: UsageSnapshot;
  replay?: IdempotentResult;
  d1Queries: number;
  settlesApplied?: boolean;
}

export type AdmitResult = Admitted | Refused;

/**
 * How a request's credits end: a real cost to charge, or null to refund everything reserved. Settling
 * is idempotent per reservation, so a retried settle never charges twice.
 */
export interface SettleRequest {
  userId: string;
  reservationId?: string;
  kind: UsageKind;
  actualMc: number | null;
  idempotency?: { key: string; result?: IdempotentResult };
}

/** KV key of a user's usage snapshot for a period (readable at the edge). */
export function usageKvKey(userId: string, period: string): string {
  return `usage:${userId}:${period}`;
}

/** A scoped key's limits (API.md §7.1), as PATCH /v1/keys/:id changes them; null lifts one. */
export interface KeyRulesPatch {
  name?: string | null;
  scopes?: Scope[] | null;
  providers?: string[] | null;
  monthlyCreditLimitMc?: number | null;
  requestsPerMinute?: number | null;
}

// ---- realtime sessions (src/account/sessions.ts; API.md §4.3) -------------------------------------

export type RealtimeOperation = "listen" | "speak" | "realtime";
/** How the credential that opened (or minted the token for) a session was presented. */
export type RealtimeCredential = "api_key" | "jwt";

/** The caps a client token carries; the session enforces them. */
export interface RealtimeCaps {
  provider?: string;
  maxSeconds?: number;
  maxCreditsMc?: number;
}

export interface RealtimeTokenRequest extends RealtimeCaps {
  userId: string;
  /** The API key that minted it: revoking that key ends the token's session too. */
  keyId?: string;
  /** The exp (ms) of the JWT that minted it: the token's session ends then too. */
  jwtExpiresAt?: number;
  /** The portal session (Better Auth's auth_session id) that minted it: its session ends when that one does. */
  portalSessionId?: string;
  credential: RealtimeCredential;
  /** SHA-256 hex of the token: the plaintext never reaches storage. */
  tokenHash: string;
  operation: RealtimeOperation;
  expiresAt: number;
}

export interface SessionOpenRequest {
  userId: string;
  /** Header credentials: the API key id (absent for a JWT). Ignored when `tokenHash` is set. */
  keyId?: string;
  /** Header credentials: the rate-limit bucket (a token's is its minting key, or the user). */
  rateKey: string;
  /** Header credentials: a JWT's exp (ms), when the session ends (a key's expiry is in the key's state). */
  jwtExpiresAt?: number;
  credential?: RealtimeCredential;
  /** A client token instead of headers: its SHA-256 hex. */
  tokenHash?: string;
  operation: RealtimeOperation;
  /** The first slice: `estimateMc` is what the session wants reserved (null: the model has no price). */
  meter: Meter;
  /** The least a metered session can do anything with (one second, one character, …). */
  minimumMc: number;
  leaseMs: number;
}

export type SessionRefusal = AdmitRefusal | "session_limit_reached" | "token_not_for_this";

export interface SessionOpened {
  ok: true;
  sessionId: string;
  keySource: KeySource;
  storedKey?: StoredKeyCipher;
  credential: RealtimeCredential;
  /** What the session may spend before it asks for more (0 for a bypassed session). */
  reservedMc: number;
  caps: RealtimeCaps;
  /** The API key the session is charged to: the header key's, or the one that minted its client token (the request log's keyId). */
  keyId?: string;
  rate: RateState;
  usage: UsageSnapshot;
  d1Queries: number;
}

export interface SessionRefused {
  ok: false;
  error: SessionRefusal;
  rate?: RateState;
  usage?: UsageSnapshot;
  d1Queries: number;
}

export type SessionOpenResult = SessionOpened | SessionRefused;

export interface SessionRenewRequest {
  userId: string;
  sessionId: string;
  /** More credits wanted on top of what is reserved (0: only renew the lease and check the credential). */
  needMc: number;
  leaseMs: number;
}

export type SessionRenewal =
  // keyLimited: the API key's monthly credit limit, not the account's credits, held the grant short.
  | { ok: true; reservedMc: number; grantedMc: number; keyLimited?: boolean }
  // invalid_credentials: revoked or unknown; credential_expired: the JWT's exp or the API key's expiry passed;
  // scope_denied: the key no longer has the realtime scope, or no longer allows the session's provider.
  | { ok: false; error: "invalid_credentials" | "credential_expired" | "scope_denied" | "session_closed" };

export interface SessionCloseRequest {
  userId: string;
  sessionId: string;
  /** The exact cost of what flowed (0 for a bypassed session): charged once, in the session's period. */
  actualMc: number;
  /** The session never started (its provider refused it): the client token that opened it may open another. */
  unusedTokenHash?: string;
}
