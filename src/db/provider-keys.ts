// The provider_keys table: provider secrets sealed with AES-256-GCM (src/crypto/provider-key-vault.ts).
import { and, eq } from "drizzle-orm";
import { providerKeys } from "../../schema";
import { orm } from "./orm";

export type ProviderKeyRow = typeof providerKeys.$inferSelect;
export type ProviderKeyInput = Omit<ProviderKeyRow, "createdAt" | "updatedAt" | "verifiedAt"> & { now: number };

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

/**
 * Record a key check's verdict on the key it checked: `verifiedAt` the time it passed, null when it failed. The
 * row must still hold that key (its IV is new at every store): a check that took a while says nothing about a
 * key stored meanwhile, which stays unverified.
 */
export async function recordProviderKeyCheck(d1: D1Database, checked: ProviderKeyRow, verifiedAt: number | null) {
  await orm(d1)
    .update(providerKeys)
    .set({ verifiedAt })
    .where(and(eq(providerKeys.userId, checked.userId), eq(providerKeys.provider, checked.provider), eq(providerKeys.iv, checked.iv)))
    .run();
}

export async function deleteProviderKey(d1: D1Database, userId: string, provider: string): Promise<boolean> {
  const res = await orm(d1)
    .delete(providerKeys)
    .where(and(eq(providerKeys.userId, userId), eq(providerKeys.provider, provider)))
    .run();
  return res.meta.changes > 0;
}
