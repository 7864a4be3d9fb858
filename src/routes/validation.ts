// zod failures → 400 validation_failed listing the fields. Before answering, the request is admitted
// (key validity + rate limit) if it was not yet, so a revoked key still gets 401, not 400.
import type { Hook } from "@hono/zod-openapi";
import type { AppEnv, Ctx } from "../context";
import { ApiError } from "../http/errors";
import { errorResponse } from "../http/respond";
import { admit } from "../metering/admit";

export function fieldsOf(issues: readonly { path: readonly PropertyKey[]; message: string }[]) {
  return issues.map((i) => ({ path: i.path.map(String).join(".") || "(body)", message: i.message }));
}

export function validationError(issues: readonly { path: readonly PropertyKey[]; message: string }[]): ApiError {
  const fields = fieldsOf(issues);
  return new ApiError(
    "validation_failed",
    `Invalid request: ${fields.map((f) => `${f.path}: ${f.message}`).join("; ")}`,
    { fields },
  );
}

export const validationHook: Hook<any, AppEnv, any, any> = async (result, c) => {
  if (result.success) return;
  const ctx = c as unknown as Ctx;
  if (ctx.var.principal && !ctx.var.admission) {
    try {
      await admit(ctx);
    } catch (e) {
      if (e instanceof ApiError) return errorResponse(ctx, e);
      throw e;
    }
  }
  return errorResponse(ctx, validationError(result.error.issues));
};
