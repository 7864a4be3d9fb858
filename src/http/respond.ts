// Rendering errors and the headers every response carries (API.md §5, §8).
import type { Ctx } from "../context";
import { formatCounts } from "../storage";
import { ApiError, errorBody, type ErrorCode } from "./errors";
import { toCredits } from "../metering/plans";

export function errorResponse(c: Ctx, err: ApiError): Response {
  const res = c.json(errorBody(err.code, err.message, c.var.requestId ?? "", err.details), err.status);
  if (c.var.requestId) res.headers.set("x-request-id", c.var.requestId);
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) res.headers.set(k, v);
  return res;
}

export function apiError(code: ErrorCode, message: string, details?: ApiError["details"]) {
  return new ApiError(code, message, details);
}

/** Set X-Request-Id, rate-limit, usage and provider headers on the final response. */
export function finalizeHeaders(c: Ctx): void {
  let res = c.res;
  try {
    res.headers.set("x-request-id", c.var.requestId);
  } catch {
    // Immutable headers (a response passed through as is): copy it once.
    res = c.res = new Response(res.body, res);
    res.headers.set("x-request-id", c.var.requestId);
  }
  const h = res.headers;
  const { rate, usage } = c.var;
  if (rate) {
    h.set("x-ratelimit-limit", String(rate.limit));
    h.set("x-ratelimit-remaining", String(rate.remaining));
  }
  if (usage) {
    h.set("x-usage-current", String(toCredits(usage.usedMc)));
    h.set("x-usage-limit", String(toCredits(usage.limitMc)));
    h.set("x-usage-remaining", String(toCredits(usage.remainingMc)));
    h.set("x-usage-bypassed", c.var.usageBypassed ? "true" : "false");
  }
  if (c.var.providerUsed) h.set("x-provider-used", c.var.providerUsed);
  const counts = c.var.storage?.counts;
  if (counts) h.set("x-voxgate-storage", formatCounts(counts));
}
