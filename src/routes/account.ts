// The caller's own account: GET /v1/me, GET /v1/usage, Sonna's GET /api/v1/user/credits, and the
// portal's GET /portal/api/me and /portal/api/usage. They answer from the snapshot the Account object
// returned when it admitted the request (the portal's usage also reads the per-day series).
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { CreditsSchema, creditsView, dailySeries, MeSchema, meView, PortalMe, PortalUsage, UsageSchema, usageView } from "../api/account";
import { errors, json, portalSecurity, security } from "../api/schemas";
import type { AppEnv } from "../context";
import { admittedUsage } from "../gateway/admission";
import { sessionPhone } from "../portal/session";

export function registerAccount(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/me",
      tags: ["Account"],
      summary: "The calling user",
      security,
      responses: { 200: { description: "User", content: json(MeSchema) }, ...errors(401, 429) },
    }),
    (c) => c.json(meView(c.get("principal"), admittedUsage(c)), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/usage",
      tags: ["Account"],
      summary: "Credit usage in the current billing period (calendar month, UTC)",
      security,
      responses: { 200: { description: "Usage", content: json(UsageSchema) }, ...errors(401, 429) },
    }),
    (c) => c.json(usageView(admittedUsage(c)), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/user/credits",
      tags: ["Account"],
      summary: "Sonna-style credit balance",
      security,
      responses: { 200: { description: "Credits", content: json(CreditsSchema) }, ...errors(401, 429) },
    }),
    (c) => c.json(creditsView(admittedUsage(c)), 200),
  );
}

export function registerPortalAccount(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/portal/api/me",
      tags: ["Portal"],
      summary: "The signed-in user (as GET /v1/me, plus the phone number)",
      security: portalSecurity,
      responses: { 200: { description: "User", content: json(PortalMe) }, ...errors(401, 429) },
    }),
    (c) => {
      const me = meView(c.get("principal"), admittedUsage(c));
      return c.json({ ...me, user: { ...me.user, phoneNumber: sessionPhone(c) } }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/portal/api/usage",
      tags: ["Portal"],
      summary: "Credit usage this billing period (as GET /v1/usage) with a per-day series for the chart",
      security: portalSecurity,
      responses: { 200: { description: "Usage", content: json(PortalUsage) }, ...errors(401, 429) },
    }),
    async (c) => {
      const userId = c.get("principal").userId;
      const usage = await c.get("bindings").account(userId).usage(userId);
      return c.json({ ...usageView(usage), daily: dailySeries(usage.period, usage.daily) }, 200);
    },
  );
}
