// Stored provider keys (API.md §3): upsert, list, verify, delete — under /v1/provider-keys and, with
// the portal session, /portal/api/provider-keys. Secrets are sealed (AES-256-GCM) before they leave
// this isolate, and no response ever carries one.
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { errors, IsoDate, IsoTime, iso, SuccessSchema } from "../api/schemas";
import type { AppEnv, Ctx } from "../context";
import { open, seal, unreadableStoredKey } from "../crypto/provider-key-vault";
import * as providerKeysTable from "../db/provider-keys";
import { base64Bytes } from "../encoding/base64";
import { admit } from "../gateway/admission";
import { callUpstream, providerFailure } from "../gateway/upstream";
import { readTextPrefix } from "../http/body";
import { ApiError } from "../http/errors";
import { mediaType } from "../http/media-type";
import { PROVIDER_ERROR_BODY_MAX_BYTES, providerText } from "../providers/provider-text";
import { findProvider } from "../providers/registry";
import type { ProviderAdapter } from "../providers/types";
import { is2xx } from "../providers/wire";

/**
 * The shortest provider key stored. Real ones run to tens of characters (OpenAI `sk-…`, Anthropic
 * `sk-ant-…`, Groq `gsk_…`, Hugging Face `hf_…`, ElevenLabs, Deepgram, Fish Audio hex), so anything shorter
 * is a mistake — and its last 4 characters, shown in listings, would be half of it or all of it
 * (API.md §3: never the secret).
 */
const PROVIDER_KEY_MIN_CHARS = 8;
/** AES-GCM appends a 16-byte tag: the sealed key is this much longer than the plaintext (ASCII). */
const GCM_TAG_BYTES = 16;

const ProviderKeySchema = z
  .object({
    provider: z.string(),
    last4: z.string().openapi({ description: "The key's last 4 characters (empty for a key too short to show any of it)" }),
    createdAt: IsoTime,
    updatedAt: IsoTime,
    verifiedAt: IsoDate,
  })
  .openapi("ProviderKey");
const PutBody = z
  .object({
    provider: z.string().min(1).max(64),
    apiKey: z
      .string()
      .min(PROVIDER_KEY_MIN_CHARS, `at least ${PROVIDER_KEY_MIN_CHARS} characters (provider keys are longer)`)
      .max(4096)
      .regex(/^[\x21-\x7e]+$/, "visible ASCII characters only"),
  })
  .strict() // a misspelt field is refused, not ignored
  .openapi("StoreProviderKey");
const ProviderParam = z.object({
  provider: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "provider", in: "path" } }),
});
const VerifyResult = z
  .object({
    success: z.literal(true),
    provider: z.string(),
    valid: z.boolean(),
    status: z.number().int().openapi({ description: "The HTTP status of the provider's key check" }),
    restricted: z
      .literal(true)
      .optional()
      .openapi({
        description:
          "Present when the provider knows the key but refused it the key check for want of a permission (Anthropic's 403 " +
          "permission_error, Deepgram's 403 INSUFFICIENT_PERMISSIONS, ElevenLabs' 401 missing_permissions, OpenAI's 401 Missing scopes): the key is " +
          "genuine — calls needing that permission will be refused",
      }),
    message: z.string().optional().openapi({ description: "With restricted: what the provider said (never the key)" }),
  })
  .openapi("ProviderKeyVerification");

type KeyCheck = ReturnType<ProviderAdapter["verify"]>;

/**
 * What a key check's answer says of the key (a 5xx or 429 is the provider's trouble: a 502, before this).
 * The adapter knows its provider's answers: a bad key is refused (401, or whatever the provider sends), and
 * a few answers name a key the provider knows but restricts (Anthropic's 403 permission_error, Deepgram's
 * 403 INSUFFICIENT_PERMISSIONS, ElevenLabs' 401 missing_permissions, OpenAI's 401 Missing scopes) — valid, and said to be restricted, so
 * the user is not sent to replace a good key. Any other refusal (a bare 403 included) is not valid.
 */
function keyCheckVerdict(check: KeyCheck, status: number, body: string): { valid: boolean; restricted: boolean } {
  const valid = check.valid(status, body);
  return { valid, restricted: valid && !is2xx(status) };
}

/**
 * The provider named, or 400. An API key with a provider allow-list (API.md §7.1) may store, verify or
 * delete only its providers' keys: admitted once more for the provider (the rate limit counts it once),
 * 403 scope_denied otherwise. JWTs and portal sessions have no allow-list.
 */
async function providerOr400(c: Ctx, name: string): Promise<ProviderAdapter> {
  const adapter = findProvider(name);
  if (!adapter) throw new ApiError("unknown_provider", `Unknown provider '${name}'.`, { provider: name });
  if (c.get("principal").keyId) await admit(c, undefined, undefined, adapter.id);
  return adapter;
}

export function providerKeyView(row: providerKeysTable.ProviderKeyRow) {
  return {
    provider: row.provider,
    last4: shownTail(row),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    verifiedAt: iso(row.verifiedAt),
  };
}

/**
 * last4, unless the key is too short for 4 characters to be only part of it: a key stored before
 * PROVIDER_KEY_MIN_CHARS was enforced shows nothing. Its length is the sealed length less the tag.
 */
function shownTail(row: providerKeysTable.ProviderKeyRow): string {
  return base64Bytes(row.ciphertext) - GCM_TAG_BYTES < PROVIDER_KEY_MIN_CHARS ? "" : row.last4;
}

async function putProviderKey(c: Ctx, body: z.infer<typeof PutBody>) {
  const adapter = await providerOr400(c, body.provider);
  const userId = c.get("principal").userId;
  const sealed = await seal(c.get("config"), userId, adapter.id, body.apiKey);
  const row = await c
    .get("bindings")
    .account(userId)
    .putProviderKey(userId, { userId, provider: adapter.id, ...sealed, last4: body.apiKey.slice(-4), now: Date.now() });
  return { success: true as const, providerKey: providerKeyView(row) };
}

async function listProviderKeys(c: Ctx) {
  const rows = await providerKeysTable.listProviderKeys(c.get("bindings").db, c.get("principal").userId);
  return { success: true as const, providerKeys: rows.map(providerKeyView) };
}

async function verifyProviderKey(c: Ctx, name: string) {
  const adapter = await providerOr400(c, name);
  const userId = c.get("principal").userId;
  const row = await providerKeysTable.getProviderKey(c.get("bindings").db, userId, adapter.id);
  if (!row) throw new ApiError("not_found", `No stored ${adapter.name} key.`);
  const key = await open(c.get("config"), userId, adapter.id, row);
  if (key === null) throw unreadableStoredKey(adapter);
  const check = adapter.verify({ urls: c.get("config").providerUrls[adapter.id] ?? { api: "" }, key });
  const res = await callUpstream(adapter, check.upstream, c.get("config").PROVIDER_TIMEOUT_MS, key);
  // A provider failing (5xx) or shedding load (429) says nothing about the key: that is a 502 passing its
  // status and message on (API.md §8), as for a timeout or a connection error — never "valid": false.
  // So is an answer that is no key check's: a redirect (never followed: it would take the key elsewhere), or a
  // 2xx that is not the JSON every provider's check answers with (an HTML page: a proxy, a captive portal, a
  // wrong base URL) — neither says the key is valid, nor stamps it verified.
  if (res.status >= 500 || res.status === 429 || (res.status >= 300 && res.status < 400)) throw await providerFailure(adapter, res, key);
  const type = mediaType(res.headers.get("content-type"));
  if (is2xx(res.status) && type !== "application/json" && !type.endsWith("+json")) {
    res.body?.cancel().catch(() => {});
    throw new ApiError("provider_error", `${adapter.name} answered the key check with ${type || "no content type"}, not its JSON answer.`, {
      provider: adapter.id,
      providerStatus: res.status,
    });
  }
  // Only a refusal's body says anything (a restricted key's reason); an accepted check's (a model or voice
  // list) is not read at all, a refusal's only up to the error-body bound.
  let body = "";
  if (is2xx(res.status)) res.body?.cancel().catch(() => {});
  else body = await readTextPrefix(res.body, PROVIDER_ERROR_BODY_MAX_BYTES).catch(() => "");
  const { valid, restricted } = keyCheckVerdict(check, res.status, body);
  // The verdict is the checked key's: stamped when it passed, cleared when the provider refused the key itself (401,
  // 403: revoked at the provider since an earlier pass) — another answer (a 400, 404, 408) says nothing about the
  // key and changes nothing — and left alone if another key was stored while the check ran.
  if (valid || res.status === 401 || res.status === 403)
    await providerKeysTable.recordProviderKeyCheck(c.get("bindings").db, row, valid ? Date.now() : null);
  const answer = { success: true as const, provider: adapter.id, valid, status: res.status };
  if (!restricted) return answer;
  const said = providerText(adapter.errorMessage(res.status, body) ?? "", key) || `HTTP ${res.status}`;
  const message = `${adapter.name} knows this key but refused it the key check (${res.status}: ${said}); calls needing that permission will be refused.`;
  return { ...answer, restricted: true as const, message };
}

async function deleteProviderKey(c: Ctx, name: string) {
  const adapter = await providerOr400(c, name);
  const userId = c.get("principal").userId;
  const ok = await c.get("bindings").account(userId).deleteProviderKey(userId, adapter.id);
  if (!ok) throw new ApiError("not_found", `No stored ${adapter.name} key.`);
  return { success: true as const };
}

/** Register the routes under `base`: /v1/provider-keys, and the portal's /portal/api/provider-keys (with its session as `sec`). */
export function registerProviderKeyRoutes(app: OpenAPIHono<AppEnv>, base: string, sec: Record<string, string[]>[]) {
  const tags = ["Provider keys"];
  app.openapi(
    createRoute({
      method: "post",
      path: base,
      tags,
      summary: "Store (or replace) a provider key, encrypted",
      security: sec,
      request: { body: { content: { "application/json": { schema: PutBody } }, required: true } },
      responses: {
        201: {
          description: "Stored",
          content: { "application/json": { schema: z.object({ success: z.literal(true), providerKey: ProviderKeySchema }) } },
        },
        ...errors(400, 401, 413, 415, 429),
      },
    }),
    async (c) => c.json(await putProviderKey(c, c.req.valid("json")), 201),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: base,
      tags,
      summary: "List stored provider keys (never the secret)",
      security: sec,
      responses: {
        200: {
          description: "Keys",
          content: { "application/json": { schema: z.object({ success: z.literal(true), providerKeys: z.array(ProviderKeySchema) }) } },
        },
        ...errors(401, 429),
      },
    }),
    async (c) => c.json(await listProviderKeys(c), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: `${base}/{provider}/verify`,
      tags,
      summary: "Check a stored key with the provider's cheapest authenticated call",
      security: sec,
      request: { params: ProviderParam },
      responses: {
        200: { description: "Result", content: { "application/json": { schema: VerifyResult } } },
        ...errors(400, 401, 404, 429, 502, 504),
      },
    }),
    async (c) => c.json(await verifyProviderKey(c, c.req.valid("param").provider), 200),
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: `${base}/{provider}`,
      tags,
      summary: "Delete a stored provider key",
      security: sec,
      request: { params: ProviderParam },
      responses: {
        200: { description: "Deleted", content: { "application/json": { schema: SuccessSchema } } },
        ...errors(400, 401, 404, 429),
      },
    }),
    async (c) => c.json(await deleteProviderKey(c, c.req.valid("param").provider), 200),
  );
}
