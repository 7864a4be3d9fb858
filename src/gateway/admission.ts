// Admission: the one blocking Durable Object round trip of a request. The user's Account object checks
// the API key is still valid, takes a rate-limit token, and — for a gateway operation — picks the
// provider key source, claims the Idempotency-Key and reserves (or charges) credits. A scoped API key's
// rules are checked in the same call: the route's scope (src/auth/scopes.ts), its provider allow-list,
// its own rate limit and its monthly credit limit.
//
// The rule, in one place: every authenticated request is admitted exactly once.
// - A gateway operation (synthesize, transcribe, chat and their agent and OpenAI-compatible twins)
//   admits inside the operation, with the meter its body decides (provider, estimated cost).
// - Every other route is admitted before its handler runs.
// - A request refused before it was admitted (invalid body, unknown provider, unknown agent, an API key
//   on an admin route) is admitted afterwards all the same, so a revoked key gets 401 and the rate
//   limit counts it, whatever else was wrong.
// - Operators (an admin JWT on /api/admin/*) are not admitted: they are neither metered nor limited.
import type { MiddlewareHandler } from "hono";
import { keyAdmitted } from "../auth/authenticate";
import { forgetKey } from "../auth/key-cache";
import { scopeFor } from "../auth/scopes";
import { type AppEnv, type Ctx, executionCtxOf } from "../context";
import { ApiError } from "../http/errors";
import { errorResponse } from "../http/respond";
import type { AdmitResult, Admitted, IdempotencyClaim, IdempotentResult, Meter, UsageSnapshot } from "../metering/contract";
import { takeSettles } from "./settle-batch";
import { sendSettlesAlone } from "./settlement";

/**
 * Routes whose operation admits itself, once it knows the provider and the cost: the gateway POSTs, and
 * the realtime WebSocket upgrades (admitted by Account.openSession with the session's first slice).
 */
const OPERATION_PATHS =
  /^(POST \/v1\/(synthesize|transcribe|chat|chat\/completions|audio\/speech|audio\/transcriptions|agents\/[^/]+\/(chat|speak))|GET \/v1\/realtime(\/listen|\/speak)?)$/;
const OPERATOR_PATHS = /^\/api\/admin\//;

/** Requests that went through admission (admitted or refused): they are never admitted a second time. */
const attempted = new WeakSet<Ctx>();

/** The admission middleware: mounted after authentication on every authenticated route group. */
export const admission: MiddlewareHandler<AppEnv> = async (c, next) => {
  // No principal: no route matches this method and path, so there is nothing to admit (404 follows).
  if (!c.get("principal")) return next();
  const operator = OPERATOR_PATHS.test(c.req.path);
  if (operator && c.get("principal").isAdmin) return next();
  if (!operator && !OPERATION_PATHS.test(`${c.req.method} ${c.req.path}`)) await admit(c);
  await next();
  if (attempted.has(c)) return;
  try {
    await admit(c);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    c.res = errorResponse(c, e);
  }
};

/** Admit the request (with a meter for a gateway operation); throws the refusal as an ApiError. */
export async function admit(c: Ctx, meter?: Meter, idempotency?: IdempotencyClaim, provider = meter?.provider): Promise<Admitted> {
  // A request admitted a second time (after its audio was fetched, or for another provider) counts once.
  const rateCounted = attempted.has(c) || undefined;
  attempted.add(c);
  const p = c.get("principal");
  const bindings = c.get("bindings");
  const scope = p.keyId ? scopeFor(c.req.path) : undefined;
  const chain = p.keyId && provider ? c.get("chainProviders") : undefined;
  // Earlier requests' charges waiting in this isolate go along (settle-batch.ts) — unless this request
  // could not send them again itself should the call fail (no execution context: a unit test's app.request).
  const ctx = executionCtxOf(c);
  const carried = ctx ? takeSettles(c.env.ACCOUNT, p.userId) : undefined;
  // Carried settles the object may not have applied are sent again alone (settling twice charges once).
  const sendAgain = () => carried && ctx?.waitUntil(sendSettlesAlone(c, p.userId)(carried));
  let res: AdmitResult;
  try {
    res = await bindings.account(p.userId).admit({
      userId: p.userId,
      keyId: p.keyId,
      rateKey: p.rateKey,
      scope,
      rateCounted,
      meter,
      provider,
      chain,
      idempotency,
      settles: carried,
    });
  } catch (e) {
    sendAgain();
    throw e;
  }
  if (!res.settlesApplied) sendAgain();
  if (bindings.counts) bindings.counts.d1 += res.d1Queries;
  if (res.rate) c.set("rate", res.rate);
  if (res.usage) c.set("usage", res.usage);
  if (res.ok) {
    c.set("admission", res);
    if (p.keyId) keyAdmitted(c, p.keyId);
    return res;
  }
  switch (res.error) {
    case "invalid_credentials":
      if (p.keyId) forgetKey(p.keyId);
      throw new ApiError("unauthorized", "This credential is revoked, expired or unknown.");
    case "scope_denied":
      throw new ApiError(
        "scope_denied",
        `This API key may not do this: it needs the '${scope}' scope${providersNeeded(provider, chain)}.`,
        { scope: scope ?? null, provider: provider ?? null, ...(chain && chain.length > 1 ? { providers: chain } : {}) },
      );
    case "key_credit_limit_reached":
      throw new ApiError("key_credit_limit_reached", "This API key reached its monthly credit limit; nothing was charged.", {
        requiredCredits: (meter?.estimateMc ?? 0) / 1000,
      });
    case "rate_limited":
      throw new ApiError("rate_limited", `Rate limit of ${res.rate?.limit} requests per minute reached.`, undefined, {
        "retry-after": String(res.rate?.retryAfterSeconds),
      });
    case "insufficient_credits":
      throw new ApiError("insufficient_credits", "Not enough credits for this request; nothing was charged.", {
        requiredCredits: (meter?.estimateMc ?? 0) / 1000,
        remainingCredits: (res.usage?.remainingMc ?? 0) / 1000,
      });
    case "provider_key_missing":
      throw new ApiError(
        "provider_key_missing",
        `No key for provider '${meter?.provider}': send a BYOK header, store a provider key, or ask the operator to configure one.`,
      );
    case "model_not_priced":
      throw new ApiError("model_not_priced", "This model has no price on the platform key; use your own provider key for it.");
    case "idempotency_in_progress":
      throw new ApiError("idempotency_in_progress", "A request with this Idempotency-Key is still running.");
    case "idempotency_completed":
      throw new ApiError(
        "conflict",
        "A request with this Idempotency-Key already completed and was charged; its result was not kept (a stream, audio over 1 MiB, or audio not read to the end), so it cannot be replayed.",
      );
    case "idempotency_key_reused":
      throw new ApiError("idempotency_key_reused", "This Idempotency-Key was used with a different request body.");
    case "idempotency_replay":
      throw new IdempotentReplay(res.replay as IdempotentResult);
  }
}

/** An operation admitted by another Account call (a realtime session, by Account.openSession): counted once. */
export function admittedElsewhere(c: Ctx): void {
  attempted.add(c);
}

/** The usage snapshot admission answered with (routes that run after admission). */
export function admittedUsage(c: Ctx): UsageSnapshot {
  const usage = c.get("usage");
  if (!usage) throw new Error("admittedUsage() before admission");
  return usage;
}

/** Thrown to answer a retried idempotent request with the stored result. */
export class IdempotentReplay extends Error {
  constructor(readonly result: IdempotentResult) {
    super("idempotent replay");
  }
}

/** The providers a refused key needed among its own: the request's, or every one its failover chain may use. */
function providersNeeded(provider: string | undefined, chain: readonly string[] | undefined): string {
  if (chain && chain.length > 1) return ` and each of ${chain.map((p) => `'${p}'`).join(", ")} (its fallback chain) among its providers`;
  return provider ? ` and '${provider}' among its providers` : "";
}
