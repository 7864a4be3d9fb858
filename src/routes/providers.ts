// GET /v1/providers (API.md §4.1, §6): the providers this deployment serves — operations, default models
// and voices, speech formats (native or converted), prices with PRICES applied, health. Any
// authenticated caller; admitted (rate limit, revocation) like every /v1 route.
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { ProviderList, providerList } from "../api/providers";
import { errors, json, security } from "../api/schemas";
import type { AppEnv } from "../context";

export function registerProviders(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/providers",
      tags: ["Gateway"],
      summary: "Every provider: operations, defaults, speech formats (native or converted, sample rates), prices and health",
      security,
      responses: { 200: { description: "Providers", content: json(ProviderList) }, ...errors(401, 429) },
    }),
    (c) => c.json(providerList(c.get("prices"), c.env), 200),
  );
}
