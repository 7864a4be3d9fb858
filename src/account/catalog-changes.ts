// The changes that would make the Account object's copy of the catalog stale, made through the object:
// D1 (the catalog of record) first, then the copy — applied after D1 succeeded, with no await in between,
// so charges that land meanwhile stay counted and the copy never says more than D1 does.
import * as apiKeysTable from "../db/api-keys";
import * as providerKeysTable from "../db/provider-keys";
import * as usersTable from "../db/users";
import type { Env } from "../env";
import type { KeyRulesPatch, UsageSnapshot } from "../metering/contract";
import type { CreditLedger } from "../metering/ledger";
import { type CatalogCopy, keyStateOf } from "./catalog-copy";
import type { Notices } from "./notices";

export type AuditNote = { actor: string; reason?: string };

/** What the changes need of the object. */
export interface ChangeHost {
  env: Env;
  copy: CatalogCopy;
  ledger: CreditLedger;
  notices: Notices;
  /** A revoked key's rate-limit bucket is dropped. */
  forgetRate(rateKey: string): void;
  /** A rotated key's rate-limit window becomes its successor's (a rotation is no fresh minute). */
  moveRate(from: string, to: string): void;
  /** The balance changed: the alarm mirrors it to KV and D1. */
  balanceChanged(): void;
  snapshot(): UsageSnapshot;
}

/** Create a key (at most MAX_ACTIVE_KEYS active: D1 decides atomically) and know it — and its budget — at once. */
export async function createKey(h: ChangeHost, userId: string, key: apiKeysTable.NewApiKey, now: number) {
  const row = await apiKeysTable.createKey(h.env.DB, userId, key, now);
  if (row) h.copy.setKey(row.id, keyStateOf(row));
  return row;
}

export async function revokeKey(h: ChangeHost, userId: string, keyId: string): Promise<apiKeysTable.RevokeOutcome> {
  const now = Date.now();
  const outcome = await apiKeysTable.revokeKey(h.env.DB, userId, keyId, now);
  if (outcome) h.copy.revoke(keyId, now);
  h.forgetRate(keyId);
  return outcome;
}

/**
 * The new key keeps the old one's rules and spend budget (D1 copies them) and its rate-limit window; the old
 * one stays in the copy, revoked, so a request it still has running settles into the budget its successor
 * spends from.
 */
export async function rotateKey(h: ChangeHost, userId: string, oldKeyId: string, next: apiKeysTable.NewApiKey) {
  const now = Date.now();
  const row = await apiKeysTable.rotateKey(h.env.DB, userId, oldKeyId, next, now);
  if (row) {
    h.copy.revoke(oldKeyId, now);
    h.copy.setKey(row.id, keyStateOf(row));
    h.moveRate(oldKeyId, row.id);
  }
  return row;
}

/** Change an active key's name or rules (scopes, providers, limits). */
export async function updateKey(h: ChangeHost, userId: string, keyId: string, patch: KeyRulesPatch) {
  const row = await apiKeysTable.updateKeyRules(h.env.DB, userId, keyId, apiKeysTable.storedRules(patch));
  if (row) h.copy.setKey(row.id, keyStateOf(row));
  return row;
}

export async function putProviderKey(h: ChangeHost, row: providerKeysTable.ProviderKeyInput) {
  const saved = await providerKeysTable.upsertProviderKey(h.env.DB, row);
  h.copy.providerKeys.set(row.provider, { ciphertext: row.ciphertext, iv: row.iv, keyVersion: row.keyVersion });
  h.copy.save();
  return saved;
}

export async function deleteProviderKey(h: ChangeHost, userId: string, provider: string) {
  const ok = await providerKeysTable.deleteProviderKey(h.env.DB, userId, provider);
  h.copy.providerKeys.delete(provider);
  h.copy.save();
  return ok;
}

export type UserPatch = { plan?: string; planExpiresAt?: number | null; paygMc?: number; role?: string };

/**
 * A plan set without planExpiresAt keeps the stored expiry — unless that has passed: then the grant has no
 * expiry. The lapsed user is already free in effect (API.md §6), and the scheduled job clears the expiry
 * when it demotes them, so re-granting must not depend on whether the job has run yet (it would leave a
 * past expiry that makes the new plan free at once). Decided here, against the object's copy, so D1, the
 * audit row and the copy all get the same patch.
 */
function grantPatch(patch: UserPatch, storedExpiresAt: number | null, now: number): UserPatch {
  const lapsed = storedExpiresAt !== null && storedExpiresAt <= now;
  return patch.plan !== undefined && patch.planExpiresAt === undefined && lapsed ? { ...patch, planExpiresAt: null } : patch;
}

export async function updateUser(h: ChangeHost, userId: string, asked: UserPatch, audit: AuditNote): Promise<UsageSnapshot> {
  const now = Date.now();
  const patch = grantPatch(asked, h.copy.user.planExpiresAt, now);
  await usersTable.updateUser(h.env.DB, userId, patch, audit, now);
  const user = h.copy.user;
  if (patch.plan !== undefined) user.plan = patch.plan;
  if (patch.planExpiresAt !== undefined) user.planExpiresAt = patch.planExpiresAt;
  if (patch.role !== undefined) user.role = patch.role;
  h.copy.save();
  if (patch.paygMc !== undefined) {
    h.ledger.setPayg(patch.paygMc);
    h.notices.toppedUp(patch.paygMc);
  }
  h.balanceChanged();
  return h.snapshot();
}

/**
 * The most a PAYG balance may hold: 10^12 credits = 10^15 millicredits, 9× below Number.MAX_SAFE_INTEGER
 * (≈ 9.007 × 10^15), so every balance, and a balance plus a refund or a plan's credits, stays an exact
 * integer (API.md §6: "keep fractions exact"). Past 2^53 an added millicredit is silently lost.
 */
export const MAX_PAYG_BALANCE_MC = 1e15;

/** Top-ups accepted but not yet added (their D1 audit write is in flight), per object's ledger. */
const pendingTopUpsMc = new WeakMap<CreditLedger, number>();

/**
 * Add PAYG credits: the audit row goes to D1 first, then the amount is added (a delta, never a stale total).
 * Refused — null, nothing written — if the balance would pass MAX_PAYG_BALANCE_MC, counting top-ups still
 * awaiting D1, since the object takes other calls during that await.
 */
export async function addCredits(h: ChangeHost, userId: string, amountMc: number, audit: AuditNote): Promise<UsageSnapshot | null> {
  const pending = pendingTopUpsMc.get(h.ledger) ?? 0;
  if (h.ledger.paygMc + pending + amountMc > MAX_PAYG_BALANCE_MC) return null;
  pendingTopUpsMc.set(h.ledger, pending + amountMc);
  try {
    await usersTable.auditTopUp(h.env.DB, userId, amountMc, audit, Date.now());
  } finally {
    pendingTopUpsMc.set(h.ledger, (pendingTopUpsMc.get(h.ledger) ?? 0) - amountMc);
  }
  h.ledger.addPayg(amountMc);
  h.notices.toppedUp(amountMc);
  h.balanceChanged();
  return h.snapshot();
}
