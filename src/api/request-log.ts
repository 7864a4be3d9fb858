// The request log's shapes (API.md §7.1) and its opaque cursor.
import { z } from "@hono/zod-openapi";
import type { RequestCursor, RequestLogRow } from "../db/request-log";
import { bytesToBase64url } from "../encoding/base64";
import { toCredits } from "../metering/plans";
import { IsoTime, iso } from "./schemas";

export const RequestLogQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).optional().openapi({ description: "Default 50" }),
  cursor: z.string().max(200).optional().openapi({ description: "nextCursor of the previous page" }),
});

export const RequestLogEntrySchema = z
  .object({
    id: z.string().openapi({ description: "The request's X-Request-Id" }),
    createdAt: IsoTime,
    method: z.string(),
    path: z.string().openapi({ description: "Without the query string" }),
    keyId: z.string().nullable().openapi({ description: "The API key's id; null for a JWT" }),
    provider: z.string().nullable(),
    status: z.number().int(),
    cost: z.number().openapi({ description: "Credits charged (0 when bypassed or refunded)" }),
    durationMs: z.number().int(),
    attempts: z.number().int().openapi({ description: "Provider calls made" }),
    gatewayMs: z
      .number()
      .nullable()
      .openapi({ description: "Voxgate's own time, as in the answer's Server-Timing (ms); null when no provider was called" }),
    upstreamMs: z
      .number()
      .nullable()
      .openapi({ description: "The provider's time to its first byte, as in Server-Timing (ms); null when no provider was called" }),
  })
  .openapi("RequestLogEntry");

export const RequestLogPage = z
  .object({
    success: z.literal(true),
    requests: z.array(RequestLogEntrySchema),
    nextCursor: z.string().nullable().openapi({ description: "Pass as ?cursor= for older requests; null on the last page" }),
  })
  .openapi("RequestLogPage");

export function requestLogView(row: RequestLogRow) {
  return {
    id: row.requestId,
    createdAt: iso(row.createdAt),
    method: row.method,
    path: row.path,
    keyId: row.keyId,
    provider: row.provider,
    status: row.status,
    cost: toCredits(row.costMc),
    durationMs: row.durationMs,
    attempts: row.attempts,
    gatewayMs: row.gatewayMs,
    upstreamMs: row.upstreamMs,
  };
}

export function encodeCursor(row: RequestLogRow): string {
  return bytesToBase64url(new TextEncoder().encode(`${row.createdAt}.${row.rowId}`));
}

/** undefined for a cursor that is not one of ours. */
export function decodeCursor(text: string): RequestCursor | undefined {
  try {
    const plain = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    const m = /^(\d{1,15})\.([0-9a-f-]{36})$/.exec(plain);
    return m?.[1] && m[2] ? { createdAt: Number(m[1]), rowId: m[2] } : undefined;
  } catch {
    return undefined;
  }
}
