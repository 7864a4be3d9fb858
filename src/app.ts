// Builds the app: middleware order, route mounting, the OpenAPI document, errors.
// A request's path: request id → config → envelope checks (size, content type) → authenticate →
// route (validate → admit: key still valid + rate limit + credit reservation → proxy → settle) → headers.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { ConfigError, getConfig } from "./config";
import type { AppEnv, Ctx } from "./context";
import { ApiError } from "./http/errors";
import { requestIdFrom } from "./http/request-id";
import { errorResponse, finalizeHeaders } from "./http/respond";
import { IdempotentReplay } from "./metering/admit";
import { authenticate, requireAdmin } from "./auth/authenticate";
import { registerAdmin } from "./routes/admin";
import { registerDocs } from "./routes/docs";
import { registerAgents } from "./routes/agents";
import { registerGateway } from "./routes/gateway";
import { registerKeys } from "./routes/keys";
import { registerAccount } from "./routes/account";
import { registerOpenAiCompat } from "./routes/openai-compat";
import { openAiErrorShape } from "./routes/openai-shapes";
import { registerProviderKeys } from "./routes/provider-keys";
import { registerPortal } from "./portal/routes";
import { validationHook } from "./routes/validation";
import { storageFor } from "./storage";
import { replayResponse } from "./metering/idempotency";

/** Body size limits: JSON bodies, and audio uploads for transcription. */
const JSON_BODY_MAX_BYTES = 1024 * 1024;
const UPLOAD_BODY_MAX_BYTES = 25 * 1024 * 1024;
/** Routes whose body may be multipart or raw audio rather than JSON. */
const UPLOAD_ROUTES = new Set(["/v1/transcribe", "/v1/audio/transcriptions"]);

export function newApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use("*", async (c, next) => {
    c.set("requestId", requestIdFrom(c.req.header("x-request-id")));
    c.set("config", getConfig(c.env));
    c.set("storage", storageFor(c.env, c.var.config.DEBUG_STORAGE_COUNTS));
    await next();
    finalizeHeaders(c);
  });

  // OpenAI-compatible routes answer errors in OpenAI's shape: outermost, so it also sees the envelope and auth failures.
  app.use("/v1/*", openAiErrorShape);

  // The HTTP envelope, checked before anything reads the body.
  app.use("*", async (c, next) => {
    const method = c.req.method;
    if (method !== "POST" && method !== "PUT" && method !== "PATCH") return next();
    const path = c.req.path;
    if (path.startsWith("/portal/auth/")) return next();
    const upload = UPLOAD_ROUTES.has(path);
    const hasBody = c.req.header("content-length") !== undefined ? c.req.header("content-length") !== "0" : c.req.raw.body !== null;
    const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (hasBody) {
      const ok = type === "application/json" || (upload && (type === "multipart/form-data" || type.startsWith("audio/") || type === "application/octet-stream"));
      if (!ok) {
        throw new ApiError(
          "unsupported_media_type",
          upload ? "Send multipart/form-data or application/json." : "Send the body as application/json.",
        );
      }
    }
    return bodyLimit({
      maxSize: upload ? UPLOAD_BODY_MAX_BYTES : JSON_BODY_MAX_BYTES,
      onError: () => {
        throw new ApiError("payload_too_large", `The body is larger than ${upload ? "25 MiB" : "1 MiB"}.`);
      },
    })(c, next);
  });

  // Credentials are checked only for routes that exist: an unknown route is a 404 for everyone.
  const known = knownRoutes(app);
  const onKnownRoute = (mw: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> => (c, next) =>
    known(c.req.method, c.req.path) ? mw(c, next) : next();
  app.use("/v1/*", onKnownRoute(authenticate));
  app.use("/api/v1/*", onKnownRoute(authenticate));
  app.use("/api/admin/*", onKnownRoute(authenticate), onKnownRoute(requireAdmin));

  registerKeys(app);
  registerAccount(app);
  registerProviderKeys(app);
  registerGateway(app);
  registerAgents(app);
  registerOpenAiCompat(app);
  registerAdmin(app);
  registerPortal(app);
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
      .map((r) => ({ method: r.method, pattern: new RegExp(`^${r.path.replace(/:[^/]+/g, "[^/]+")}/?$`) }));
    return routes.some((r) => (r.method === method || (method === "HEAD" && r.method === "GET")) && r.pattern.test(path));
  };
}

export function onError(err: unknown, c: Ctx): Response {
  if (err instanceof ApiError) return errorResponse(c, err);
  if (err instanceof IdempotentReplay) return replayResponse(err.result);
  if (err instanceof HTTPException) {
    const status = err.status;
    if (status === 413) return errorResponse(c, new ApiError("payload_too_large", "The body is too large."));
    if (status === 400) return errorResponse(c, new ApiError("invalid_json", "The body is not valid JSON."));
    if (status === 401) return errorResponse(c, new ApiError("unauthorized", err.message || "Unauthorized."));
    return errorResponse(c, new ApiError("bad_request", err.message || "Bad request."));
  }
  if (err instanceof ConfigError) {
    console.error(`[${c.var.requestId}] ${err.message}`);
    return errorResponse(c, new ApiError("misconfigured", err.message));
  }
  console.error(`[${c.var.requestId}] unhandled error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  return errorResponse(c, new ApiError("internal_error", "Something went wrong on our side; the request id helps us find it."));
}
