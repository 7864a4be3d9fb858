// The Account object's write-through copy of what the hot path decides on — the user's plan, expiry
// and role, the validity of each API key, which provider keys are stored — so `admit` reads none of it
// from D1. D1 stays the catalog of record: every change that could make this copy stale (revoke,
// rotate, plan change, provider-key upsert or delete) is made through the object, which writes D1 first
// and updates the copy only after D1 succeeded, so the two never disagree in the direction that matters.

import { findKeyById } from "../db/api-keys";
import { loadAccount } from "../db/users";
import type { StoredKeyCipher } from "../metering/contract";

export interface UserState {
  plan: string;
  planExpiresAt: number | null;
  role: string;
}

export interface KeyState {
  expiresAt: number | null;
  revokedAt: number | null;
}

export class CatalogCopy {
  constructor(
    readonly user: UserState,
    readonly keys: Map<string, KeyState>,
    readonly providerKeys: Map<string, StoredKeyCipher>,
    /** The PAYG balance the catalog holds (seeds the ledger on the object's first load). */
    readonly catalogPaygMc: number,
  ) {}

  /** Read the user's rows from D1; undefined when the user does not exist. */
  static async load(db: D1Database, userId: string): Promise<CatalogCopy | undefined> {
    const snap = await loadAccount(db, userId);
    if (!snap.user) return undefined;
    return new CatalogCopy(
      { plan: snap.user.plan, planExpiresAt: snap.user.planExpiresAt, role: snap.user.role },
      new Map(snap.keys.map((k) => [k.id, { expiresAt: k.expiresAt, revokedAt: k.revokedAt }])),
      new Map(snap.providerKeys.map((p) => [p.provider, { ciphertext: p.ciphertext, iv: p.iv, keyVersion: p.keyVersion }])),
      snap.user.paygBalanceMc,
    );
  }

  /**
   * A key's state; a key created after this copy was loaded (creation cannot make anything stale, so
   * it does not go through the object) is read from D1 once. A revoke that landed meanwhile wins.
   * Returns whether D1 was read, for the storage counts.
   */
  async key(db: D1Database, userId: string, keyId: string): Promise<{ key?: KeyState; readD1: boolean }> {
    const known = this.keys.get(keyId);
    if (known) return { key: known, readD1: false };
    const row = await findKeyById(db, userId, keyId);
    if (!row) return { readD1: true };
    const key = this.keys.get(keyId) ?? { expiresAt: row.expiresAt, revokedAt: row.revokedAt };
    this.keys.set(keyId, key);
    return { key, readD1: true };
  }

  revoke(keyId: string, at: number) {
    this.keys.set(keyId, { ...(this.keys.get(keyId) ?? { expiresAt: null }), revokedAt: at });
  }
}

export function keyIsValid(key: KeyState | undefined, now: number): boolean {
  return key !== undefined && key.revokedAt === null && (key.expiresAt === null || key.expiresAt > now);
}
