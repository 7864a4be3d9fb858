// A scoped key's rules as admission applies them (API.md §7.1), over the Account object's copy of the
// key: its scopes and provider allow-list (403 scope_denied), its own rate limit (the same rate-limit window,
// at most the plan's rate) and its monthly credit limit (402 key_credit_limit_reached), measured like the
// user's credits — what its open reservations hold counts as spent — so it is exact under concurrency.
// The limit is the key's own; the spend it is measured against is its budget's (src/metering/key-spend.ts):
// its predecessors' if it was rotated, its maker's family's if a limited key made it.
import type { AdmitRequest } from "../metering/contract";
import type { CreditLedger } from "../metering/ledger";
import { billingPeriod } from "../metering/plans";
import type { KeyState } from "./catalog-copy";

/** The route's scope or the request's provider is outside what the key may use. */
export function outsideKeyScope(key: KeyState | undefined, req: AdmitRequest): boolean {
  if (!key) return false;
  if (req.scope !== undefined && key.scopes !== null && !key.scopes.includes(req.scope)) return true;
  const allowed = key.providers;
  if (allowed === null) return false;
  const provider = req.meter?.provider ?? req.provider;
  if (provider !== undefined && !allowed.includes(provider)) return true;
  // A fallback the key may not use refuses the request at once, not when an outage reaches it.
  return req.chain?.some((p) => !allowed.includes(p)) ?? false;
}

/** Requests per minute for the key's bucket: its own limit, never above the plan's. */
export function keyRequestsPerMinute(key: KeyState | undefined, planLimit: number): number {
  const own = key?.requestsPerMinute;
  return own ? Math.min(own, planLimit) : planLimit;
}

/** What a key may still spend this month, its budget's spend counted (Infinity without a limit). */
export function keyCreditsLeft(key: KeyState | undefined, keyId: string | undefined, ledger: CreditLedger, now: number): number {
  if (!key || !keyId || key.monthlyCreditLimitMc === null) return Number.POSITIVE_INFINITY;
  return Math.max(0, key.monthlyCreditLimitMc - ledger.keys.usedMc(keyId, billingPeriod(now)));
}

/** Would `estimateMc` more take the key's budget past the key's monthly credit limit? */
export function overKeyLimit(
  key: KeyState | undefined,
  keyId: string | undefined,
  ledger: CreditLedger,
  estimateMc: number,
  now: number,
): boolean {
  if (!key || !keyId || key.monthlyCreditLimitMc === null) return false;
  return ledger.keys.usedMc(keyId, billingPeriod(now)) + estimateMc > key.monthlyCreditLimitMc;
}
