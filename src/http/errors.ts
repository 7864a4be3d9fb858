// One error shape (API.md §8), one place that maps error codes to HTTP statuses.
import type { ContentfulStatusCode } from "hono/utils/http-status";

export const ERROR_STATUS = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  unknown_provider: 400,
  conflicting_credentials: 400,
  provider_key_missing: 400,
  unsupported_operation: 400,
  unsupported_format: 400,
  model_not_priced: 400,
  invalid_audio_url: 400,
  invalid_webhook_url: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  insufficient_credits: 402,
  key_credit_limit_reached: 402,
  paid_plan_required: 403,
  forbidden: 403,
  scope_denied: 403,
  not_found: 404,
  model_not_found: 404,
  method_not_allowed: 405,
  key_limit_reached: 409,
  webhook_limit_reached: 409,
  conflict: 409,
  idempotency_in_progress: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  upgrade_required: 426,
  idempotency_key_reused: 422,
  rate_limited: 429,
  session_limit_reached: 429,
  provider_error: 502,
  provider_unreachable: 502,
  provider_timeout: 504,
  sms_not_configured: 503,
  auth_unavailable: 503,
  internal_error: 500,
  misconfigured: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetails {
  fields?: { path: string; message: string }[];
  [k: string]: unknown;
}

/** A failure with a product error code; thrown anywhere, rendered once by the app's onError. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  /** A provider answered 2xx and then failed before its first byte of audio: another provider may answer. */
  beforeFirstByte = false;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

export function errorBody(code: string, message: string, requestId: string, details?: ErrorDetails) {
  return {
    success: false as const,
    error: details ? { code, message, ...details } : { code, message },
    requestId,
  };
}

/** What X-Provider-Attempts (and the request log) says of a provider call that failed. */
export function attemptOutcome(e: unknown): string {
  if (!(e instanceof ApiError)) return "error";
  if (e.code === "provider_timeout") return "timeout";
  if (e.code === "provider_unreachable") return "unreachable";
  const status = e.details?.providerStatus;
  return typeof status === "number" ? String(status) : String(e.status);
}

/** 400 validation_failed naming one field, as a schema's refusal names it (src/api/validation.ts). */
export function invalidField(field: string, message: string): ApiError {
  return new ApiError("validation_failed", `Invalid request: ${field}: ${message}`, { fields: [{ path: field, message }] });
}
