// Idempotency-Key for webhook-style callers (API.md §6): a retry with the same key and body within
// 24 hours is never charged twice. The worker side: the request's fingerprint (method, path, body;
// uploads by the SHA-256 of their bytes) and the stored result's replay. The record itself is kept by
// the user's Account object (src/metering/idempotency-records.ts).
import type { Ctx } from "../context";
import { sha256Hex } from "../crypto/sha256";
import { base64ToBytes, bytesToBase64 } from "../encoding/base64";
import { ApiError } from "../http/errors";
import type { IdempotencyClaim, IdempotentResult } from "../metering/contract";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The request's claim, when it carries an Idempotency-Key. */
export async function idempotencyFor(c: Ctx, input: object): Promise<IdempotencyClaim | undefined> {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) throw new ApiError("validation_failed", "Idempotency-Key must be 1–255 visible ASCII characters.");
  const parts: string[] = [c.req.method, c.req.path];
  for (const [k, v] of Object.entries(input).sort(([a], [b]) => a.localeCompare(b))) {
    if (v && typeof v === "object" && "data" in v && v.data instanceof Blob) {
      parts.push(`${k}=${await sha256Hex(await v.data.arrayBuffer())}`);
    } else {
      parts.push(`${k}=${JSON.stringify(v)}`);
    }
  }
  c.set("idempotencyKey", key);
  return { key, fingerprint: await sha256Hex(parts.join("\n")) };
}

export function replayResponse(result: IdempotentResult): Response {
  return new Response(base64ToBytes(result.bodyBase64), {
    status: result.status,
    headers: { ...result.headers, "content-type": result.contentType, "idempotent-replayed": "true" },
  });
}

/** A JSON answer as the result an idempotent retry gets replayed. */
export function jsonResult(body: unknown): IdempotentResult {
  return {
    status: 200,
    contentType: "application/json",
    headers: {},
    bodyBase64: bytesToBase64(new TextEncoder().encode(JSON.stringify(body))),
  };
}
