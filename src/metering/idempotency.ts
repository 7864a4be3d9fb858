// Idempotency-Key for webhook-style callers (API.md §6): a retry with the same key and body within
// 24 hours is never charged twice. The Account object keeps the record (it is the one place that sees
// every request of the user in order): running → 409; done → the stored result; other body → 422.
import { sha256Hex } from "../auth/api-key";
import type { Ctx } from "../context";
import { ApiError } from "../http/errors";
import type { IdempotentResult } from "./account";
import { base64ToBytes } from "../base64";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export async function idempotencyFor(c: Ctx, input: object): Promise<{ key: string; fingerprint: string } | undefined> {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) throw new ApiError("validation_failed", "Idempotency-Key must be 1–255 visible ASCII characters.");
  const parts: string[] = [c.req.method, c.req.path];
  for (const [k, v] of Object.entries(input).sort(([a], [b]) => a.localeCompare(b))) {
    if (v && typeof v === "object" && "data" in v && v.data instanceof Blob) {
      parts.push(`${k}=${await sha256Hex(new TextDecoder("latin1").decode(await v.data.arrayBuffer()))}`);
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
