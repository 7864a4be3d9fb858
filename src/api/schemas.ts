// zod schemas shared by several routes and the portal (they also describe the OpenAPI document).
import { z } from "@hono/zod-openapi";

export const ErrorSchema = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.string().openapi({ example: "validation_failed" }),
      message: z.string(),
      fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
    requestId: z.string(),
  })
  .openapi("Error");

export const SuccessSchema = z.object({ success: z.literal(true) }).openapi("Success");

const errorContent = { "application/json": { schema: ErrorSchema } };

/** Error responses a route can give, for the OpenAPI document. */
export function errors(...statuses: number[]) {
  const descriptions: Record<number, string> = {
    400: "Bad request (malformed JSON, failed validation, unknown provider, conflicting credentials)",
    401: "Missing, malformed, unknown, revoked or expired credentials",
    402: "insufficient_credits, or key_credit_limit_reached (the API key's own monthly limit)",
    403: "Credential may not use this route / paid_plan_required / scope_denied (outside the API key's scopes or providers)",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    415: "Wrong content type",
    422: "Idempotency-Key reused with a different body",
    429: "Rate limited (see Retry-After)",
    502: "The provider failed or answered with an error",
    503: "The service is not available: auth_unavailable, sms_not_configured",
    504: "The provider timed out",
  };
  return Object.fromEntries(statuses.map((s) => [s, { description: descriptions[s] ?? "Error", content: errorContent }]));
}

export const USER_ERRORS = [400, 401, 403, 404, 413, 415, 429] as const;

/**
 * A resource id in the path (`/v1/keys/{id}`, `/v1/agents/{id}`, `/v1/webhooks/{id}`). No length or
 * shape rule: an id that cannot exist is simply not found (404, API.md §2), like any other unknown id,
 * never a 400 — the look-up that misses it is the same one an unknown well-formed id costs.
 */
export const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .openapi({ param: { name: "id", in: "path" } }),
});

/** A moment as ISO-8601 (API.md §2): `format: date-time` in the document. */
export const IsoTime = z.string().openapi({ format: "date-time", example: "2026-11-22T10:00:00.000Z" });
export const IsoDate = IsoTime.nullable();

/** Milliseconds since the epoch as ISO-8601 (null stays null). */
export function iso(ms: number): string;
export function iso(ms: number | null | undefined): string | null;
export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

export const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKeyHeader: [] }];

/** The portal's routes take only its session cookie. */
export const portalSecurity: Record<string, string[]>[] = [{ portalSession: [] }];

export const IdempotencyHeader = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({ description: "Retries with the same key and body are never charged twice" }),
});

export const json = <T extends z.ZodType>(schema: T) => ({ "application/json": { schema } });

export const BinaryAudio = z.any().openapi({ type: "string", format: "binary" });
