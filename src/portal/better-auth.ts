// The portal's sign-in: Better Auth with its phone-number plugin, on D1, mounted at /portal/auth.
// Better Auth is most of the Worker's bundle, so nothing outside src/portal/ imports it, and the rest
// of the portal reaches this module through a dynamic import(): the API's requests never evaluate it.
// One instance per env (and cookie mode), created on the first portal request of an isolate.
import { waitUntil } from "cloudflare:workers";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { APIError, createAuthMiddleware } from "better-auth/api";
// The minimal build leaves out Kysely (about 45 KiB of the gzipped bundle): the database is reached
// through the drizzle tables Voxgate already declares for these auth_* tables.
import { betterAuth } from "better-auth/minimal";
import { phoneNumber } from "better-auth/plugins/phone-number";
import { authAccount, authSession, authUser, authVerification } from "../../schema";
import { ConfigError, getConfig } from "../config";
import { orm } from "../db/orm";
import type { Env } from "../env";
import { consume, d1RateLimitStorage, type RateLimitRule } from "../ratelimit/otp-send-limit";
import { AUTH_BASE_PATH, E164_PHONE_NUMBER } from "./phone";
import { otpMessage, smsSender } from "./sms";

/** An OTP is valid this long (Better Auth's unit: seconds)… */
const OTP_TTL_SECONDS = 300;
/** …and is burned after this many wrong codes (Better Auth then answers 403 too_many_attempts). */
export const OTP_ALLOWED_ATTEMPTS = 3;
/** A portal session lasts a week, and is extended at most once a day while it is used. */
const SESSION_TTL_SECONDS = 7 * 24 * 3600;
const SESSION_REFRESH_SECONDS = 24 * 3600;

/** Per client IP and route (Better Auth's rate limiter, on D1). */
const IP_RULES: Record<string, RateLimitRule> = {
  /** SMS cost money and can be abused (toll fraud): few sends per address. */
  "/phone-number/send-otp": { window: 600, max: 10 },
  "/phone-number/verify": { window: 60, max: 10 },
};
/** Any other sign-in route, per client IP. */
const IP_DEFAULT_RULE: RateLimitRule = { window: 60, max: 60 };

const BETTER_AUTH_SECRET_MIN_LENGTH = 32;
/** The counter of codes sent by everyone (OTP_SENDS_PER_HOUR per hour). */
export const GLOBAL_SEND_KEY = "otp:global";

/**
 * The global cap on sends, checked after the per-IP and per-phone limits (so one address or one number
 * cannot spend everyone's budget) and before a code is generated: Better Auth's before-hook.
 */
function globalSendCap(env: Env) {
  return createAuthMiddleware(async (ctx) => {
    if (ctx.path !== "/phone-number/send-otp" || !E164_PHONE_NUMBER.test(String(ctx.body?.phoneNumber))) return;
    const rule = { window: 3600, max: getConfig(env).OTP_SENDS_PER_HOUR };
    const verdict = await consume(env.DB, GLOBAL_SEND_KEY, rule, waitUntil);
    if (!verdict.allowed) {
      throw new APIError(
        "TOO_MANY_REQUESTS",
        { code: "RATE_LIMITED", message: "Too many sign-in codes are being sent right now; try again later." },
        { "x-retry-after": String(verdict.retryAfter) },
      );
    }
  });
}

function createAuth(env: Env, secureCookies: boolean) {
  const secret = typeof env.BETTER_AUTH_SECRET === "string" ? env.BETTER_AUTH_SECRET.trim() : "";
  if (secret.length < BETTER_AUTH_SECRET_MIN_LENGTH) {
    throw new ConfigError(
      `Invalid configuration: BETTER_AUTH_SECRET must be set to at least ${BETTER_AUTH_SECRET_MIN_LENGTH} random characters (openssl rand -base64 32)`,
    );
  }
  const sendSms = smsSender(env);
  return betterAuth({
    appName: "Voxgate",
    basePath: AUTH_BASE_PATH,
    // No baseURL: Better Auth takes the origin of each request, and trusts only that origin.
    secret,
    database: drizzleAdapter(orm(env.DB), {
      provider: "sqlite",
      // Better Auth's models by their model names; the tables' columns (snake_case) are drizzle's to map.
      schema: { auth_user: authUser, auth_session: authSession, auth_account: authAccount, auth_verification: authVerification },
    }),
    telemetry: { enabled: false },
    logger: { level: "warn", log: logBetterAuth },
    user: { modelName: "auth_user" },
    session: { modelName: "auth_session", expiresIn: SESSION_TTL_SECONDS, updateAge: SESSION_REFRESH_SECONDS },
    account: { modelName: "auth_account" },
    verification: { modelName: "auth_verification" },
    hooks: { before: globalSendCap(env) },
    rateLimit: {
      enabled: true,
      window: IP_DEFAULT_RULE.window,
      max: IP_DEFAULT_RULE.max,
      customRules: IP_RULES,
      customStorage: d1RateLimitStorage(env.DB, waitUntil),
    },
    advanced: {
      ipAddress: { ipAddressHeaders: ["cf-connecting-ip"] },
      useSecureCookies: secureCookies,
      defaultCookieAttributes: { sameSite: "lax", httpOnly: true, secure: secureCookies },
      // The SMS goes out after the response: a slow SMS provider doesn't hold up the page.
      backgroundTasks: { handler: waitUntil },
    },
    plugins: [
      phoneNumber({
        expiresIn: OTP_TTL_SECONDS,
        allowedAttempts: OTP_ALLOWED_ATTEMPTS,
        phoneNumberValidator: (p) => E164_PHONE_NUMBER.test(p),
        sendOTP: ({ phoneNumber: to, code }) =>
          sendSms(to, otpMessage(code)).catch((e) => console.error(`[voxgate] portal OTP not sent: ${e instanceof Error ? e.message : e}`)),
        signUpOnVerification: {
          // Better Auth wants an email; a portal user has none. .invalid can never be delivered to.
          getTempEmail: (p) => `${p.replace(/\D/g, "")}@phone.voxgate.invalid`,
          getTempName: (p) => p,
        },
      }),
    ],
  });
}

/** Better Auth's log lines, minus its warning that baseURL is unset: deriving it per request is the intent. */
function logBetterAuth(level: "debug" | "info" | "warn" | "error", message: string, ...args: unknown[]) {
  if (message.includes("Base URL is not set")) return;
  (level === "error" ? console.error : level === "warn" ? console.warn : console.log)(`[better-auth] ${message}`, ...args);
}

export type PortalAuth = ReturnType<typeof createAuth>;

const instances = new WeakMap<object, Map<boolean, PortalAuth>>();

/**
 * The auth instance for this env. `secureCookies` is false only for plain-HTTP local development
 * (http://localhost, http://127.0.0.1), where a browser would drop a Secure cookie.
 */
export function portalAuth(env: Env, secureCookies: boolean): PortalAuth {
  let byMode = instances.get(env);
  if (!byMode) {
    byMode = new Map();
    instances.set(env, byMode);
  }
  let auth = byMode.get(secureCookies);
  if (!auth) {
    auth = createAuth(env, secureCookies);
    byMode.set(secureCookies, auth);
  }
  return auth;
}
