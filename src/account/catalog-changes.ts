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
  /** The balance changed: the alarm mirrors it to KV and D1. */
  balanceChanged(): void;
  snapshot(): UsageSnapshot;
}

/** Create a key (at most MAX_ACTIVE_KEYS active: D1 decides atomically) and know it at once. */
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

export async function rotateKey(h: ChangeHost, userId: string, oldKeyId: string, next: apiKeysTable.NewApiKey) {
  const now = Date.now();
  const row = await apiKeysTable.rotateKey(h.env.DB, userId, oldKeyId, next, now);
  if (row) {
    h.copy.revoke(oldKeyId, now);
    h.copy.setKey(row.id, keyStateOf(row));
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

export async function updateUser(h: ChangeHost, userId: string, patch: UserPatch, audit: AuditNote): Promise<UsageSnapshot> {
  await usersTable.updateUser(h.env.DB, userId, patch, audit, Date.now());
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

/** Add PAYG credits: the audit row goes to D1 first, then the amount is added (a delta, never a stale total). */
export async function addCredits(h: ChangeHost, userId: string, amountMc: number, audit: AuditNote): Promise<UsageSnapshot> {
  await usersTable.auditTopUp(h.env.DB, userId, amountMc, audit, Date.now());
  h.ledger.addPayg(amountMc);
  h.notices.toppedUp(amountMc);
  h.balanceChanged();
  return h.snapshot();
}
