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
