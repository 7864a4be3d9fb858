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
  const fingerprint = await requestFingerprint(c.req.method, c.req.path, input);
  c.set("idempotencyKey", key);
  return { key, fingerprint };
}

/** What makes two requests the same one: method, path and body (an upload by the SHA-256 of its bytes). */
export async function requestFingerprint(method: string, path: string, input: object): Promise<string> {
  const parts: string[] = [method, path];
  for (const [k, v] of Object.entries(input).sort(([a], [b]) => a.localeCompare(b))) {
    if (v && typeof v === "object" && "data" in v && v.data instanceof Blob) {
      parts.push(`${k}=${await sha256Hex(await v.data.arrayBuffer())}`);
    } else {
      parts.push(`${k}=${v === undefined ? v : canonicalJson(v)}`);
    }
  }
  return sha256Hex(parts.join("\n"));
}

/**
 * JSON with every object's keys in order, at any depth: the same body with its keys in another order (another
 * client library, a re-serialized retry) is the same request. Iterative: the caller picks the depth.
 */
function canonicalJson(value: unknown): string {
  let out = "";
  // Work left, last first: a value to write, or punctuation already written out.
  const todo: ({ text: string } | { value: unknown })[] = [{ value }];
  while (todo.length > 0) {
    const item = todo.pop() as { text: string } | { value: unknown };
    if ("text" in item) {
      out += item.text;
      continue;
    }
    const v = item.value;
    if (v === null || typeof v !== "object" || typeof (v as { toJSON?: unknown }).toJSON === "function") {
      out += JSON.stringify(v) ?? "null";
      continue;
    }
    const parts: ({ text: string } | { value: unknown })[] = [];
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) parts.push({ text: i === 0 ? "[" : "," }, { value: x });
      parts.push({ text: v.length === 0 ? "[]" : "]" });
    } else {
      const entries = Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [i, [k, x]] of entries.entries()) parts.push({ text: `${i === 0 ? "{" : ","}${JSON.stringify(k)}:` }, { value: x });
      parts.push({ text: entries.length === 0 ? "{}" : "}" });
    }
    for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i] as { text: string } | { value: unknown });
  }
  return out;
}

export function replayResponse(result: IdempotentResult): Response {
  return new Response(base64ToBytes(result.bodyBase64), {
    status: result.status,
    headers: { ...result.headers, "content-type": result.contentType, "idempotent-replayed": "true" },
  });
}

/** A JSON answer as the result an idempotent retry gets replayed, naming the provider that served it (as speech does). */
export function jsonResult(body: unknown, provider: string): IdempotentResult {
  return {
    status: 200,
    contentType: "application/json",
    headers: { "x-provider-used": provider },
    bodyBase64: bytesToBase64(new TextEncoder().encode(JSON.stringify(body))),
  };
}
