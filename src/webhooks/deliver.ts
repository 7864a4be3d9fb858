// One delivery attempt: POST the signed event to the webhook's URL under the public-URL policy (the
// `audioUrl` rules, WEBHOOK_ALLOW_HOSTS for exceptions — checked again at every attempt), within 10 s,
// never following a redirect (a 3xx is a failed attempt: following it would let a public URL point us at
// a private one). Only a 2xx counts as delivered.
import type { WebhookEvent } from "../account/events";
import { type AllowHosts, checkPublicUrl } from "../http/public-url";
import { signedHeaders } from "./signing";

/** A receiver that has not answered by then failed this attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000;

export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

export interface AttemptResult {
  delivered: boolean;
  /** The receiver's HTTP status; null when there was none. */
  status: number | null;
  /** Why it failed, for the delivery log (never a response body: it is the receiver's, not ours to keep). */
  error: string | null;
  durationMs: number;
}

export async function attemptDelivery(
  url: string,
  secret: string,
  event: WebhookEvent,
  allowHosts: AllowHosts,
  fetchFn: FetchFn = (input, init) => fetch(input, init),
): Promise<AttemptResult> {
  const started = Date.now();
  const done = (status: number | null, error: string | null): AttemptResult => ({
    delivered: error === null,
    status,
    error,
    durationMs: Date.now() - started,
  });
  const verdict = checkPublicUrl(url, allowHosts);
  if (!verdict.allowed) return done(null, `url_refused (${verdict.reason})`);
  const body = JSON.stringify(event);
  const deadline = AbortSignal.timeout(DELIVERY_TIMEOUT_MS);
  try {
    const headers = await signedHeaders(secret, event.id, body, Date.now());
    const res = await fetchFn(verdict.url.href, { method: "POST", headers, body, redirect: "manual", signal: deadline });
    res.body?.cancel().catch(() => {});
    if (res.status >= 200 && res.status < 300) return done(res.status, null);
    return done(res.status, res.status >= 300 && res.status < 400 ? `redirect ${res.status} not followed` : `HTTP ${res.status}`);
  } catch (e) {
    return done(
      null,
      deadline.aborted ? `timeout after ${DELIVERY_TIMEOUT_MS} ms` : `connection failed (${(e as Error)?.name ?? "error"})`,
    );
  }
}
