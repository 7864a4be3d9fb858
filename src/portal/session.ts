// Who may use /portal/*: only the portal session (the Better Auth cookie set after a phone OTP).
// An API key or a JWT gets 401 anywhere under /portal; a state change must come from the portal's own
// origin (with SameSite=Lax cookies, this closes CSRF); the session's phone number is the Voxgate user.
import type { MiddlewareHandler } from "hono";
import type { AppEnv, Ctx } from "../context";
import { userForPhone } from "../db/users";
import { ApiError } from "../http/errors";
import { isLoopbackUrl } from "./phone";

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
/** How many phone number → user id links an isolate remembers (oldest dropped first). */
const LINKS_MAX = 10_000;

/** The Better Auth instance for this request (imported on first use: see better-auth.ts). */
export async function authFor(c: Ctx) {
  const { portalAuth } = await import("./better-auth");
  return portalAuth(c.env, !isPlainHttpLocalhost(new URL(c.req.url)));
}

function isPlainHttpLocalhost(url: URL): boolean {
  return url.protocol === "http:" && isLoopbackUrl(url);
}

/** API keys and JWTs are for the API, not the portal: 401 wherever they are sent under /portal. */
export const rejectApiCredentials: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.header("authorization") !== undefined || c.req.header("x-api-key") !== undefined) {
    throw new ApiError("unauthorized", "The portal takes only its sign-in session; send API keys and JWTs to the API.");
  }
  await next();
};

/** A state change must carry the portal's own Origin (browsers always send it on POST/PUT/PATCH/DELETE). */
export const sameOrigin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (STATE_CHANGING.has(c.req.method)) {
    const origin = c.req.header("origin");
    if (origin !== new URL(c.req.url).origin) {
      throw new ApiError(
        "forbidden",
        origin ? `Requests from ${origin} may not change anything here.` : "A state-changing portal request must carry an Origin header.",
      );
    }
  }
  await next();
};

/**
 * Sign-in and sign-out: a browser's request from another origin is refused (login CSRF), but one with no
 * Origin at all is let through — browsers send Origin on every POST, so only a non-browser client (curl,
 * a server, a test) omits it, and such a client cannot be made to act for someone else.
 */
export const notCrossOrigin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (STATE_CHANGING.has(c.req.method) && c.req.header("origin") === undefined) return next();
  return sameOrigin(c, next);
};

/** Resolve the session cookie; the Voxgate user is the one with the session's verified phone number. */
export const requireSession: MiddlewareHandler<AppEnv> = async (c, next) => {
  const auth = await authFor(c);
  // returnHeaders: a session Better Auth extends (at most daily) comes with a refreshed cookie to pass on.
  const { headers, response: session } = await auth.api.getSession({ headers: c.req.raw.headers, returnHeaders: true });
  const phone = session?.user.phoneNumberVerified ? session.user.phoneNumber : null;
  if (!session || !phone) throw new ApiError("unauthorized", "Sign in to the portal first (phone number and code).");
  phones.set(c, phone);
  const userId = await voxgateUserFor(c.get("bindings").db, phone);
  // The session's id and expiry: a realtime client token minted with it (routes/realtime.ts) lives no longer,
  // and the session the token opens ends when this portal session does (signed out, expired, deleted).
  const { id: portalSessionId, expiresAt } = session.session;
  c.set("principal", {
    kind: "session",
    userId,
    isAdmin: false,
    rateKey: "user",
    portalSessionId,
    expiresAt: new Date(expiresAt).getTime(),
  });
  await next();
  for (const cookie of headers.getAll("set-cookie")) c.res.headers.append("set-cookie", cookie);
};

const phones = new WeakMap<Ctx, string>();

/** The signed-in phone number (after requireSession). */
export function sessionPhone(c: Ctx): string {
  const phone = phones.get(c);
  if (!phone) throw new Error("sessionPhone() outside requireSession");
  return phone;
}

const userIdByPhone = new Map<string, string>();

/** The Voxgate user (users row) for a verified phone number, created on first sign-in. */
export async function voxgateUserFor(d1: D1Database, phone: string): Promise<string> {
  let userId = userIdByPhone.get(phone);
  if (!userId) {
    userId = (await userForPhone(d1, phone, Date.now())).id;
    if (userIdByPhone.size >= LINKS_MAX) userIdByPhone.delete(userIdByPhone.keys().next().value as string);
    userIdByPhone.set(phone, userId);
  }
  return userId;
}
