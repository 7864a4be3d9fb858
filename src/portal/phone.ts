// The portal's sign-in constants and checks, shared by Better Auth's setup, sign-in and the session middleware.

/** Where Better Auth is mounted (its basePath). */
export const AUTH_BASE_PATH = "/portal/auth";
/** A phone number in E.164: a plus, a country code, at most 15 digits in all. */
export const E164_PHONE_NUMBER = /^\+[1-9]\d{6,14}$/;

/**
 * Whether a request was addressed to this machine: the hostname of the URL the runtime hands the Worker
 * (never a header a caller sets on the side, such as X-Forwarded-Host). In production a request only
 * reaches the Worker through its own hostnames, so this holds only under `wrangler dev`.
 */
export function isLoopbackUrl(url: URL): boolean {
  return url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
}
