// API keys: create, list, rotate, revoke (API.md §2), scoped keys' rules and PATCH (§7.1) — under
// /v1/keys, the Sonna aliases under /api/v1/user/api-keys, and (with the portal session) /portal/api/keys.
// Each change is told to the user's webhooks (key.created, key.rotated, key.revoked) after the response.
// An API key calling these gives no key more than it has itself, and the keys a limited one makes spend
// from its budget (src/api/caller-key-rules.ts).
import { createRoute, type OpenAPIHono, type z } from "@hono/zod-openapi";
import { type KeyState, keyStateOf } from "../account/catalog-copy";
import {
  type CallerKey,
  type KeyRules,
  newKeyBudget,
  patchedRules,
  requireLifetimeWithinCaller,
  requireRotatableByCaller,
  requireWithinCaller,
} from "../api/caller-key-rules";
import { keyRulesPatch } from "../api/key-rules";
import { apiKeyView, CreatedKey, CreateKeyBody, KeyList, RotatedKey, UpdatedKey, UpdateKeyBody } from "../api/keys";
import { errors, IdParam, SuccessSchema } from "../api/schemas";
import { generateApiKey, newKeyId } from "../auth/api-key";
import { rememberNewKey } from "../auth/key-cache";
import type { AppEnv, Ctx } from "../context";
import { sha256Hex } from "../crypto/sha256";
import * as apiKeysTable from "../db/api-keys";
import { admittedUsage } from "../gateway/admission";
import { ApiError } from "../http/errors";
import type { KeyRulesPatch } from "../metering/contract";
import { PLANS } from "../metering/plans";
import { emitEvent } from "../webhooks/emit";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Only paying users may create or rotate keys: an active paid plan or a PAYG balance above 0. */
function requirePaying(c: Ctx) {
  const usage = admittedUsage(c);
  if (!PLANS[usage.plan].paid && usage.paygMc <= 0) {
    throw new ApiError("paid_plan_required", "API keys are for paying users: an active paid plan or a PAYG balance above 0.");
  }
}

/** The API key making this request (its rules and budget); undefined for a JWT or portal session (not bounded). */
async function callerKey(c: Ctx): Promise<CallerKey | undefined> {
  const { keyId, userId } = c.get("principal");
  if (keyId === undefined) return undefined;
  const key = await activeKey(c, userId, keyId);
  // Revoked (or rotated out) since admission let this request in: it may no longer manage keys.
  if (!key) throw new ApiError("unauthorized", "This API key has been revoked.");
  return { id: keyId, ...key };
}

/** A key's state from D1 (the catalog of record: the Account object writes there first); undefined if not active. */
async function activeKey(c: Ctx, userId: string, keyId: string): Promise<(KeyState & { createdAt: number }) | undefined> {
  const row = await apiKeysTable.findKeyById(c.get("bindings").db, userId, keyId);
  return row && row.revokedAt === null ? { ...keyStateOf(row), createdAt: row.createdAt } : undefined;
}

/**
 * An API key caller may change, rotate or revoke only a key within its own rules (a leaked narrow key must
 * not take away its owner's broader keys), and one with a monthly limit may rotate only keys of its own
 * budget (a key not the user's, or not active: 404 or the revoke's idempotent answer follows).
 */
async function requireTargetWithinCaller(c: Ctx, id: string, patch: KeyRulesPatch, doing: "change" | "rotate" | "revoke") {
  const caller = await callerKey(c);
  if (!caller) return;
  const target = await activeKey(c, c.get("principal").userId, id);
  if (!target) return;
  requireWithinCaller(caller, patchedRules(target, patch), doing);
  if (doing !== "rotate") return;
  requireRotatableByCaller(caller, { id, ...target });
  // The new key keeps the old one's lifetime length (API.md §2), from now; a key rotating itself may.
  if (id !== caller.id) {
    const lifetime = target.expiresAt === null ? null : target.expiresAt - target.createdAt;
    requireLifetimeWithinCaller(caller, lifetime === null ? null : Date.now() + lifetime, "expiresAt");
  }
}

async function newKey(c: Ctx, name: string | null, expiresAt: number | null): Promise<{ plaintext: string; key: apiKeysTable.NewApiKey }> {
  const { plaintext, keyPrefix } = generateApiKey(c.get("config").API_KEY_PREFIX);
  return { plaintext, key: { id: newKeyId(), name, keyPrefix, keyHash: await sha256Hex(plaintext), expiresAt } };
}

async function createKey(c: Ctx, body: z.infer<typeof CreateKeyBody>) {
  requirePaying(c);
  const now = Date.now();
  let expiresAt = body.expiresInDays ? now + body.expiresInDays * DAY_MS : null;
  const { name: _, ...asked } = keyRulesPatch(body, admittedUsage(c).plan, c.get("prices"));
  // An API key's new key inherits the caller's rules (and expiry) the body leaves out, and may ask for no more.
  const caller = await callerKey(c);
  let rules: KeyRulesPatch | KeyRules = asked;
  if (caller) {
    rules = patchedRules(caller, asked);
    requireWithinCaller(caller, rules, "create");
    if (body.expiresInDays === undefined) expiresAt = caller.expiresAt;
    requireLifetimeWithinCaller(caller, expiresAt, "expiresInDays");
  }
  const { plaintext, key } = await newKey(c, body.name ?? null, expiresAt);
  const userId = c.get("principal").userId;
  // Through the user's Account object, so it knows the key before its first use (no D1 read then).
  const row = await c
    .get("bindings")
    .account(userId)
    .createKey(
      userId,
      { ...key, rules: { ...apiKeysTable.NO_KEY_RULES, ...apiKeysTable.storedRules(rules) }, budgetKeyId: newKeyBudget(caller) },
      now,
    );
  if (!row) throw new ApiError("key_limit_reached", `At most ${apiKeysTable.MAX_ACTIVE_KEYS} active API keys; revoke one first.`);
  rememberNewKey(key.keyHash, { keyId: key.id, userId, expiresAt: row.expiresAt });
  const apiKey = apiKeyView(row);
  emitEvent(c, userId, "key.created", { apiKey });
  return { success: true as const, key: plaintext, apiKey };
}

async function updateKey(c: Ctx, id: string, body: z.infer<typeof UpdateKeyBody>) {
  const userId = c.get("principal").userId;
  const patch = keyRulesPatch(body, admittedUsage(c).plan, c.get("prices"));
  await requireTargetWithinCaller(c, id, patch, "change");
  const row = await c.get("bindings").account(userId).updateKey(userId, id, patch);
  if (!row) throw new ApiError("not_found", "No active API key with this id.");
  return { success: true as const, apiKey: apiKeyView(row) };
}

async function listKeys(c: Ctx) {
  const rows = await apiKeysTable.listKeys(c.get("bindings").db, c.get("principal").userId);
  return { success: true as const, apiKeys: rows.map(apiKeyView) };
}

async function rotateKey(c: Ctx, id: string) {
  requirePaying(c);
  // The caller receives the new key's plaintext: it keeps the old key's rules, so they must be within the caller's.
  await requireTargetWithinCaller(c, id, {}, "rotate");
  const { plaintext, key } = await newKey(c, null, null);
  const row = await c.get("bindings").account(c.get("principal").userId).rotateKey(c.get("principal").userId, id, key);
  if (!row) throw new ApiError("not_found", "No active API key with this id.");
  rememberNewKey(key.keyHash, { keyId: row.id, userId: c.get("principal").userId, expiresAt: row.expiresAt });
  const apiKey = apiKeyView(row);
  emitEvent(c, c.get("principal").userId, "key.rotated", { apiKey, revokedKeyId: id });
  return { success: true as const, key: plaintext, apiKey, revokedKeyId: id };
}

async function revokeKey(c: Ctx, id: string) {
  await requireTargetWithinCaller(c, id, {}, "revoke");
  const outcome = await c.get("bindings").account(c.get("principal").userId).revokeKey(c.get("principal").userId, id);
  if (!outcome) throw new ApiError("not_found", "No API key with this id.");
  if (outcome === "revoked") emitEvent(c, c.get("principal").userId, "key.revoked", { keyId: id });
  return { success: true as const };
}

/**
 * Register create/list/revoke (and rotate and PATCH) under `base`: /v1/keys, Sonna's /api/v1/user/api-keys
 * (no rotate, no PATCH) and the portal's /portal/api/keys (with its session as `sec`).
 */
export function registerKeyRoutes(
  app: OpenAPIHono<AppEnv>,
  base: string,
  tag: string,
  withRotate: boolean,
  sec: Record<string, string[]>[],
) {
  if (withRotate) {
    app.openapi(
      createRoute({
        method: "patch",
        path: `${base}/{id}`,
        tags: [tag],
        summary: "Change an active key's name, scopes, providers, monthly credit limit or rate limit (null lifts one)",
        security: sec,
        request: { params: IdParam, body: { content: { "application/json": { schema: UpdateKeyBody } }, required: true } },
        responses: {
          200: { description: "Updated", content: { "application/json": { schema: UpdatedKey } } },
          ...errors(400, 401, 403, 404, 429),
        },
      }),
      async (c) => c.json(await updateKey(c, c.req.valid("param").id, c.req.valid("json")), 200),
    );
  }
  app.openapi(
    createRoute({
      method: "post",
      path: base,
      tags: [tag],
      summary: "Create an API key (the plaintext is returned once)",
      security: sec,
      request: { body: { content: { "application/json": { schema: CreateKeyBody } }, required: false } },
      responses: {
        201: { description: "Created", content: { "application/json": { schema: CreatedKey } } },
        ...errors(400, 401, 403, 409, 429),
      },
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
        responses: {
          201: { description: "Rotated", content: { "application/json": { schema: RotatedKey } } },
          ...errors(401, 403, 404, 429),
        },
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
