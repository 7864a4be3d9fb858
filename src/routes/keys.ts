// API keys: create, list, rotate, revoke (API.md §2) — under /v1/keys, the Sonna aliases under
// /api/v1/user/api-keys, and (with the portal session) /portal/api/keys.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { generateApiKey, newKeyId, sha256Hex } from "../auth/api-key";
import type { AppEnv, Ctx } from "../context";
import * as catalog from "../db/catalog";
import { ApiError } from "../http/errors";
import { admitted } from "./middleware";
import { PLANS } from "../metering/plans";
import { errors, iso, IsoDate, security, SuccessSchema } from "./schemas";

const DAY_MS = 24 * 60 * 60 * 1000;

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

const CreatedKey = z
  .object({ success: z.literal(true), key: z.string().openapi({ description: "The plaintext key, shown this once" }), apiKey: ApiKeySchema })
  .openapi("CreatedApiKey");
const RotatedKey = CreatedKey.extend({ revokedKeyId: z.string() }).openapi("RotatedApiKey");
const KeyList = z.object({ success: z.literal(true), apiKeys: z.array(ApiKeySchema) }).openapi("ApiKeyList");
const IdParam = z.object({ id: z.string().min(1).max(200).openapi({ param: { name: "id", in: "path" } }) });

export function apiKeyView(row: catalog.ApiKeyRow) {
  return {
    id: row.id,
    keyPrefix: row.keyPrefix,
    name: row.name,
    createdAt: iso(row.createdAt)!,
    expiresAt: iso(row.expiresAt),
    lastUsedAt: iso(row.lastUsedAt),
    revokedAt: iso(row.revokedAt),
  };
}

/** Only paying users may create or rotate keys: an active paid plan or a PAYG balance above 0. */
function requirePaying(c: Ctx) {
  const usage = c.var.usage!;
  if (!PLANS[usage.plan].paid && usage.paygMc <= 0) {
    throw new ApiError("paid_plan_required", "API keys are for paying users: an active paid plan or a PAYG balance above 0.");
  }
}

async function newKey(c: Ctx, name: string | null, expiresAt: number | null): Promise<{ plaintext: string; key: catalog.NewApiKey }> {
  const { plaintext, keyPrefix } = generateApiKey(c.var.config.API_KEY_PREFIX);
  return { plaintext, key: { id: newKeyId(), name, keyPrefix, keyHash: await sha256Hex(plaintext), expiresAt } };
}

export async function createKey(c: Ctx, body: z.infer<typeof CreateKeyBody>) {
  requirePaying(c);
  const now = Date.now();
  const expiresAt = body.expiresInDays ? now + body.expiresInDays * DAY_MS : null;
  const { plaintext, key } = await newKey(c, body.name ?? null, expiresAt);
  const row = await catalog.createKey(c.var.storage.db, c.var.principal.userId, key, now);
  if (!row) throw new ApiError("key_limit_reached", `At most ${catalog.MAX_ACTIVE_KEYS} active API keys; revoke one first.`);
  return { success: true as const, key: plaintext, apiKey: apiKeyView(row) };
}

export async function listKeys(c: Ctx) {
  const rows = await catalog.listKeys(c.var.storage.db, c.var.principal.userId);
  return { success: true as const, apiKeys: rows.map(apiKeyView) };
}

export async function rotateKey(c: Ctx, id: string) {
  requirePaying(c);
  const { plaintext, key } = await newKey(c, null, null);
  const row = await c.var.storage.account(c.var.principal.userId).rotateKey(c.var.principal.userId, id, key);
  if (!row) throw new ApiError("not_found", "No active API key with this id.");
  return { success: true as const, key: plaintext, apiKey: apiKeyView(row), revokedKeyId: id };
}

export async function revokeKey(c: Ctx, id: string) {
  const ok = await c.var.storage.account(c.var.principal.userId).revokeKey(c.var.principal.userId, id);
  if (!ok) throw new ApiError("not_found", "No API key with this id.");
  return { success: true as const };
}

/** Register create/list/revoke (and rotate when `rotatePath` is given) under `base`. */
export function registerKeyRoutes(app: OpenAPIHono<AppEnv>, base: string, tag: string, withRotate: boolean) {
  const sec: Record<string, string[]>[] = base.startsWith("/portal") ? [{ portalSession: [] }] : security;
  app.openapi(
    createRoute({
      method: "post",
      path: base,
      tags: [tag],
      summary: "Create an API key (the plaintext is returned once)",
      security: sec,
      request: { body: { content: { "application/json": { schema: CreateKeyBody } }, required: false } },
      responses: { 201: { description: "Created", content: { "application/json": { schema: CreatedKey } } }, ...errors(400, 401, 403, 409, 429) },
    }),
    async (c) => c.json(await createKey(c, c.req.valid("json") ?? {}), 201),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: base,
      tags: [tag],
      summary: "List API keys (active and revoked, newest first)",
      security: sec,
      responses: { 200: { description: "Keys", content: { "application/json": { schema: KeyList } } }, ...errors(401, 429) },
    }),
    async (c) => c.json(await listKeys(c), 200),
  );
  if (withRotate) {
    app.openapi(
      createRoute({
        method: "post",
        path: `${base}/{id}/rotate`,
        tags: [tag],
        summary: "Rotate an API key: revoke it and issue a new one, atomically",
        security: sec,
        request: { params: IdParam },
        responses: { 201: { description: "Rotated", content: { "application/json": { schema: RotatedKey } } }, ...errors(401, 403, 404, 429) },
      }),
      async (c) => c.json(await rotateKey(c, c.req.valid("param").id), 201),
    );
  }
  app.openapi(
    createRoute({
      method: "delete",
      path: `${base}/{id}`,
      tags: [tag],
      summary: "Revoke an API key (it fails on its next request)",
      security: sec,
      request: { params: IdParam },
      responses: { 200: { description: "Revoked", content: { "application/json": { schema: SuccessSchema } } }, ...errors(401, 404, 429) },
    }),
    async (c) => c.json(await revokeKey(c, c.req.valid("param").id), 200),
  );
}

export function registerKeys(app: OpenAPIHono<AppEnv>) {
  for (const base of ["/v1/keys", "/api/v1/user/api-keys"]) {
    app.use(base, admitted);
    app.use(`${base}/*`, admitted);
  }
  registerKeyRoutes(app, "/v1/keys", "API keys", true);
  registerKeyRoutes(app, "/api/v1/user/api-keys", "API keys (Sonna)", false);
}
