// Route-group middleware: admit a request that is not proxied (no credits to reserve) — the Account
// object still checks the key is valid and takes a rate-limit token, in one round trip.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { admit } from "../metering/admit";

export const admitted: MiddlewareHandler<AppEnv> = async (c, next) => {
  // No principal: no route matches this method and path (credentials are only checked for routes that
  // exist), so there is nothing to admit — the request goes on to the 404.
  if (c.var.principal && !c.var.admission) await admit(c);
  await next();
};
