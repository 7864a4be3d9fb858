// The Account object's RPC contract: what the worker sends it and what it answers. Shared by the
// object (src/account/) and its callers (admission, routes), so neither imports the other's code.
import type { Scope } from "../auth/scopes";
import type { RateState } from "../ratelimit/gcra";
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
  idempotency?: IdempotencyClaim;
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
}

export interface Refused {
  ok: false;
  error: AdmitRefusal;
  rate?: RateState;
  usage?: UsageSnapshot;
  replay?: IdempotentResult;
  d1Queries: number;
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
