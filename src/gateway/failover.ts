// Failover (API.md §4.2): a request may name providers to try in order when the one before fails before
// its first byte — a connection error, a timeout, a 5xx or a 429, or a 2xx that is no answer (nothing of
// it reached the client). Anything else (a 4xx, a stream that broke after it started) is the answer.
// Each attempt is its own admission and settlement: the failed one is refunded (and its refund has landed
// before the next is admitted), the one that served is charged at its own price, and the rate limit
// counts the request once. A provider whose breaker is open is skipped, unless it is the last one left — or
// the only one that can run the request (every later entry dropped out unused). A 429 on the caller's own
// key is that key's quota: it does not count toward the breaker.
import type { Context } from "hono";
import { z } from "zod";
import { byokOf } from "../auth/byok";
import type { AppEnv } from "../context";
import { ApiError, attemptOutcome } from "../http/errors";
import { ModelId, VoiceId } from "../providers/ids";
import type { Operation } from "../providers/types";
import { IdempotentReplay } from "./admission";
import { allows, type BreakerSettings, recordFailure, recordSuccess } from "./breaker";
import { callerError, chooseProvider, type Offering } from "./provider";

/** A fallback entry: a provider id, or the provider with the model/voice to use there. */
export const FallbackEntry = z.union([
  z.string().min(1).max(64),
  z.object({
    provider: z.string().min(1).max(64),
    model: ModelId.optional(),
    voiceId: VoiceId.optional(),
  }),
]);
/** At most this many providers after the first. */
export const FALLBACK_MAX = 4;
export const Fallback = z.array(FallbackEntry).max(FALLBACK_MAX);
export type FallbackEntry = z.infer<typeof FallbackEntry>;

export interface Candidate<Op extends Operation> {
  adapter: Offering<Op>;
  model?: string;
  voiceId?: string;
}

/**
 * The chain as this request may run it, checked before any provider is tried: the request's own provider (the
 * first) must take the request as asked — else its refusal is thrown, nothing reserved or sent; a fallback
 * entry that cannot drops out (not tried, not in X-Provider-Attempts): a fallback is there to help the first
 * provider, never to veto a request it serves.
 */
export function chainTaking<C>(chain: readonly C[], refusalOf: (candidate: C) => ApiError | undefined): C[] {
  const refusals = chain.map(refusalOf);
  if (refusals[0]) throw refusals[0];
  return chain.filter((_, i) => !refusals[i]);
}

/**
 * The chain to try: the request's own provider first, then its fallback entries (each checked now). An
 * entry that asks for what is already in the chain — the same provider and model (and voice, for speech),
 * defaults filled in — is dropped, its first place kept: asking the same again adds nothing but a second
 * failure. Not a 400: an agent's one stored list serves speak and chat (its speech fallback may be its
 * chat provider), and `models` on /v1/chat/completions conventionally repeats the model asked for.
 */
export function candidates<Op extends Operation>(
  c: Context<AppEnv>,
  op: Op,
  first: { provider?: string; model?: string; voiceId?: string },
  fallback: readonly FallbackEntry[] | undefined,
): Candidate<Op>[] {
  const chain: Candidate<Op>[] = [];
  const asked = new Set<string>();
  for (const [i, entry] of [first, ...(fallback ?? [])].entries()) {
    const e = typeof entry === "string" ? { provider: entry } : entry;
    const candidate = { adapter: chooseProvider(c, op, e.provider), model: e.model, voiceId: e.voiceId };
    // A model this provider cannot be asked for: the request's own is the caller's 400 before anything runs; a
    // fallback's drops out now (not found out when an outage reaches it — a 400 after the primary's 503, blaming
    // the caller — and never a veto: an agent's one stored list serves speak and chat, its chat models too).
    if (e.model !== undefined && !fits(candidate.adapter[op] as ModelCheck, e.model, i === 0)) continue;
    byokOf(c, candidate.adapter); // a malformed BYOK header is the caller's 400 before anything runs, for any entry
    const same = sameAsk(op, candidate);
    if (asked.has(same)) continue;
    asked.add(same);
    chain.push(candidate);
  }
  return chain;
}

type ModelCheck = { checkModel?(model: string, field: string): void };

/** Whether `offering` can be asked for `model`; for the request's own provider (`own`), a refusal is thrown. */
function fits(offering: ModelCheck, model: string, own: boolean): boolean {
  try {
    offering.checkModel?.(model, "model");
    return true;
  } catch (e) {
    if (own) throw callerError(e);
    return false;
  }
}

/** What a candidate asks for: its provider, model and (speech) voice, each provider's default where none is named. */
function sameAsk<Op extends Operation>(op: Op, { adapter, model, voiceId }: Candidate<Op>): string {
  const offering = adapter[op] as { defaultModel: string; defaultVoice?: string };
  const voice = op === "tts" ? (voiceId ?? offering.defaultVoice ?? "") : "";
  return JSON.stringify([adapter.id, model ?? offering.defaultModel, voice]);
}

/** Did the provider fail before its first byte in a way another provider may not? */
export function failedBeforeFirstByte(e: unknown): e is ApiError {
  if (!(e instanceof ApiError)) return false;
  if (e.code === "provider_timeout" || e.code === "provider_unreachable") return true;
  if (e.code !== "provider_error") return false;
  const status = e.details?.providerStatus;
  // No provider status: it answered 2xx and then nothing usable before its first byte (speech's first
  // audio, chat's first token, a body that is no answer).
  return status === undefined ? e.beforeFirstByte : typeof status === "number" && (status >= 500 || status === 429);
}

/** Refused at admission for what the fallback lacks, not for what the caller asked. */
function unusableFallback(e: unknown): boolean {
  return e instanceof ApiError && (e.code === "provider_key_missing" || e.code === "model_not_priced");
}

/** Did the attempt get as far as calling the provider? (An unexpected error is counted: it may have.) */
function reachedProvider(e: unknown): boolean {
  if (!(e instanceof ApiError)) return true;
  return e.code === "provider_error" || e.code === "provider_timeout" || e.code === "provider_unreachable";
}

/** Run `attempt` over the chain until one answers; its answer (or the last failure) is the request's. */
export async function withFailover<Op extends Operation, T>(
  c: Context<AppEnv>,
  chain: Candidate<Op>[],
  attempt: (candidate: Candidate<Op>) => Promise<T>,
): Promise<T> {
  const settings: BreakerSettings = { failuresToOpen: c.get("config").BREAKER_FAILURES, coolDownMs: c.get("config").BREAKER_COOLDOWN_MS };
  const tried: string[] = [];
  c.set("providerAttempts", tried);
  // Checked at admission against a key's provider allow-list, all of them at once: a fallback the key may
  // not use is refused before anything runs — not only once an outage reaches it.
  c.set(
    "chainProviders",
    chain.map((candidate) => candidate.adapter.id),
  );
  let failure: ApiError | undefined;
  // Providers skipped for their open breaker: tried after all, last, when nothing else could run the request
  // (every later entry dropped out before reaching its provider) — a breaker skips a provider only while
  // another one can serve.
  const skipped: Candidate<Op>[] = [];
  const queue = [...chain];
  // (The iterator reads the queue's length at each step: entries pushed on the way are reached.)
  for (const [i, candidate] of queue.entries()) {
    const id = candidate.adapter.id;
    const last = i === queue.length - 1;
    if (i < chain.length && !last && !allows(c, id, settings.coolDownMs)) {
      tried.push(`${id}=skipped`);
      skipped.push(candidate);
      continue;
    }
    // A skipped provider tried after all is listed once, by how its attempt went.
    if (i >= chain.length) tried.splice(tried.indexOf(`${id}=skipped`), 1);
    try {
      const answer = await attempt(candidate);
      tried.push(`${id}=200`);
      recordSuccess(c, id);
      return answer;
    } catch (e) {
      // A retry's stored answer (Idempotency-Key) is no attempt: no provider ran and this request is charged nothing.
      if (e instanceof IdempotentReplay) {
        c.set("usageCostMc", 0);
        c.set("usageBypassed", e.result.headers["x-usage-bypassed"] === "true");
        throw e;
      }
      // A fallback this request cannot run on (no key for it, a model the platform has no price for) drops
      // out as a fallback whose options it cannot take does (chainTaking): the answer stays the outage that
      // led to it — or the skipped provider is tried after all — not a 400 blaming the caller, and only now,
      // since the key it would use is known only at admission (a stored key).
      if (candidate !== chain[0] && (failure || skipped.length > 0) && unusableFallback(e)) {
        if (!failure && i === chain.length - 1) queue.push(...skipped);
        if (i === queue.length - 1) throw failure ?? e;
        continue;
      }
      // Refused before the provider was called (credits, scope, rate limit, no key): not an attempt either.
      if (reachedProvider(e)) tried.push(`${id}=${attemptOutcome(e)}`);
      if (!failedBeforeFirstByte(e)) throw e;
      // A 429 on the caller's own key (BYOK, stored) is that key's quota, not the provider's health: it does not
      // count toward the breaker every user shares (a user could otherwise open it for all, at no cost).
      if (!(c.get("usageBypassed") && e.details?.providerStatus === 429)) recordFailure(c, id, settings);
      if (last) throw e;
      failure = e;
      // The failed attempt's refund lands before the next attempt is admitted (its Idempotency-Key is free again).
      await c.get("settlement")?.closed;
    }
  }
  throw new Error("withFailover: an empty chain");
}
