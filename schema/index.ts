// D1 tables (drizzle). The catalog of record: users, API keys, stored provider keys, the
// credit audit trail. Hot-path state (rate limits, the credit ledger) lives in the Account
// Durable Object instead — see docs/ARCHITECTURE.md.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

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
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    name: text("name"),
    keyPrefix: text("key_prefix").notNull(),
    /** hex SHA-256 of the whole plaintext key; the plaintext is never stored. */
    keyHash: text("key_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at"),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
    replacedBy: text("replaced_by"),
    /** Scoped keys (API.md §7.1): JSON arrays; null = every scope / every provider. */
    scopes: text("scopes"),
    providers: text("providers"),
    /** Credits (as mc) this key may spend per billing period; null = only the user's own limits. */
    monthlyCreditLimitMc: integer("monthly_credit_limit_mc"),
    /** The key's own rate limit (at most the plan's); null = the plan's. */
    requestsPerMinute: integer("requests_per_minute"),
    /**
     * The key whose monthly spend this key's charges count in (its spend budget): kept by rotation, shared
     * by keys a limited key creates; null = its own id. Fixed when the key is made.
     */
    budgetKeyId: text("budget_key_id"),
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
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
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
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    actor: text("actor").notNull(),
    change: text("change").notNull(),
    amountMc: integer("amount_mc"),
    reason: text("reason"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("credit_audit_user_idx").on(t.userId, t.createdAt)],
);

// ---- portal auth tables (Better Auth) --------------------------------------------------------------
// Better Auth 1.7 (its minimal build + the phone-number plugin) reads and writes these through its drizzle
// adapter on D1, handed these very tables by src/portal/better-auth.ts (auth_* tables, snake_case columns),
// so they never clash with Voxgate's own `users`. A portal user is linked to the Voxgate user with the
// same verified phone number (users.phone_number). Better Auth's conventions on SQLite apply here, not
// ours: dates are ISO-8601 text, booleans 0/1 integers. Better Auth checks these columns at runtime
// and refuses to run against a schema that does not match.

export const authUser = sqliteTable("auth_user", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** Better Auth requires an email: portal users get a placeholder derived from the phone number. */
  email: text("email").notNull().unique(),
  emailVerified: integer("email_verified", { mode: "boolean" }).notNull().default(false),
  image: text("image"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
  phoneNumber: text("phone_number").unique(),
  phoneNumberVerified: integer("phone_number_verified", { mode: "boolean" }),
});

export const authSession = sqliteTable(
  "auth_session",
  {
    id: text("id").primaryKey(),
    expiresAt: text("expires_at").notNull(),
    /** The session token; the cookie carries it signed with BETTER_AUTH_SECRET. */
    token: text("token").notNull().unique(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    userId: text("user_id")
      .notNull()
      .references(() => authUser.id, { onDelete: "cascade" }),
  },
  (t) => [index("auth_session_user_idx").on(t.userId)],
);

/** Sign-in methods of a user (Better Auth core; phone-OTP sign-in itself stores none). */
export const authAccount = sqliteTable(
  "auth_account",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    providerId: text("provider_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => authUser.id, { onDelete: "cascade" }),
    accessToken: text("access_token"),
    refreshToken: text("refresh_token"),
    idToken: text("id_token"),
    accessTokenExpiresAt: text("access_token_expires_at"),
    refreshTokenExpiresAt: text("refresh_token_expires_at"),
    scope: text("scope"),
    password: text("password"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("auth_account_user_idx").on(t.userId)],
);

/** Pending one-time codes: identifier `phone-number-otp-<E.164>`, value `<code>:<failed attempts>`. */
export const authVerification = sqliteTable(
  "auth_verification",
  {
    id: text("id").primaryKey(),
    identifier: text("identifier").notNull(),
    value: text("value").notNull(),
    expiresAt: text("expires_at").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("auth_verification_identifier_idx").on(t.identifier)],
);

/**
 * Fixed-window request counters for the portal's sign-in routes (per client IP and route, per phone
 * number), shared by every isolate: one atomic upsert per check (src/portal/rate-limit.ts).
 */
export const authRateLimit = sqliteTable(
  "auth_rate_limit",
  {
    key: text("key").primaryKey(),
    count: integer("count").notNull(),
    /** When the current window opened (ms since the epoch). */
    windowStart: integer("window_start").notNull(),
  },
  (t) => [index("auth_rate_limit_window_idx").on(t.windowStart)],
);

// ---- voice agents ----------------------------------------------------------------------------------

/** A user's saved voice-agent configuration (API.md §4); its chat and speak run through the gateway. */
export const agents = sqliteTable(
  "agents",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    name: text("name").notNull(),
    systemPrompt: text("system_prompt"),
    firstMessage: text("first_message"),
    voiceId: text("voice_id"),
    /** Provider ids (aliases resolved), or null for the deployment's DEFAULT_*_PROVIDER. */
    ttsProvider: text("tts_provider"),
    ttsModel: text("tts_model"),
    llmProvider: text("llm_provider"),
    llmModel: text("llm_model"),
    language: text("language"),
    temperature: real("temperature"),
    maxTokens: integer("max_tokens"),
    /** The caller's own JSON object, stored as text. */
    metadata: text("metadata"),
    /** Providers to fail over to (API.md §4.2), a JSON array as text; speak uses the speech ones, chat the LLM ones. */
    fallback: text("fallback"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("agents_user_idx").on(t.userId, t.createdAt)],
);

// ---- integrations: webhooks and the request log (API.md §7.1) --------------------------------------

/** A user's webhook endpoint; its signing secret is sealed like a stored provider key (AES-256-GCM). */
export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    url: text("url").notNull(),
    /** JSON array of event types. */
    events: text("events").notNull(),
    description: text("description"),
    secretCiphertext: text("secret_ciphertext").notNull(),
    secretIv: text("secret_iv").notNull(),
    secretKeyVersion: integer("secret_key_version").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("webhooks_user_idx").on(t.userId, t.createdAt)],
);

/** One row per delivery attempt (deleted with its webhook, pruned after 30 days by the cron). */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    webhookId: text("webhook_id").notNull(),
    userId: text("user_id").notNull(),
    eventId: text("event_id").notNull(),
    type: text("type").notNull(),
    attempt: integer("attempt").notNull(),
    /** The receiver's HTTP status; null when it gave none (timeout, connection refused, URL refused). */
    status: integer("status"),
    /** delivered | retrying | failed */
    outcome: text("outcome").notNull(),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("webhook_deliveries_webhook_idx").on(t.webhookId, t.createdAt), index("webhook_deliveries_created_idx").on(t.createdAt)],
);

/**
 * What a user's requests did, kept 30 days: written after the response through a Queue, in batches.
 * Never a body, a key or a header value; the path without its query string.
 */
export const requestLog = sqliteTable(
  "request_log",
  {
    /** Made when the request ended: a redelivered queue batch inserts nothing twice. */
    rowId: text("row_id").primaryKey(),
    /** The X-Request-Id (a client may send its own, so not unique). */
    requestId: text("request_id").notNull(),
    userId: text("user_id").notNull(),
    createdAt: integer("created_at").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    keyId: text("key_id"),
    provider: text("provider"),
    status: integer("status").notNull(),
    costMc: integer("cost_mc").notNull(),
    durationMs: integer("duration_ms").notNull(),
    attempts: integer("attempts").notNull(),
    /** Server-Timing's figures in ms (to 0.1): Voxgate's own time, the provider's time to its first byte; null without a provider answer. */
    gatewayMs: real("gateway_ms"),
    upstreamMs: real("upstream_ms"),
  },
  (t) => [index("request_log_user_idx").on(t.userId, t.createdAt, t.rowId), index("request_log_created_idx").on(t.createdAt)],
);
