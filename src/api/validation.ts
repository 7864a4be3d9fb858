// zod failures → 400 validation_failed listing the fields. (A request refused here is still admitted
// afterwards — src/gateway/admission.ts — so a revoked key gets 401, not 400.)
import type { Hook } from "@hono/zod-openapi";
import type { AppEnv, Ctx } from "../context";
import { ApiError } from "../http/errors";
import { errorResponse } from "../http/respond";

type Issue = { path: readonly PropertyKey[]; message: string; code?: string; keys?: readonly string[] };

/**
 * One line per field. A value of the wrong type is told only that: zod also runs a length check on it
 * (`"messages": "hi"` was told "expected string to have <=500 characters" besides "expected array"). Unknown
 * fields (a strict object's `unrecognized_keys`, one issue for all of them) are listed one by one, each at its
 * own path, so a client reading `fields[].path` sees what to fix.
 */
export function fieldsOf(issues: readonly Issue[]) {
  const at = (i: Issue) => i.path.map(String).join(".") || "(body)";
  const split = issues.flatMap((i) =>
    i.code === "unrecognized_keys" && i.keys?.length
      ? i.keys.map((k) => ({ ...i, path: [...i.path, k], message: "unknown field: not one this route takes" }))
      : [i],
  );
  const mistyped = new Set(split.filter((i) => i.code === "invalid_type").map(at));
  return split.filter((i) => i.code === "invalid_type" || !mistyped.has(at(i))).map((i) => ({ path: at(i), message: i.message }));
}

export function validationError(issues: readonly Issue[]): ApiError {
  const fields = fieldsOf(issues);
  return new ApiError("validation_failed", `Invalid request: ${fields.map((f) => `${f.path}: ${f.message}`).join("; ")}`, { fields });
}

// biome-ignore lint/suspicious/noExplicitAny: one hook serves every route, whatever its input and output types
export const validationHook: Hook<any, AppEnv, any, any> = (result, c) => {
  if (result.success) return;
  return errorResponse(c as unknown as Ctx, validationError(result.error.issues));
};
