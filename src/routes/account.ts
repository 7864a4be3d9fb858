// The caller's own account: GET /v1/me, GET /v1/usage, and Sonna's GET /api/v1/user/credits.
// All three answer from the snapshot the Account object returned when it admitted the request.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv, Ctx } from "../context";
import type { UsageSnapshot } from "../metering/account";
import { toCredits } from "../metering/plans";
import { admitted } from "./middleware";
import { errors, iso, IsoDate, security } from "./schemas";

export const MeSchema = z
  .object({
    success: z.literal(true),
    user: z.object({ id: z.string(), plan: z.string(), planExpiresAt: IsoDate, paygCredits: z.number(), role: z.string() }),
  })
  .openapi("Me");

export const UsageSchema = z
  .object({
    period: z.string().openapi({ example: "2026-11" }),
    credits: z.object({ used: z.number(), limit: z.number(), remaining: z.number() }),
    breakdown: z.object({ tts: z.number(), stt: z.number(), llm: z.number() }),
    requestCount: z.number().int(),
  })
  .openapi("Usage");

const CreditsSchema = z
  .object({ credits: z.number(), payg_credits: z.number(), plan: z.string(), expiresAt: IsoDate })
  .openapi("SonnaCredits");

export function meView(c: Ctx, u: UsageSnapshot) {
  const p = c.var.principal;
  return {
    success: true as const,
    user: {
      id: p.userId,
      plan: u.plan,
      planExpiresAt: iso(u.planExpiresAt),
      paygCredits: toCredits(u.paygMc),
      role: p.isAdmin ? "admin" : u.role,
    },
  };
}

export function usageView(u: UsageSnapshot) {
  return {
    period: u.period,
    credits: { used: toCredits(u.usedMc), limit: toCredits(u.limitMc), remaining: toCredits(u.remainingMc) },
    breakdown: { tts: toCredits(u.breakdownMc.tts), stt: toCredits(u.breakdownMc.stt), llm: toCredits(u.breakdownMc.llm) },
    requestCount: u.requestCount,
  };
}

export function registerAccount(app: OpenAPIHono<AppEnv>) {
  for (const path of ["/v1/me", "/v1/usage", "/api/v1/user/credits"]) app.use(path, admitted);

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/me",
      tags: ["Account"],
      summary: "The calling user",
      security,
      responses: { 200: { description: "User", content: { "application/json": { schema: MeSchema } } }, ...errors(401, 429) },
    }),
    (c) => c.json(meView(c, c.var.usage!), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/usage",
      tags: ["Account"],
      summary: "Credit usage in the current billing period (calendar month, UTC)",
      security,
      responses: { 200: { description: "Usage", content: { "application/json": { schema: UsageSchema } } }, ...errors(401, 429) },
    }),
    (c) => c.json(usageView(c.var.usage!), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/user/credits",
      tags: ["Account"],
      summary: "Sonna-style credit balance",
      security,
      responses: { 200: { description: "Credits", content: { "application/json": { schema: CreditsSchema } } }, ...errors(401, 429) },
    }),
    (c) => {
      const u = c.var.usage!;
      return c.json(
        { credits: toCredits(Math.max(0, u.remainingMc - u.paygMc)), payg_credits: toCredits(u.paygMc), plan: u.plan, expiresAt: iso(u.planExpiresAt) },
        200,
      );
    },
  );
}
