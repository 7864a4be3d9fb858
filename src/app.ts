// Builds the app: middleware order, route mounting, the OpenAPI document, errors.
// A request's path: request id → config → authenticate → admission (key still valid, rate limit — or, for
// a gateway operation, inside it with the credits it reserves) → envelope (content type, size) → route
// (validate → choose provider and key → reserve → proxy, streaming → settle) → headers → after the
// response: the request log and one JSON log line (src/requestlog/record.ts).
import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { openAiErrorShape } from "./api/openai-shapes";
import { portalSecurity, security } from "./api/schemas";
import { validationHook } from "./api/validation";
import { authenticate, requireAdmin } from "./auth/authenticate";
import { bindingsFor, formatCounts } from "./bindings";
import { ConfigError, getConfig } from "./config";
import type { AppEnv, AppVariables, Ctx } from "./context";
import { admission, IdempotentReplay } from "./gateway/admission";
import { replayResponse } from "./gateway/idempotency";
import { preflight, setCorsHeaders } from "./http/cors";
import { envelope } from "./http/envelope";
import { ApiError } from "./http/errors";
import { mediaType } from "./http/media-type";
import { requestIdFrom } from "./http/request-id";
import { errorResponse } from "./http/respond";
import { setUsageHeaders } from "./metering/headers";
import { pricesFor } from "./metering/price-config";
import { registerPortal } from "./portal/routes";
import { notCrossOrigin, rejectApiCredentials, requireSession, sameOrigin } from "./portal/session";
import { carriesClientToken } from "./realtime/client-token";
import { type GatewayTiming, recordRequest } from "./requestlog/record";
import { registerAccount, registerPortalAccount } from "./routes/account";
import { registerAdmin } from "./routes/admin";
import { registerAgents } from "./routes/agents";
import { registerDocs } from "./routes/docs";
import { registerGateway } from "./routes/gateway";
import { registerKeyRoutes } from "./routes/keys";
import { registerOpenAiCompat } from "./routes/openai-compat";
import { registerProviderKeyRoutes } from "./routes/provider-keys";
import { registerProviders } from "./routes/providers";
import { registerRealtime } from "./routes/realtime";
import { registerRequestLogRoutes } from "./routes/requests";
import { registerWebhookRoutes } from "./routes/webhooks";

export function newApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  // Credentials are checked only for routes that exist: an unknown route is a 404 for everyone. Asked
  // by several middlewares, answered once per request.
  const known = knownRoutes(app);

  app.use("*", async (c, next) => {
    c.set("timing", { start: performance.now() });
    const startedAt = Date.now();
    c.set("requestId", requestIdFrom(c.req.header("x-request-id")));
    c.set("config", getConfig(c.env));
    c.set("prices", pricesFor(c.env));
    c.set("bindings", bindingsFor(c.env, c.get("config").DEBUG_STORAGE_COUNTS));
    // A browser's preflight carries no credential: answered before any is asked for (src/http/cors.ts).
    const answer = c.req.method === "OPTIONS" ? preflight(c.req.raw, c.req.path, c.get("config").CORS_ORIGINS, known) : undefined;
    if (answer) c.res = answer;
    else await next();
    const timing = gatewayTiming(c.get("timing"));
    finalizeHeaders(c, timing);
    recordRequest(c, startedAt, timing);
  });
  // OpenAI-compatible routes answer errors in OpenAI's shape: outermost, so it also sees the envelope and auth failures.
  app.use("/v1/*", openAiErrorShape);

  const onKnownRoute =
    (mw: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> =>
    (c, next) => {
      let isKnown = c.get("knownRoute");
      if (isKnown === undefined) {
        isKnown = known(c.req.method, c.req.path);
        c.set("knownRoute", isKnown);
      }
      return isKnown ? mw(c, next) : next();
    };
  // A realtime upgrade may carry a client token instead of a header (browsers): its route checks the token.
  const authenticateUnlessToken: MiddlewareHandler<AppEnv> = (c, next) => (carriesClientToken(c) ? next() : authenticate(c, next));
  for (const group of ["/v1/*", "/api/v1/*", "/api/admin/*"])
    app.use(group, onKnownRoute(authenticateUnlessToken), onKnownRoute(admission));
  app.use("/api/admin/*", onKnownRoute(requireAdmin));
  app.use("/portal/*", rejectApiCredentials);
  // A state change must come from the portal's own page: sign-in from no other origin (none at all is a
  // non-browser client); the portal's API once the session is known, so without one it is 401, not 403.
  app.use("/portal/auth/*", notCrossOrigin);
  app.use("/portal/api/*", onKnownRoute(requireSession), onKnownRoute(sameOrigin), onKnownRoute(admission));
  // The body's envelope (content type 415, size 413) after the credentials: a revoked key gets 401 and an
  // unknown route 404 whatever its body, and a refused body is admitted (rate-limited) like any bad input.
  app.use("*", onKnownRoute(envelope));

  registerKeyRoutes(app, "/v1/keys", "API keys", true, security);
  registerKeyRoutes(app, "/api/v1/user/api-keys", "API keys (Sonna)", false, security);
  registerAccount(app);
  registerProviderKeyRoutes(app, "/v1/provider-keys", security);
  registerGateway(app);
  registerProviders(app);
  registerAgents(app);
  registerOpenAiCompat(app);
  registerRealtime(app);
  registerAdmin(app);
  registerPortal(app);
  registerPortalAccount(app);
  registerKeyRoutes(app, "/portal/api/keys", "Portal", true, portalSecurity);
  registerProviderKeyRoutes(app, "/portal/api/provider-keys", portalSecurity);
  registerWebhookRoutes(app, "/v1/webhooks", "Webhooks", security);
  registerWebhookRoutes(app, "/portal/api/webhooks", "Portal", portalSecurity);
  registerRequestLogRoutes(app, "/v1/requests", "Request log", security);
  registerRequestLogRoutes(app, "/portal/api/requests", "Portal", portalSecurity);
  registerDocs(app);

  app.notFound((c) => errorResponse(c as Ctx, new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}.`)));
  app.onError((err, c) => onError(err, c as Ctx));
  return app;
}

/** Matches a method and path against the app's routes (built on first use, once routes are registered). */
function knownRoutes(app: OpenAPIHono<AppEnv>) {
  let routes: { method: string; pattern: RegExp }[] | undefined;
  return (method: string, path: string) => {
    routes ??= app.routes
      .filter((r) => r.method !== "ALL")
      // As strict as the router: "/v1/me/" is not "/v1/me" (a 404 for everyone, before any credential is looked at).
      .map((r) => ({ method: r.method, pattern: new RegExp(`^${r.path.replace(/:[^/]+/g, "[^/]+")}$`) }));
    return routes.some((r) => (r.method === method || (method === "HEAD" && r.method === "GET")) && r.pattern.test(path));
  };
}

/** X-Request-Id on every response; rate-limit, usage and provider headers once admission answered. */
function finalizeHeaders(c: Ctx, timing: GatewayTiming | undefined): void {
  let res = c.res;
  try {
    res.headers.set("x-request-id", c.get("requestId"));
  } catch {
    // Immutable headers (a response passed through as is): copy it once.
    res = c.res = new Response(res.body, res);
    res.headers.set("x-request-id", c.get("requestId"));
  }
  setUsageHeaders(res.headers, c.var);
  const origin = c.req.header("origin");
  if (origin) setCorsHeaders(res.headers, c.get("config").CORS_ORIGINS, origin, c.req.path);
  if (timing) res.headers.set("server-timing", `gateway;dur=${timing.gatewayMs}, upstream;dur=${timing.upstreamMs}`);
  const counts = c.get("bindings")?.counts;
  if (counts) res.headers.set("x-voxgate-storage", formatCounts(counts));
}

/**
 * Server-Timing (API.md §5) on proxied responses, and the same figures in the request log: `upstream` is
 * the provider's time to its first byte, `gateway` the rest — Voxgate's own time before the call and
 * after the first byte (until the answer started). Milliseconds to 0.1; Workers' clocks move across I/O,
 * which is where the time goes. Undefined when no provider was called (a timed-out or unreachable one counts: its wait is `upstream`).
 */
function gatewayTiming(timing: AppVariables["timing"]): GatewayTiming | undefined {
  if (!timing?.upstreamStart || timing.upstreamFirstByte === undefined) return undefined;
  const upstream = timing.upstreamFirstByte - timing.upstreamStart;
  const gateway = performance.now() - timing.start - upstream;
  const tenths = (ms: number) => Math.round(Math.max(0, ms) * 10) / 10;
  return { gatewayMs: tenths(gateway), upstreamMs: tenths(upstream) };
}

export function onError(err: unknown, c: Ctx): Response {
  if (err instanceof ApiError) return errorResponse(c, err);
  if (err instanceof IdempotentReplay) return replayResponse(err.result);
  if (err instanceof HTTPException) {
    const status = err.status;
    if (status === 413) return errorResponse(c, new ApiError("payload_too_large", "The body is too large."));
    if (status === 415)
      return errorResponse(c, new ApiError("unsupported_media_type", "The body's content type is not one this route takes."));
    if (status === 400 && mediaType(c.req.header("content-type")) === "multipart/form-data")
      return errorResponse(c, new ApiError("bad_request", "The multipart body could not be read."));
    if (status === 400) return errorResponse(c, new ApiError("invalid_json", "The body is not valid JSON."));
    if (status === 401) return errorResponse(c, new ApiError("unauthorized", err.message || "Unauthorized."));
    return errorResponse(c, new ApiError("bad_request", err.message || "Bad request."));
  }
  if (err instanceof ConfigError) {
    console.error(`[${c.get("requestId")}] ${err.message}`);
    return errorResponse(c, new ApiError("misconfigured", err.message));
  }
  console.error(`[${c.get("requestId")}] unhandled error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return errorResponse(c, new ApiError("internal_error", "Something went wrong on our side; the request id helps us find it."));
}
