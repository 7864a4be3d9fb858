// The one blocking Durable Object round trip of a request: the Account object checks the API key is
// still valid, takes a rate-limit token, picks the provider key source and reserves credits.
import { forgetKey } from "../auth/authenticate";
import type { Ctx } from "../context";
import { ApiError } from "../http/errors";
import type { AdmitRequest, AdmitResult } from "./account";

export type Admitted = Extract<AdmitResult, { ok: true }>;

/** Requests that went through admit (admitted or refused): they are never admitted a second time. */
const attempted = new WeakSet<Ctx>();
export const admitAttempted = (c: Ctx) => attempted.has(c);

export async function admit(
  c: Ctx,
  meter?: AdmitRequest["meter"],
  idempotency?: AdmitRequest["idempotency"],
): Promise<Admitted> {
  attempted.add(c);
  const p = c.var.principal;
  const res = await c.var.storage
    .account(p.userId)
    .admit({ userId: p.userId, keyId: p.keyId, rateKey: p.rateKey, meter, idempotency });
  if (c.var.storage.counts) c.var.storage.counts.d1 += res.d1Queries;
  if (res.rate) c.set("rate", res.rate);
  if (res.usage) c.set("usage", res.usage);
  if (res.ok) {
    c.set("admission", res);
    return res;
  }
  switch (res.error) {
    case "invalid_credentials":
      if (p.keyId) forgetKey(p.keyId);
      throw new ApiError("unauthorized", "This credential is revoked, expired or unknown.");
    case "rate_limited":
      throw new ApiError("rate_limited", `Rate limit of ${res.rate!.limit} requests per minute reached.`, undefined, {
        "retry-after": String(res.rate!.retryAfterSeconds),
      });
    case "insufficient_credits":
      throw new ApiError("insufficient_credits", "Not enough credits for this request; nothing was charged.", {
        requiredCredits: meter!.estimateMc! / 1000,
        remainingCredits: res.usage!.remainingMc / 1000,
      });
    case "provider_key_missing":
      throw new ApiError(
        "provider_key_missing",
        `No key for provider '${meter!.provider}': send a BYOK header, store a provider key, or ask the operator to configure one.`,
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
      throw new IdempotentReplay(res.replay!);
  }
}

/** Thrown to answer a retried idempotent request with the stored result. */
export class IdempotentReplay extends Error {
  constructor(readonly result: NonNullable<Extract<AdmitResult, { ok: false }>["replay"]>) {
    super("idempotent replay");
  }
}
