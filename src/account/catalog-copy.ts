// The Account object's write-through copy of what the hot path decides on — the user's plan, expiry
// and role, the validity of each API key, which provider keys are stored — so `admit` reads none of it
// from D1. D1 stays the catalog of record: every change that could make this copy stale (key create,
// revoke, rotate, rules; plan change; provider-key upsert or delete) is made through the object, which
// writes D1 first and updates the copy only after D1 succeeded, so the two never disagree in the
// direction that matters. The copy is kept in the object's own storage too: an object that wakes (after
// being evicted while idle) reads it from local SQLite, with no D1 round trip before its first answer.
// Each key's rules (scopes, provider allow-list, monthly credit limit, rate limit — API.md §7.1) are held
// with its validity, so the admission call enforces them with no extra round trip; so is the budget its
// spend counts in, which the ledger's key spend asks this copy for (src/metering/key-spend.ts).

import type { Scope } from "../auth/scopes";
import { findKeyById, type KeyRules, NO_KEY_RULES } from "../db/api-keys";
import { loadAccount } from "../db/users";
import type { StoredKeyCipher } from "../metering/contract";
import type { SpendBudgets } from "../metering/key-spend";

export interface UserState {
  plan: string;
  planExpiresAt: number | null;
  role: string;
}

export interface KeyState {
  expiresAt: number | null;
  revokedAt: number | null;
  /** null: every scope, every provider, no limit of its own. */
  scopes: readonly Scope[] | null;
  providers: readonly string[] | null;
  monthlyCreditLimitMc: number | null;
  requestsPerMinute: number | null;
  /** The key whose monthly spend this one's counts in (rotation keeps it; a limited key's child shares it); null: its own. */
  budgetKeyId: string | null;
}

type KeyRow = { expiresAt: number | null; revokedAt: number | null; budgetKeyId: string | null } & KeyRules;

/** A key's state from its D1 row (the rule lists are stored as JSON arrays). */
export function keyStateOf(row: KeyRow): KeyState {
  return {
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    scopes: parseList(row.scopes) as Scope[] | null,
    providers: parseList(row.providers),
    monthlyCreditLimitMc: row.monthlyCreditLimitMc,
    requestsPerMinute: row.requestsPerMinute,
    budgetKeyId: row.budgetKeyId,
  };
}

function parseList(json: string | null): string[] | null {
  if (json === null) return null;
  const list: unknown = JSON.parse(json);
  return Array.isArray(list) ? list.filter((v): v is string => typeof v === "string") : [];
}

/** Where the copy is kept in the object's storage; bump the version when its shape changes (it is then reloaded from D1). */
const STORED_COPY = "catalog_copy";
const STORED_COPY_VERSION = 3;

interface StoredCopy {
  v: number;
  user: UserState;
  keys: [string, KeyState][];
  providerKeys: [string, StoredKeyCipher][];
  catalogPaygMc: number;
}

export class CatalogCopy implements SpendBudgets {
  private sql?: SqlStorage;

  constructor(
    readonly user: UserState,
    readonly keys: Map<string, KeyState>,
    readonly providerKeys: Map<string, StoredKeyCipher>,
    /** The PAYG balance the catalog held when first loaded (seeds the ledger on the object's first load). */
    readonly catalogPaygMc: number,
  ) {}

  /** Read the user's rows from D1; undefined when the user does not exist. */
  static async load(db: D1Database, userId: string): Promise<CatalogCopy | undefined> {
    const snap = await loadAccount(db, userId);
    if (!snap.user) return undefined;
    return new CatalogCopy(
      { plan: snap.user.plan, planExpiresAt: snap.user.planExpiresAt, role: snap.user.role },
      new Map(snap.keys.map((k) => [k.id, keyStateOf(k)])),
      new Map(snap.providerKeys.map((p) => [p.provider, { ciphertext: p.ciphertext, iv: p.iv, keyVersion: p.keyVersion }])),
      snap.user.paygBalanceMc,
    );
  }

  /** The copy this object kept in its storage (synchronous: local SQLite), if it has one of this shape. */
  static restore(sql: SqlStorage): CatalogCopy | undefined {
    const row = sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = ?", STORED_COPY).toArray()[0];
    if (!row) return undefined;
    const stored = JSON.parse(row.v) as StoredCopy;
    if (stored.v !== STORED_COPY_VERSION) return undefined;
    const copy = new CatalogCopy(stored.user, new Map(stored.keys), new Map(stored.providerKeys), stored.catalogPaygMc);
    copy.sql = sql;
    return copy;
  }

  /** Keep the copy in the object's storage from now on (written again after every change). */
  keepIn(sql: SqlStorage) {
    this.sql = sql;
    this.save();
  }

  /** Write the copy through to the object's storage: call after changing it. */
  save() {
    if (!this.sql) return;
    const stored: StoredCopy = {
      v: STORED_COPY_VERSION,
      user: this.user,
      keys: [...this.keys],
      providerKeys: [...this.providerKeys],
      catalogPaygMc: this.catalogPaygMc,
    };
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", STORED_COPY, JSON.stringify(stored));
  }

  setKey(keyId: string, state: KeyState) {
    this.keys.set(keyId, state);
    this.save();
  }

  /**
   * A key's state. Keys are created through the object, so a key this copy has not seen is one created
   * before the copy was kept here (or by another path): it is read from D1 once. A revoke that landed
   * meanwhile wins. Returns whether D1 was read, for the storage counts.
   */
  async key(db: D1Database, userId: string, keyId: string): Promise<{ key?: KeyState; readD1: boolean }> {
    const known = this.keys.get(keyId);
    if (known) return { key: known, readD1: false };
    const row = await findKeyById(db, userId, keyId);
    if (!row) return { readD1: true };
    const key = this.keys.get(keyId) ?? keyStateOf(row);
    this.setKey(keyId, key);
    return { key, readD1: true };
  }

  revoke(keyId: string, at: number) {
    // Remembered even for a key this copy has not seen: a D1 read racing with the revoke must not win.
    const known = this.keys.get(keyId) ?? keyStateOf({ expiresAt: null, revokedAt: at, budgetKeyId: null, ...NO_KEY_RULES });
    this.setKey(keyId, { ...known, revokedAt: at });
  }

  /**
   * The budget a key's spend counts in. A revoked key stays known here, so a request it still has running
   * settles into the budget its successor spends from.
   */
  budgetOf(keyId: string): string {
    return this.keys.get(keyId)?.budgetKeyId ?? keyId;
  }
}

export function keyIsValid(key: KeyState | undefined, now: number): boolean {
  return key !== undefined && key.revokedAt === null && (key.expiresAt === null || key.expiresAt > now);
}
