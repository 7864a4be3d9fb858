// API keys' shapes (API.md §2, §9): what a listing shows — never the hash, never the plaintext.
import { z } from "@hono/zod-openapi";
import type { ApiKeyRow } from "../db/api-keys";
import { IsoDate, iso } from "./schemas";

export const ApiKeySchema = z
  .object({
    id: z.string(),
    keyPrefix: z.string().openapi({ example: "plabs_Ab3dE" }),
    name: z.string().nullable(),
    createdAt: z.string(),
    expiresAt: IsoDate,
    lastUsedAt: IsoDate,
    revokedAt: IsoDate,
  })
  .openapi("ApiKey");

export const CreateKeyBody = z
  .object({
    name: z.string().min(1).max(100).optional(),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  })
  .openapi("CreateApiKey");

export const CreatedKey = z
  .object({
    success: z.literal(true),
    key: z.string().openapi({ description: "The plaintext key, shown this once" }),
    apiKey: ApiKeySchema,
  })
  .openapi("CreatedApiKey");
export const RotatedKey = CreatedKey.extend({ revokedKeyId: z.string() }).openapi("RotatedApiKey");
export const KeyList = z.object({ success: z.literal(true), apiKeys: z.array(ApiKeySchema) }).openapi("ApiKeyList");

export function apiKeyView(row: ApiKeyRow) {
  return {
    id: row.id,
    keyPrefix: row.keyPrefix,
    name: row.name,
    createdAt: iso(row.createdAt),
    expiresAt: iso(row.expiresAt),
    lastUsedAt: iso(row.lastUsedAt),
    revokedAt: iso(row.revokedAt),
  };
}
