// Calling a provider: a time-to-first-byte limit (504), connection failures (502), and provider errors
// passed on as 502 with the provider's status and message — never its key, which no redirect takes elsewhere.
import { readTextPrefix } from "../http/body";
import { ApiError } from "../http/errors";
import { PROVIDER_ERROR_BODY_MAX_BYTES, providerText } from "../providers/provider-text";
import type { ProviderAdapter, UpstreamRequest } from "../providers/types";

export async function callUpstream(adapter: ProviderAdapter, req: UpstreamRequest, timeoutMs: number, key: string): Promise<Response> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new UpstreamTimeout()), timeoutMs);
  try {
    // A redirect is never followed: it would carry the provider's key (and the request) to whatever host it
    // names — over http too. A 3xx is the provider's answer, passed on as a 502 like any other non-2xx.
    return await fetch(req.url, { ...req.init, redirect: "manual", signal: abort.signal });
  } catch (e) {
    if (abort.signal.aborted) {
      throw new ApiError("provider_timeout", `${adapter.name} did not answer within ${timeoutMs} ms.`, { provider: adapter.id });
    }
    throw new ApiError(
      "provider_unreachable",
      `Could not reach ${adapter.name}: ${providerText(String((e as Error)?.message ?? e), key)}`,
      {
        provider: adapter.id,
      },
    );
  } finally {
    clearTimeout(timer);
  }
}

class UpstreamTimeout extends Error {}

/** A non-2xx provider answer as a 502 carrying the provider's status and message. */
export async function providerFailure(adapter: ProviderAdapter, res: Response, key: string): Promise<ApiError> {
  const body = await readTextPrefix(res.body, PROVIDER_ERROR_BODY_MAX_BYTES).catch(() => "");
  const message = providerText(adapter.errorMessage(res.status, body) ?? "", key) || `HTTP ${res.status}`;
  const details: Record<string, unknown> = { provider: adapter.id, providerStatus: res.status, providerMessage: message };
  const retryAfter = res.headers.get("retry-after");
  if (retryAfter) details.providerRetryAfter = retryAfter;
  return new ApiError(
    "provider_error",
    `${adapter.name} answered ${res.status}: ${message}`,
    details,
    retryHeaders(res.status, retryAfter),
  );
}

/** Beyond this wait a client is told not to retry at all (the OpenAI SDK would sleep as long as it is told). */
const RETRY_AFTER_MAX_SECONDS = 60;

/**
 * What a client's retry logic reads on the 502 (the official OpenAI SDK retries every 5xx unless told
 * otherwise): a provider's 4xx other than 408/409/429 is the caller's error and the same request would
 * fail again (`x-should-retry: false`); a provider that said when to come back (429, 503) is passed on.
 */
function retryHeaders(status: number, retryAfter: string | null): Record<string, string> | undefined {
  if (status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 429) return { "x-should-retry": "false" };
  // Delta-seconds only (an HTTP date from the provider's clock is not passed on).
  const seconds = retryAfter?.trim();
  if (!seconds || !/^\d{1,9}$/.test(seconds)) return undefined;
  return Number(seconds) > RETRY_AFTER_MAX_SECONDS ? { "retry-after": seconds, "x-should-retry": "false" } : { "retry-after": seconds };
}
