// The developer portal (API.md §7): the page at GET /portal, phone-OTP sign-in under /portal/auth/*
// (sign-in.ts), and the page's JSON API under /portal/api/* — the session only.
import { bytesToBase64 } from "../base64";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { toCredits } from "../metering/plans";
import { PROVIDERS } from "../providers/registry";
import { meView, MeSchema, usageView, UsageSchema } from "../routes/account";
import { registerKeyRoutes } from "../routes/keys";
import { admitted } from "../routes/middleware";
import { registerProviderKeyRoutes } from "../routes/provider-keys";
import { errors } from "../routes/schemas";
import { portalPage } from "./page";
import { rejectApiCredentials, requireSession, sameOrigin, sessionPhone } from "./session";
import { registerSignIn } from "./sign-in";

const PortalMe = MeSchema.extend({
  user: MeSchema.shape.user.extend({ phoneNumber: z.string() }),
}).openapi("PortalMe");
const PortalUsage = UsageSchema.extend({
  daily: z
    .array(z.object({ day: z.string().openapi({ example: "2026-11-22" }), tts: z.number(), stt: z.number(), llm: z.number() }))
    .openapi({ description: "Credits used per day (UTC) of the billing period, one entry per calendar day of the month" }),
}).openapi("PortalUsage");
const portalSession = [{ portalSession: [] }];

export function registerPortal(app: OpenAPIHono<AppEnv>) {
  app.use("/portal/*", rejectApiCredentials, sameOrigin);
  registerSignIn(app);
  for (const base of ["/portal/api/me", "/portal/api/usage", "/portal/api/keys", "/portal/api/provider-keys"]) {
    app.use(base, requireSession, admitted);
    app.use(`${base}/*`, requireSession, admitted);
  }
  registerAccountRoutes(app);
  registerKeyRoutes(app, "/portal/api/keys", "Portal", true);
  registerProviderKeyRoutes(app, "/portal/api/provider-keys");

  const providers = PROVIDERS.map((p) => ({ id: p.id, name: p.name }));
  app.get("/portal", (c) => {
    const nonce = randomNonce();
    const res = c.html(portalPage({ nonce, providers }));
    res.headers.set(
      "content-security-policy",
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; ` +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    res.headers.set("referrer-policy", "no-referrer");
    res.headers.set("x-content-type-options", "nosniff");
    res.headers.set("cache-control", "no-store");
    return res;
  });
  app.get("/portal/", (c) => c.redirect("/portal", 301));
}

// ---- the portal's own account routes --------------------------------------------------------------------

function registerAccountRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/portal/api/me",
      tags: ["Portal"],
      summary: "The signed-in user (as GET /v1/me, plus the phone number)",
      security: portalSession,
      responses: { 200: { description: "User", content: { "application/json": { schema: PortalMe } } }, ...errors(401, 429) },
    }),
    (c) => {
      const me = meView(c, c.var.usage!);
      return c.json({ ...me, user: { ...me.user, phoneNumber: sessionPhone(c) } }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/portal/api/usage",
      tags: ["Portal"],
      summary: "Credit usage this billing period (as GET /v1/usage) with a per-day series for the chart",
      security: portalSession,
      responses: { 200: { description: "Usage", content: { "application/json": { schema: PortalUsage } } }, ...errors(401, 429) },
    }),
    async (c) => {
      const userId = c.var.principal.userId;
      const usage = await c.var.storage.account(userId).usage(userId);
      return c.json({ ...usageView(usage), daily: dailySeries(usage.period, usage.daily) }, 200);
    },
  );
}

/** One entry per calendar day of `period` (YYYY-MM), credits split by kind; days without usage are 0. */
export function dailySeries(period: string, rows: { day: string; kind: "tts" | "stt" | "llm"; mc: number }[]) {
  const [year, month] = period.split("-").map(Number);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const byDay = new Map<string, { tts: number; stt: number; llm: number }>();
  for (const r of rows) {
    const d = byDay.get(r.day) ?? { tts: 0, stt: 0, llm: 0 };
    d[r.kind] += r.mc;
    byDay.set(r.day, d);
  }
  return Array.from({ length: days }, (_, i) => {
    const day = `${period}-${String(i + 1).padStart(2, "0")}`;
    const mc = byDay.get(day) ?? { tts: 0, stt: 0, llm: 0 };
    return { day, tts: toCredits(mc.tts), stt: toCredits(mc.stt), llm: toCredits(mc.llm) };
  });
}

function randomNonce(): string {
  return bytesToBase64(crypto.getRandomValues(new Uint8Array(16)));
}
