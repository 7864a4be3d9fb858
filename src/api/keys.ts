// API keys' shapes (API.md §2, §7.1, §9): what a listing shows — never the hash, never the plaintext —
// and a scoped key's rules (scopes, providers, monthly credit limit, requests per minute).
import { z } from "@hono/zod-openapi";
import { SCOPES } from "../auth/scopes";
import type { ApiKeyRow } from "../db/api-keys";
import { toCredits } from "../metering/plans";
import { displayText } from "./display-text";
import { IsoDate, IsoTime, iso } from "./schemas";

export const ApiKeySchema = z
  .object({
    id: z.string(),
    keyPrefix: z.string().openapi({ example: "plabs_Ab3dE" }),
    name: z.string().nullable(),
    createdAt: IsoTime,
    expiresAt: IsoDate,
    lastUsedAt: IsoDate,
    revokedAt: IsoDate,
    scopes: z.array(z.enum(SCOPES)).openapi({ description: "What the key may do (every scope unless restricted)" }),
    providers: z.array(z.string()).nullable().openapi({ description: "The providers it may use; null: every provider" }),
    monthlyCreditLimit: z.number().nullable().openapi({ description: "Credits it may spend per month; null: no limit of its own" }),
    requestsPerMinute: z.number().int().nullable().openapi({ description: "Its own rate limit (at most the plan's); null: the plan's" }),
  })
  .openapi("ApiKey");

const ScopeList = z
  .array(z.enum(SCOPES))
  .min(1)
  .max(SCOPES.length)
  .refine((l) => new Set(l).size === l.length, "each scope once")
  .openapi({ description: `A subset of ${SCOPES.join(", ")}` });
const ProviderList = z
  .array(z.string().min(1).max(64))
  .min(1)
  .max(32)
  .openapi({ description: "Provider ids (aliases accepted) the key may use" });
const CreditLimit = z.number().min(0).max(1e12).openapi({ description: "Credits per billing month (at most 3 decimals)" });
const PerMinute = z.number().int().min(1).max(1_000_000).openapi({ description: "At most the plan's requests per minute" });

export const CreateKeyBody = z
  .object({
    name: displayText(100).optional(),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
    scopes: ScopeList.optional(),
    providers: ProviderList.optional(),
    monthlyCreditLimit: CreditLimit.optional(),
    requestsPerMinute: PerMinute.optional(),
  })
  // A misspelt field is refused, not ignored: `expiresInDay` would make a key that never expires.
  .strict()
  .openapi("CreateApiKey");

/** PATCH /v1/keys/:id: the fields given change; null lifts a restriction (or clears the name). */
export const UpdateKeyBody = z
  .object({
    name: displayText(100).nullable().optional(),
    scopes: ScopeList.nullable().optional(),
    providers: ProviderList.nullable().optional(),
    monthlyCreditLimit: CreditLimit.nullable().optional(),
    requestsPerMinute: PerMinute.nullable().optional(),
  })
  .strict()
  .openapi("UpdateApiKey");

export const CreatedKey = z
  .object({
    success: z.literal(true),
    key: z.string().openapi({ description: "The plaintext key, shown this once" }),
    apiKey: ApiKeySchema,
  })
  .openapi("CreatedApiKey");
export const RotatedKey = CreatedKey.extend({ revokedKeyId: z.string() }).openapi("RotatedApiKey");
export const KeyList = z.object({ success: z.literal(true), apiKeys: z.array(ApiKeySchema) }).openapi("ApiKeyList");
export const UpdatedKey = z.object({ success: z.literal(true), apiKey: ApiKeySchema }).openapi("UpdatedApiKey");

export function apiKeyView(row: ApiKeyRow) {
  return {
    id: row.id,
    keyPrefix: row.keyPrefix,
    name: row.name,
    createdAt: iso(row.createdAt),
    expiresAt: iso(row.expiresAt),
    lastUsedAt: iso(row.lastUsedAt),
    revokedAt: iso(row.revokedAt),
    scopes: (row.scopes === null ? [...SCOPES] : JSON.parse(row.scopes)) as (typeof SCOPES)[number][],
    providers: row.providers === null ? null : (JSON.parse(row.providers) as string[]),
    monthlyCreditLimit: row.monthlyCreditLimitMc === null ? null : toCredits(row.monthlyCreditLimitMc),
    requestsPerMinute: row.requestsPerMinute,
  };
}
