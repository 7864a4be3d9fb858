// Portal sign-in under /portal/auth/*: Better Auth's phone-number routes behind an allow-list, with
// limits in front (codes per phone number, wrong codes per phone number and day; the per-IP limits and
// the global cap on sends run inside Better Auth, better-auth.ts), and its answers turned into Voxgate's
// JSON shape (errors keep Better Auth's status: 400 wrong or expired code, 403 too many attempts, 429
// too many sends). With SMS_PROVIDER=console, codes are sent only for requests to a loopback host.

import { waitUntil } from "cloudflare:workers";
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { errors, SuccessSchema } from "../api/schemas";
import type { AppEnv, Ctx } from "../context";
import { readJsonText } from "../http/body";
import { ApiError, errorBody } from "../http/errors";
import { mediaType } from "../http/media-type";
import { consume, type RateLimitRule, refund } from "../ratelimit/otp-send-limit";
import { AUTH_BASE_PATH as AUTH, E164_PHONE_NUMBER, isLoopbackUrl } from "./phone";
import { authFor, voxgateUserFor } from "./session";

/** The Better Auth routes the portal uses; the rest of Better Auth's surface stays unreachable. */
const AUTH_ROUTES = new Set(["/phone-number/send-otp", "/phone-number/verify", "/sign-out"]);
/** Sign-in bodies are a phone number and a code: anything bigger is not one. */
const AUTH_BODY_MAX_BYTES = 16 * 1024;
/** Codes sent to one phone number, whoever asks (on top of the per-IP limit in better-auth.ts). */
const PHONE_SEND_RULE: RateLimitRule = { window: 600, max: 3 };
/** Wrong codes tried for one phone number per day, whoever tries (a right code is not counted). */
const PHONE_VERIFY_RULE: RateLimitRule = { window: 24 * 3600, max: 20 };

const PhoneBody = z.object({ phoneNumber: z.string().openapi({ example: "+15551234567" }) });
const VerifyBody = PhoneBody.extend({ code: z.string().openapi({ example: "123456" }) });
const SignedIn = z
  .object({ success: z.literal(true), user: z.object({ id: z.string(), phoneNumber: z.string() }) })
  .openapi("PortalSignedIn");

export function registerSignIn(app: OpenAPIHono<AppEnv>) {
  app.post(`${AUTH}/*`, async (c) => {
    const route = c.req.path.slice(AUTH.length);
    if (!AUTH_ROUTES.has(route)) throw new ApiError("not_found", `No route for POST ${c.req.path}.`);
    const body = await jsonBody(c);
    const phone = typeof body.phoneNumber === "string" && E164_PHONE_NUMBER.test(body.phoneNumber) ? body.phoneNumber : undefined;
    if (route === "/phone-number/send-otp") {
      // Checked before any code exists: deployed with the console provider, codes would land in the logs.
      if (c.get("config").SMS_PROVIDER === "console" && !isLoopbackUrl(new URL(c.req.url))) {
        throw new ApiError("sms_not_configured", "Sign-in codes cannot be sent: this deployment has no SMS provider (SMS_PROVIDER).");
      }
      if (phone)
        await limit(c, `phone:${phone}`, PHONE_SEND_RULE, "Too many codes were sent to this phone number; wait before asking for another.");
    }
    if (route === "/phone-number/verify" && phone) {
      await limit(c, `verify:${phone}`, PHONE_VERIFY_RULE, "Too many wrong codes were tried for this phone number today; try again later.");
    }
    const auth = await authFor(c);
    const headers = new Headers(c.req.raw.headers);
    headers.delete("content-length");
    headers.set("content-type", "application/json");
    // Only the fields the portal uses: Better Auth's verify also takes e.g. `updatePhoneNumber`, which we don't offer.
    const fields =
      route === "/sign-out"
        ? {}
        : route === "/phone-number/verify"
          ? { phoneNumber: body.phoneNumber, code: body.code }
          : { phoneNumber: body.phoneNumber };
    const forwarded = new Request(c.req.raw.url, { method: "POST", headers, body: JSON.stringify(fields) });
    const res = await auth.handler(forwarded);
    // A right code was no guess: it leaves the day's budget of wrong codes as it was.
    if (route === "/phone-number/verify" && phone && res.status < 400) waitUntil(refund(c.env.DB, `verify:${phone}`).catch(() => {}));
    if (res.status >= 400) return authError(c, res);
    let payload: Record<string, unknown> = { success: true };
    // Better Auth's verify answer carries the raw session token: the page gets only the httpOnly cookie.
    if (route === "/phone-number/verify" && phone) {
      payload = { success: true, user: { id: await voxgateUserFor(c.get("bindings").db, phone), phoneNumber: phone } };
    }
    const out = c.json(payload, 200);
    for (const cookie of res.headers.getAll("set-cookie")) out.headers.append("set-cookie", cookie);
    out.headers.set("cache-control", "no-store");
    return out;
  });

  const doc = (path: string, summary: string, schema: z.ZodType | undefined, ok: z.ZodType, statuses: number[]) =>
    app.openAPIRegistry.registerPath({
      method: "post",
      path: `${AUTH}${path}`,
      tags: ["Portal"],
      summary,
      request: schema ? { body: { content: { "application/json": { schema } }, required: true } } : undefined,
      responses: { 200: { description: "OK", content: { "application/json": { schema: ok } } }, ...errors(...statuses) },
    });
  doc(
    "/phone-number/send-otp",
    "Text a 6-digit sign-in code to a phone number (E.164); capped per phone number, per address and in total per hour (429)",
    PhoneBody,
    SuccessSchema,
    [400, 403, 413, 415, 429, 503],
  );
  doc(
    "/phone-number/verify",
    "Check the code: sets the session cookie (the first verify creates the user); 3 wrong codes burn it (403); 20 wrong codes a day per phone number → 429",
    VerifyBody,
    SignedIn,
    [400, 403, 413, 415, 429],
  );
  doc("/sign-out", "End the portal session", undefined, SuccessSchema, [403]);
}

/** Count one request against a per-phone limit: 429 with Retry-After beyond it. */
async function limit(c: Ctx, key: string, rule: RateLimitRule, message: string): Promise<void> {
  const verdict = await consume(c.env.DB, key, rule, waitUntil);
  if (!verdict.allowed) throw new ApiError("rate_limited", message, undefined, { "retry-after": String(verdict.retryAfter) });
}

/**
 * The sign-in body, as JSON of at most AUTH_BODY_MAX_BYTES (Better Auth itself would take any size or
 * type), counted while it is read: a chunked body without Content-Length is cut off at the cap.
 */
async function jsonBody(c: Ctx): Promise<Record<string, unknown>> {
  const length = c.req.header("content-length");
  if (c.req.raw.body === null || length === "0") return {};
  if (mediaType(c.req.header("content-type")) !== "application/json")
    throw new ApiError("unsupported_media_type", "Send the body as application/json.");
  // UTF-8 only, as every JSON body (src/http/envelope.ts): another charset 415, bytes that are not UTF-8 400.
  const text = await readJsonText(c.req.raw, AUTH_BODY_MAX_BYTES, "16 KiB");
  if (text === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError("invalid_json", "The body is not valid JSON.");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new ApiError("validation_failed", "The body must be a JSON object.");
  return parsed as Record<string, unknown>;
}

/** Better Auth's error (its status kept: 400 wrong/expired code, 403 too many attempts, 429…) in our error shape. */
async function authError(c: Ctx, res: Response): Promise<Response> {
  const status = res.status as 400 | 401 | 403 | 404 | 429 | 500;
  const body = (await res.json().catch(() => ({}))) as { code?: unknown; message?: unknown };
  if (status >= 500) {
    console.error(`[${c.get("requestId")}] portal sign-in failed: ${status} ${JSON.stringify(body)}`);
    return c.json(errorBody("internal_error", "Signing in failed on our side; the request id helps us find it.", c.get("requestId")), 500);
  }
  const code =
    status === 429
      ? "rate_limited"
      : typeof body.code === "string" && body.code
        ? body.code.toLowerCase().replace(/[^a-z0-9]+/g, "_")
        : (({ 400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found" } as Record<number, string>)[status] ??
          "bad_request");
  const message = typeof body.message === "string" && body.message ? body.message : "The sign-in request was refused.";
  // Better Auth's body validation ("[body.code] Invalid input: …") in the API's shape: validation_failed, the fields listed.
  const out =
    code === "validation_error"
      ? c.json(errorBody("validation_failed", message, c.get("requestId"), { fields: fieldsOf(message) }), 400)
      : c.json(errorBody(code, message, c.get("requestId")), status);
  const retryAfter = res.headers.get("x-retry-after");
  if (retryAfter) out.headers.set("retry-after", retryAfter);
  out.headers.set("cache-control", "no-store");
  return out;
}

/** The fields Better Auth's validation message names: "[body.code] Invalid input: …; [body.phoneNumber] …". */
function fieldsOf(message: string): { path: string; message: string }[] {
  return [...message.matchAll(/\[body\.([^\]]+)\]\s*([^[]*)/g)].map((m) => ({
    path: m[1] ?? "",
    message: (m[2] ?? "").trim().replace(/[;,]$/, ""),
  }));
}
