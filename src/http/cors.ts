// CORS for the bearer-credential APIs (/v1/*, /api/v1/*, /api/admin/*), so a browser app on another origin
// can call Voxgate with a JWT (a UI session, API.md §1) — or, on the developer's own machine, an API key.
// Never credentialed: no cookie is honoured on these paths, so allowing an origin hands it no ambient
// authority — a caller still needs a token it holds. The portal (/portal/*, a cookie session) gets no CORS
// at all: its state changes require its own Origin. `CORS_ORIGINS` narrows the origins (or turns it off).

/** Paths that take a bearer credential only. */
const CORS_PATHS = /^\/(v1|api\/v1|api\/admin)\//;

/** What a browser script may read of an answer (API.md §5), beyond the CORS-safelisted headers. */
const EXPOSED = [
  "x-request-id",
  "x-usage-current",
  "x-usage-limit",
  "x-usage-remaining",
  "x-usage-bypassed",
  "x-usage-cost",
  "x-provider-used",
  "x-provider-attempts",
  "x-ratelimit-limit",
  "x-ratelimit-remaining",
  "retry-after",
  "server-timing",
].join(", ");

/** Header names as a preflight lists them: tokens separated by commas. */
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;
const PREFLIGHT_MAX_AGE = "86400";

export type CorsOrigins = "*" | "none" | ReadonlySet<string>;

/** CORS_ORIGINS: `*` (default), `none`, or origins separated by commas (`https://app.example.com`). */
export function parseCorsOrigins(value: string | undefined): CorsOrigins {
  const v = value?.trim() ?? "";
  if (v === "" || v === "*") return "*";
  if (v === "none") return "none";
  const origins = new Set<string>();
  for (const raw of v.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    let origin: string;
    try {
      origin = new URL(entry).origin;
    } catch {
      throw new Error(`"${entry}" is not an origin (scheme://host[:port])`);
    }
    if (origin === "null" || origin !== entry.replace(/\/$/, "")) throw new Error(`"${entry}" is not an origin (scheme://host[:port])`);
    origins.add(origin);
  }
  return origins;
}

/** The Access-Control-Allow-Origin value for `origin` on `path`, or undefined (no CORS for it). */
function allowedOrigin(allowed: CorsOrigins, origin: string, path: string): string | undefined {
  if (allowed === "none" || !CORS_PATHS.test(path)) return undefined;
  if (allowed === "*") return "*";
  return allowed.has(origin) ? origin : undefined;
}

/**
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method) for a route that exists: 204 with what
 * may be sent. Undefined for anything else (an unknown route's preflight is its 404).
 */
export function preflight(
  req: Request,
  path: string,
  allowed: CorsOrigins,
  isKnown: (method: string, path: string) => boolean,
): Response | undefined {
  const origin = req.headers.get("origin");
  const method = req.headers.get("access-control-request-method");
  if (req.method !== "OPTIONS" || !origin || !method) return undefined;
  const allow = allowedOrigin(allowed, origin, path);
  if (!allow || !isKnown(method.toUpperCase(), path)) return undefined;
  const headers = new Headers({
    "access-control-allow-origin": allow,
    "access-control-allow-methods": method.toUpperCase(),
    "access-control-max-age": PREFLIGHT_MAX_AGE,
  });
  const asked = req.headers.get("access-control-request-headers");
  if (asked && HEADER_LIST.test(asked)) headers.set("access-control-allow-headers", asked);
  if (allow !== "*") headers.set("vary", "Origin");
  return new Response(null, { status: 204, headers });
}

/** On an answer to a cross-origin request (one with an Origin header): who may read it, and which headers. */
export function setCorsHeaders(headers: Headers, allowed: CorsOrigins, origin: string, path: string): void {
  const allow = allowedOrigin(allowed, origin, path);
  if (!allow) return;
  headers.set("access-control-allow-origin", allow);
  headers.set("access-control-expose-headers", EXPOSED);
  // Server-Timing's figures reach a script's PerformanceServerTiming only for an allowed origin.
  headers.set("timing-allow-origin", allow);
  if (allow !== "*") headers.append("vary", "Origin");
}
