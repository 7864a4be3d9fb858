// D1 tables (drizzle). The catalog of record: users, API keys, stored provider keys, the
// credit audit trail. Hot-path state (rate limits, the credit ledger) lives in the Account
// Durable Object instead — see docs/ARCHITECTURE.md.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Timestamps are integer milliseconds since the epoch (UTC). Credits are integer millicredits. */
export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    jwtSubject: text("jwt_subject"),
    phoneNumber: text("phone_number"),
    plan: text("plan").notNull().default("free"),
    planExpiresAt: integer("plan_expires_at"),
    paygBalanceMc: integer("payg_balance_mc").notNull().default(0),
    role: text("role").notNull().default("user"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_jwt_subject_uq").on(t.jwtSubject),
    uniqueIndex("users_phone_number_uq").on(t.phoneNumber),
    index("users_plan_expires_idx").on(t.planExpiresAt),
  ],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull().references(() => users.id),
    name: text("name"),
    keyPrefix: text("key_prefix").notNull(),
    /** hex SHA-256 of the whole plaintext key; the plaintext is never stored. */
    keyHash: text("key_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at"),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
    replacedBy: text("replaced_by"),
  },
  (t) => [
    uniqueIndex("api_keys_hash_uq").on(t.keyHash),
    index("api_keys_user_idx").on(t.userId, t.createdAt),
    index("api_keys_user_active_idx").on(t.userId).where(sql`revoked_at IS NULL`),
  ],
);

export const providerKeys = sqliteTable(
  "provider_keys",
  {
    userId: text("user_id").notNull().references(() => users.id),
    provider: text("provider").notNull(),
    /** base64 AES-256-GCM ciphertext (with tag); additional data binds user + provider. */
    ciphertext: text("ciphertext").notNull(),
    iv: text("iv").notNull(),
    keyVersion: integer("key_version").notNull(),
    last4: text("last4").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    verifiedAt: integer("verified_at"),
  },
  (t) => [primaryKey({ columns: [t.userId, t.provider] })],
);

/** Every change to a user's plan or PAYG balance made by an operator. */
export const creditAudit = sqliteTable(
  "credit_audit",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull().references(() => users.id),
    actor: text("actor").notNull(),
    change: text("change").notNull(),
    amountMc: integer("amount_mc"),
    reason: text("reason"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("credit_audit_user_idx").on(t.userId, t.createdAt)],
);
