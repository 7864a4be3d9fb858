// The api_keys table: only SHA-256 hashes, never a plaintext key.
import { and, desc, eq, gt, isNull, or } from "drizzle-orm";
import { apiKeys } from "../../schema";
import { orm } from "./orm";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** A scoped key's limits (API.md §7.1), as stored: JSON arrays for the lists; null = no limit of that kind. */
export interface KeyRules {
  scopes: string | null;
  providers: string | null;
  monthlyCreditLimitMc: number | null;
  requestsPerMinute: number | null;
}

export const NO_KEY_RULES: KeyRules = { scopes: null, providers: null, monthlyCreditLimitMc: null, requestsPerMinute: null };

export interface NewApiKey {
  id: string;
  name: string | null;
  keyPrefix: string;
  keyHash: string;
  expiresAt: number | null;
  rules?: KeyRules;
  /** The key whose monthly spend it shares (a limited key's child: src/api/caller-key-rules.ts); absent: its own. */
  budgetKeyId?: string | null;
}

/** What the Account object's copy holds of each key: its validity, its rules and whose spend it counts in. */
export const keyStateColumns = {
  expiresAt: apiKeys.expiresAt,
  revokedAt: apiKeys.revokedAt,
  scopes: apiKeys.scopes,
  providers: apiKeys.providers,
  monthlyCreditLimitMc: apiKeys.monthlyCreditLimitMc,
  requestsPerMinute: apiKeys.requestsPerMinute,
  budgetKeyId: apiKeys.budgetKeyId,
};

/** The most active (not revoked, not expired) keys a user may hold (API.md §2). */
export const MAX_ACTIVE_KEYS = 10;

export async function findKeyByHash(d1: D1Database, keyHash: string) {
  return orm(d1)
    .select({
      id: apiKeys.id,
      userId: apiKeys.userId,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, keyHash))
    .get();
}

export async function findKeyById(d1: D1Database, userId: string, keyId: string) {
  return orm(d1)
    .select({ ...keyStateColumns, createdAt: apiKeys.createdAt })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.userId, userId)))
    .get();
}

export async function listKeys(d1: D1Database, userId: string): Promise<ApiKeyRow[]> {
  return orm(d1).select().from(apiKeys).where(eq(apiKeys.userId, userId)).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id)).all();
}

/**
 * Insert a key only while the user holds fewer than MAX_ACTIVE_KEYS active keys. One statement,
 * so D1's single writer makes the count and the insert atomic even under concurrent creates.
 */
export async function createKey(d1: D1Database, userId: string, key: NewApiKey, now: number): Promise<ApiKeyRow | null> {
  const rules = key.rules ?? NO_KEY_RULES;
  const res = await d1
    .prepare(
      `INSERT INTO api_keys (id, user_id, name, key_prefix, key_hash, created_at, expires_at,
         scopes, providers, monthly_credit_limit_mc, requests_per_minute, budget_key_id)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?9, ?10, ?11, ?12, ?13
       WHERE (SELECT COUNT(*) FROM api_keys WHERE user_id = ?2 AND revoked_at IS NULL
              AND (expires_at IS NULL OR expires_at > ?6)) < ?8`,
    )
    .bind(
      key.id,
      userId,
      key.name,
      key.keyPrefix,
      key.keyHash,
      now,
      key.expiresAt,
      MAX_ACTIVE_KEYS,
      rules.scopes,
      rules.providers,
      rules.monthlyCreditLimitMc,
      rules.requestsPerMinute,
      key.budgetKeyId ?? null,
    )
    .run();
  if (!res.meta.changes) return null;
  const { rules: _, budgetKeyId = null, ...row } = key;
  return { ...row, ...rules, budgetKeyId, userId, createdAt: now, lastUsedAt: null, revokedAt: null, replacedBy: null };
}

/** "revoked" now, "already_revoked" before (DELETE is idempotent), or null: unknown or another user's. */
export type RevokeOutcome = "revoked" | "already_revoked" | null;

export async function revokeKey(d1: D1Database, userId: string, keyId: string, now: number): Promise<RevokeOutcome> {
  const res = await orm(d1)
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
    .run();
  if (res.meta.changes) return "revoked";
  return (await findKeyById(d1, userId, keyId)) !== undefined ? "already_revoked" : null;
}

/**
 * Atomic rotation (one D1 batch = one transaction): revoke the old key and insert the new one with the
 * old key's name, lifetime length, rules and spend budget (its month's spend carries over: API.md §7.1
 * "rotation keeps them"), or do neither. Returns null when the old key is not the user's, or is no
 * longer active.
 */
export async function rotateKey(d1: D1Database, userId: string, oldKeyId: string, next: NewApiKey, now: number): Promise<ApiKeyRow | null> {
  const [, insert] = await d1.batch([
    d1
      .prepare(
        `UPDATE api_keys SET revoked_at = ?1, replaced_by = ?2
         WHERE id = ?3 AND user_id = ?4 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?1)`,
      )
      .bind(now, next.id, oldKeyId, userId),
    d1
      .prepare(
        `INSERT INTO api_keys (id, user_id, name, key_prefix, key_hash, created_at, expires_at,
           scopes, providers, monthly_credit_limit_mc, requests_per_minute, budget_key_id)
         SELECT ?1, ?2, name, ?3, ?4, ?5, CASE WHEN expires_at IS NULL THEN NULL ELSE ?5 + (expires_at - created_at) END,
           scopes, providers, monthly_credit_limit_mc, requests_per_minute, COALESCE(budget_key_id, id)
         FROM api_keys WHERE id = ?6 AND replaced_by = ?1`,
      )
      .bind(next.id, userId, next.keyPrefix, next.keyHash, now, oldKeyId),
  ]);
  if (insert === undefined) throw new Error("D1 batch returned no result for the insert"); // one result per statement
  if (!insert.meta.changes) return null;
  const row = await orm(d1).select().from(apiKeys).where(eq(apiKeys.id, next.id)).get();
  return row ?? null;
}

/** A key's rules as the API states them (lists as arrays) → as stored; fields left out stay as they are. */
export function storedRules(patch: {
  name?: string | null;
  scopes?: readonly string[] | null;
  providers?: readonly string[] | null;
  monthlyCreditLimitMc?: number | null;
  requestsPerMinute?: number | null;
}): Partial<KeyRules> & { name?: string | null } {
  const out: Partial<KeyRules> & { name?: string | null } = {};
  if (patch.name !== undefined) out.name = patch.name;
  if (patch.scopes !== undefined) out.scopes = patch.scopes === null ? null : JSON.stringify(patch.scopes);
  if (patch.providers !== undefined) out.providers = patch.providers === null ? null : JSON.stringify(patch.providers);
  if (patch.monthlyCreditLimitMc !== undefined) out.monthlyCreditLimitMc = patch.monthlyCreditLimitMc;
  if (patch.requestsPerMinute !== undefined) out.requestsPerMinute = patch.requestsPerMinute;
  return out;
}

/**
 * Change an active key's name or rules (PATCH /v1/keys/:id, through the user's Account object, which
 * updates its copy after this succeeded). Returns the row, or null when no active key of the user has this id:
 * active is neither revoked nor expired (API.md §2), as for rotation.
 */
export async function updateKeyRules(
  d1: D1Database,
  userId: string,
  keyId: string,
  patch: Partial<KeyRules> & { name?: string | null },
): Promise<ApiKeyRow | null> {
  const active = and(
    eq(apiKeys.id, keyId),
    eq(apiKeys.userId, userId),
    isNull(apiKeys.revokedAt),
    or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, Date.now())),
  );
  if (Object.keys(patch).length === 0) {
    const row = await orm(d1).select().from(apiKeys).where(active).get();
    return row ?? null;
  }
  const rows = await orm(d1).update(apiKeys).set(patch).where(active).returning().all();
  return rows[0] ?? null;
}

export async function touchKey(d1: D1Database, keyId: string, now: number) {
  await orm(d1).update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, keyId)).run();
}
