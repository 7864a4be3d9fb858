// zod failures → 400 validation_failed listing the fields. (A request refused here is still admitted
// afterwards — src/gateway/admission.ts — so a revoked key gets 401, not 400.)
import type { Hook } from "@hono/zod-openapi";
import type { AppEnv, Ctx } from "../context";
import { ApiError } from "../http/errors";
import { errorResponse } from "../http/respond";

export function fieldsOf(issues: readonly { path: readonly PropertyKey[]; message: string }[]) {
  return issues.map((i) => ({ path: i.path.map(String).join(".") || "(body)", message: i.message }));
}

export function validationError(issues: readonly { path: readonly PropertyKey[]; message: string }[]): ApiError {
  const fields = fieldsOf(issues);
  return new ApiError("validation_failed", `Invalid request: ${fields.map((f) => `${f.path}: ${f.message}`).join("; ")}`, { fields });
}

// biome-ignore lint/suspicious/noExplicitAny: one hook serves every route, whatever its input and output types
export const validationHook: Hook<any, AppEnv, any, any> = (result, c) => {
  if (result.success) return;
  return errorResponse(c as unknown as Ctx, validationError(result.error.issues));
};
