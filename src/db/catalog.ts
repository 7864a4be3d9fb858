// Every D1 query Voxgate makes, in one place (drizzle over D1). None of these run on the hot path
// of a request whose key was recently verified: see docs/ARCHITECTURE.md.
import { and, desc, eq, isNull, lte, ne } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { agents, apiKeys, creditAudit, providerKeys, users } from "../../schema";

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type ProviderKeyRow = typeof providerKeys.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type ProviderKeyInput = Omit<ProviderKeyRow, "createdAt" | "updatedAt" | "verifiedAt"> & { now: number };

export interface NewApiKey {
  id: string;
  name: string | null;
  keyPrefix: string;
  keyHash: string;
  expiresAt: number | null;
}

/** The most active (not revoked, not expired) keys a user may hold (API.md §2). */
export const MAX_ACTIVE_KEYS = 10;

const dbs = new WeakMap<D1Database, ReturnType<typeof drizzle>>();
export function orm(d1: D1Database) {
  let db = dbs.get(d1);
  if (!db) dbs.set(d1, (db = drizzle(d1)));
  return db;
}

// ---- users ----------------------------------------------------------------------------------------

export async function getUser(d1: D1Database, userId: string): Promise<UserRow | undefined> {
  return orm(d1).select().from(users).where(eq(users.id, userId)).get();
}

/** The user behind a JWT `sub`, created on first sight on the free plan. */
export async function userForSubject(d1: D1Database, subject: string, now: number): Promise<UserRow> {
  const db = orm(d1);
  await db
    .insert(users)
    .values({ id: `usr_${crypto.randomUUID().replaceAll("-", "")}`, jwtSubject: subject, createdAt: now })
    .onConflictDoNothing({ target: users.jwtSubject });
  const row = await db.select().from(users).where(eq(users.jwtSubject, subject)).get();
  if (!row) throw new Error("user row vanished after insert");
  return row;
}

/** The user behind a verified portal phone number, created on first sight. */
export async function userForPhone(d1: D1Database, phoneNumber: string, now: number): Promise<UserRow> {
  const db = orm(d1);
  await db
    .insert(users)
    .values({ id: `usr_${crypto.randomUUID().replaceAll("-", "")}`, phoneNumber, createdAt: now })
    .onConflictDoNothing({ target: users.phoneNumber });
  const row = await db.select().from(users).where(eq(users.phoneNumber, phoneNumber)).get();
  if (!row) throw new Error("user row vanished after insert");
  return row;
}

export async function loadAccount(d1: D1Database, userId: string) {
  const db = orm(d1);
  const [user, keys, pkeys] = await db.batch([
    db.select().from(users).where(eq(users.id, userId)),
    db
      .select({ id: apiKeys.id, expiresAt: apiKeys.expiresAt, revokedAt: apiKeys.revokedAt })
      .from(apiKeys)
      .where(eq(apiKeys.userId, userId)),
    db.select().from(providerKeys).where(eq(providerKeys.userId, userId)),
  ]);
  return { user: user[0], keys, providerKeys: pkeys };
}

export async function updateUser(
  d1: D1Database,
  userId: string,
  patch: { plan?: string; planExpiresAt?: number | null; paygMc?: number; role?: string },
  audit: { actor: string; reason?: string },
  now: number,
) {
  const db = orm(d1);
  const set: Partial<UserRow> = {};
  if (patch.plan !== undefined) set.plan = patch.plan;
  if (patch.planExpiresAt !== undefined) set.planExpiresAt = patch.planExpiresAt;
  if (patch.paygMc !== undefined) set.paygBalanceMc = patch.paygMc;
  if (patch.role !== undefined) set.role = patch.role;
  await db.batch([
    db.update(users).set(set).where(eq(users.id, userId)),
    db.insert(creditAudit).values({
      id: crypto.randomUUID(),
      userId,
      actor: audit.actor,
      change: JSON.stringify(patch),
      amountMc: patch.paygMc ?? null,
      reason: audit.reason ?? null,
      createdAt: now,
    }),
  ]);
}

export async function setPaygWithAudit(
  d1: D1Database,
  userId: string,
  balanceMc: number,
  amountMc: number,
  audit: { actor: string; reason?: string },
  now: number,
) {
  const db = orm(d1);
  await db.batch([
    db.update(users).set({ paygBalanceMc: balanceMc }).where(eq(users.id, userId)),
    db.insert(creditAudit).values({
      id: crypto.randomUUID(),
      userId,
      actor: audit.actor,
      change: "payg_credit",
      amountMc,
      reason: audit.reason ?? null,
      createdAt: now,
    }),
  ]);
}

export async function mirrorPayg(d1: D1Database, userId: string, balanceMc: number) {
  await orm(d1).update(users).set({ paygBalanceMc: balanceMc }).where(eq(users.id, userId));
}

export async function auditTrail(d1: D1Database, userId: string) {
  return orm(d1)
    .select()
    .from(creditAudit)
    .where(eq(creditAudit.userId, userId))
    .orderBy(desc(creditAudit.createdAt))
    .limit(100)
    .all();
}

/** Users whose paid plan has expired: the scheduled job moves them to free. */
export async function expiredPlanUsers(d1: D1Database, now: number): Promise<string[]> {
  const rows = await orm(d1)
    .select({ id: users.id })
    .from(users)
    .where(and(ne(users.plan, "free"), lte(users.planExpiresAt, now)))
    .limit(500)
    .all();
  return rows.map((r) => r.id);
}

// ---- API keys -------------------------------------------------------------------------------------

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
    .select({ expiresAt: apiKeys.expiresAt, revokedAt: apiKeys.revokedAt })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.userId, userId)))
    .get();
}

export async function listKeys(d1: D1Database, userId: string): Promise<ApiKeyRow[]> {
  return orm(d1)
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.userId, userId))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .all();
}

/**
 * Insert a key only while the user holds fewer than MAX_ACTIVE_KEYS active keys. One statement,
 * so D1's single writer makes the count and the insert atomic even under concurrent creates.
 */
export async function createKey(d1: D1Database, userId: string, key: NewApiKey, now: number): Promise<ApiKeyRow | null> {
  const res = await d1
    .prepare(
      `INSERT INTO api_keys (id, user_id, name, key_prefix, key_hash, created_at, expires_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
       WHERE (SELECT COUNT(*) FROM api_keys WHERE user_id = ?2 AND revoked_at IS NULL
              AND (expires_at IS NULL OR expires_at > ?6)) < ?8`,
    )
    .bind(key.id, userId, key.name, key.keyPrefix, key.keyHash, now, key.expiresAt, MAX_ACTIVE_KEYS)
    .run();
  if (!res.meta.changes) return null;
  return { ...key, userId, createdAt: now, lastUsedAt: null, revokedAt: null, replacedBy: null };
}

export async function revokeKey(d1: D1Database, userId: string, keyId: string, now: number): Promise<boolean> {
  const res = await orm(d1)
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
    .run();
  if (res.meta.changes) return true;
  // Already revoked is still success (DELETE is idempotent); unknown or another user's is not.
  return (await findKeyById(d1, userId, keyId)) !== undefined;
}

/**
 * Atomic rotation (one D1 batch = one transaction): revoke the old key and insert the new one with the
 * old key's name and lifetime length, or do neither. Returns null when the old key is not the
 * user's, or is no longer active.
 */
export async function rotateKey(
  d1: D1Database,
  userId: string,
  oldKeyId: string,
  next: NewApiKey,
  now: number,
): Promise<ApiKeyRow | null> {
  const [, insert] = await d1.batch([
    d1
      .prepare(
        `UPDATE api_keys SET revoked_at = ?1, replaced_by = ?2
         WHERE id = ?3 AND user_id = ?4 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?1)`,
      )
      .bind(now, next.id, oldKeyId, userId),
    d1
      .prepare(
        `INSERT INTO api_keys (id, user_id, name, key_prefix, key_hash, created_at, expires_at)
         SELECT ?1, ?2, name, ?3, ?4, ?5, CASE WHEN expires_at IS NULL THEN NULL ELSE ?5 + (expires_at - created_at) END
         FROM api_keys WHERE id = ?6 AND replaced_by = ?1`,
      )
      .bind(next.id, userId, next.keyPrefix, next.keyHash, now, oldKeyId),
  ]);
  if (!insert.meta.changes) return null;
  const row = await orm(d1).select().from(apiKeys).where(eq(apiKeys.id, next.id)).get();
  return row ?? null;
}

export async function touchKey(d1: D1Database, keyId: string, now: number) {
  await orm(d1).update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, keyId)).run();
}

// ---- provider keys --------------------------------------------------------------------------------

export async function listProviderKeys(d1: D1Database, userId: string): Promise<ProviderKeyRow[]> {
  return orm(d1).select().from(providerKeys).where(eq(providerKeys.userId, userId)).orderBy(providerKeys.provider).all();
}

export async function getProviderKey(d1: D1Database, userId: string, provider: string) {
  return orm(d1)
    .select()
    .from(providerKeys)
    .where(and(eq(providerKeys.userId, userId), eq(providerKeys.provider, provider)))
    .get();
}

export async function upsertProviderKey(d1: D1Database, k: ProviderKeyInput): Promise<ProviderKeyRow> {
  const { now, ...row } = k;
  const db = orm(d1);
  const saved = await db
    .insert(providerKeys)
    .values({ ...row, createdAt: now, updatedAt: now, verifiedAt: null })
    .onConflictDoUpdate({
      target: [providerKeys.userId, providerKeys.provider],
      set: {
        ciphertext: row.ciphertext,
        iv: row.iv,
        keyVersion: row.keyVersion,
        last4: row.last4,
        updatedAt: now,
        verifiedAt: null,
      },
    })
    .returning()
    .get();
  return saved;
}

export async function markProviderKeyVerified(d1: D1Database, userId: string, provider: string, now: number) {
  await orm(d1)
    .update(providerKeys)
    .set({ verifiedAt: now })
    .where(and(eq(providerKeys.userId, userId), eq(providerKeys.provider, provider)))
    .run();
}

export async function deleteProviderKey(d1: D1Database, userId: string, provider: string): Promise<boolean> {
  const res = await orm(d1)
    .delete(providerKeys)
    .where(and(eq(providerKeys.userId, userId), eq(providerKeys.provider, provider)))
    .run();
  return res.meta.changes > 0;
}

// ---- agents ---------------------------------------------------------------------------------------
// Every query is scoped to the owner: another user's agent id behaves as an unknown one. Unlike the
// queries above, getAgent runs on the request path (agent chat and speak read their agent: one D1 read).

export type AgentRow = typeof agents.$inferSelect;
/** The stored fields of an agent; null clears a field. */
export type AgentFields = Omit<AgentRow, "id" | "userId" | "createdAt" | "updatedAt">;

export async function createAgent(d1: D1Database, userId: string, id: string, fields: AgentFields, now: number): Promise<AgentRow> {
  const row: AgentRow = { ...fields, id, userId, createdAt: now, updatedAt: now };
  await orm(d1).insert(agents).values(row).run();
  return row;
}

export async function listAgents(d1: D1Database, userId: string): Promise<AgentRow[]> {
  return orm(d1).select().from(agents).where(eq(agents.userId, userId)).orderBy(desc(agents.createdAt), desc(agents.id)).all();
}

export async function getAgent(d1: D1Database, userId: string, id: string): Promise<AgentRow | undefined> {
  return orm(d1)
    .select()
    .from(agents)
    .where(and(eq(agents.id, id), eq(agents.userId, userId)))
    .get();
}

/** Change the given fields; undefined when the agent is not the user's. */
export async function updateAgent(d1: D1Database, userId: string, id: string, patch: Partial<AgentFields>, now: number): Promise<AgentRow | undefined> {
  return orm(d1)
    .update(agents)
    .set({ ...patch, updatedAt: now })
    .where(and(eq(agents.id, id), eq(agents.userId, userId)))
    .returning()
    .get();
}

export async function deleteAgent(d1: D1Database, userId: string, id: string): Promise<boolean> {
  const res = await orm(d1)
    .delete(agents)
    .where(and(eq(agents.id, id), eq(agents.userId, userId)))
    .run();
  return res.meta.changes > 0;
}
