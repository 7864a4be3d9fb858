// The steps every gateway operation shares: choose the provider, admit the operation and resolve the
// provider key it runs with (BYOK header > stored key > platform key), call the provider.

import { byokOf } from "../auth/byok";
import type { Ctx } from "../context";
import { open, unreadableStoredKey } from "../crypto/provider-key-vault";
import { ApiError } from "../http/errors";
import type { IdempotencyClaim } from "../metering/contract";
import type { UsageKind } from "../metering/plans";
import { findProvider, offers, platformKeyVar } from "../providers/registry";
import type { Operation, ProviderAdapter, UpstreamContext, UpstreamRequest } from "../providers/types";
import { UnsafeUpstreamValue } from "../providers/wire";
import { admit } from "./admission";
import { Settlement } from "./settlement";
import { callUpstream, providerFailure } from "./upstream";
import { within } from "./within";

const OPERATION_NAMES: Record<Operation, string> = { tts: "speech synthesis", stt: "transcription", llm: "chat" };

/** A provider known to offer operation `Op`. */
export type Offering<Op extends Operation> = ProviderAdapter & { [K in Op]-?: NonNullable<ProviderAdapter[K]> };

export function chooseProvider<Op extends Operation>(c: Ctx, op: Op, requested: string | undefined): Offering<Op> {
  const config = c.get("config");
  const name =
    requested ?? (op === "tts" ? config.DEFAULT_TTS_PROVIDER : op === "stt" ? config.DEFAULT_STT_PROVIDER : config.DEFAULT_LLM_PROVIDER);
  const adapter = findProvider(name);
  if (!adapter) throw new ApiError("unknown_provider", `Unknown provider '${name}'.`, { provider: name });
  if (!offers(adapter, op)) {
    throw new ApiError("unsupported_operation", `${adapter.name} does not offer ${OPERATION_NAMES[op]}.`, {
      provider: adapter.id,
      operation: op,
    });
  }
  return adapter;
}

export interface OperationMeter {
  adapter: ProviderAdapter;
  kind: UsageKind;
  /** Estimated cost with the platform key; null when the model has no price. */
  estimateMc: number | null;
  /** The estimate is the exact cost: charged at admission instead of reserved. */
  exact?: boolean;
  idempotency?: IdempotencyClaim;
}

export interface AdmittedOperation {
  settlement: Settlement;
  /** How the adapter addresses its provider: base URLs and the key this request runs with. */
  upstream: UpstreamContext;
}

/** Admit the operation (one Durable Object round trip) and resolve the provider key it runs with. */
export async function admitOperation(c: Ctx, m: OperationMeter): Promise<AdmittedOperation> {
  const byok = byokOf(c, m.adapter);
  const platformKey = c.env[platformKeyVar(m.adapter)];
  const platform = typeof platformKey === "string" && platformKey.length > 0 ? platformKey : undefined;
  const admission = await admit(
    c,
    {
      provider: m.adapter.id,
      kind: m.kind,
      byok: byok !== undefined,
      platformKeyAvailable: platform !== undefined,
      estimateMc: m.estimateMc,
      exact: m.exact,
    },
    m.idempotency,
  );
  c.set("providerUsed", m.adapter.id);
  c.set("usageBypassed", admission.keySource !== "platform");
  const settlement = new Settlement(c, admission, m.kind, admission.reservationId ? (m.estimateMc ?? 0) : 0);
  c.set("settlement", settlement);
  // An exact cost reserved rather than charged (its Idempotency-Key keeps the result first): the headers
  // show it as charged, as they do when admission charges it.
  if (m.exact && admission.reservationId && m.estimateMc !== null) settlement.showCost(m.estimateMc);
  let key = admission.keySource === "byok" ? byok : admission.keySource === "platform" ? platform : undefined;
  if (admission.keySource === "stored" && admission.storedKey) {
    key = (await open(c.get("config"), c.get("principal").userId, m.adapter.id, admission.storedKey)) ?? undefined;
  }
  if (key === undefined) {
    settlement.refund(); // nothing ran: an Idempotency-Key stays free for the retry
    throw unreadableStoredKey(m.adapter);
  }
  return { settlement, upstream: { urls: c.get("config").providerUrls[m.adapter.id] ?? { api: "" }, key } };
}

/** Call the provider; a failure to connect, a timeout or an error answer becomes the ApiError to send. */
export async function callProvider(c: Ctx, adapter: ProviderAdapter, key: string, req: UpstreamRequest): Promise<Response> {
  const timing = c.get("timing");
  if (timing) timing.upstreamStart = performance.now();
  let res: Response;
  try {
    res = await callUpstream(adapter, req, c.get("config").PROVIDER_TIMEOUT_MS, key);
  } finally {
    // Also when it timed out or could not be reached: Server-Timing then shows how long the provider was waited for.
    if (timing) timing.upstreamFirstByte = performance.now();
  }
  if (!res.ok) throw await providerFailure(adapter, res, key);
  return res;
}

/** The provider answered 2xx with something that is not what it should be. */
export function invalidAnswer(adapter: ProviderAdapter, what: string) {
  return new ApiError("provider_error", `${adapter.name} answered with ${what}.`, { provider: adapter.id });
}

/**
 * A 2xx answer nothing of which reached the client (a body that is not JSON or not the provider's answer,
 * speech of another content type): a provider failure — refunded, counted by the breaker, and another
 * provider may answer (failover.ts, failedBeforeFirstByte).
 */
export function unusable(adapter: ProviderAdapter, what: string): ApiError {
  const e = invalidAnswer(adapter, what);
  e.beforeFirstByte = true;
  return e;
}

/**
 * A provider's one-document answer, parsed by its adapter: a 2xx body that is not JSON, or JSON that is not
 * the answer (`parse` throws, e.g. {"error":…} under a 200), is `unusable` — refunded, failed over.
 */
export async function parsedAnswer<T>(
  adapter: ProviderAdapter,
  res: Response,
  parse: (payload: unknown) => T,
  what: { body: string; shape: string },
  timeoutMs: number,
): Promise<T> {
  const text = await bodyWithin(res, timeoutMs).catch(() => undefined);
  if (text === TIMED_OUT) {
    const e = new ApiError("provider_timeout", `${adapter.name} did not finish its answer within ${timeoutMs} ms.`, {
      provider: adapter.id,
    });
    e.beforeFirstByte = true;
    throw e;
  }
  let payload: unknown;
  try {
    if (text === undefined) throw new Error("the body broke off");
    payload = JSON.parse(text);
  } catch {
    throw unusable(adapter, `${what.body} that is not valid JSON`);
  }
  try {
    return parse(payload);
  } catch {
    throw unusable(adapter, `JSON that is not ${what.shape}`);
  }
}

/**
 * A one-document answer's body, read to its end within `ms` of its headers; "timeout" when the provider
 * stops sending before the end (its headers and half its JSON, then silence): without a limit the request
 * would hang with its credits reserved until the reservation's time to live charged their bound.
 * (A symbol, not a string: a body that is the word "timeout" is a body.)
 */
const TIMED_OUT = Symbol("timed out");

async function bodyWithin(res: Response, ms: number): Promise<string | typeof TIMED_OUT> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const deadline = Date.now() + ms;
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const next = await within(reader.read(), Math.max(0, deadline - Date.now()));
      if (next === "timeout") return TIMED_OUT;
      if (next.done) return text + decoder.decode();
      text += decoder.decode(next.value, { stream: true });
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * Build the upstream request with the adapter; a value the adapter refuses to put into the provider's URL
 * (UnsafeUpstreamValue) is the caller's error: 400 validation_failed naming the field.
 */
export async function upstreamRequest<T>(build: () => T | Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (e) {
    throw callerError(e);
  }
}

/** A value an adapter refused to send (UnsafeUpstreamValue) as the caller's 400 naming the field; anything else as it is. */
export function callerError(e: unknown): unknown {
  return e instanceof UnsafeUpstreamValue
    ? new ApiError("validation_failed", e.message, { fields: [{ path: e.field, message: e.message }] })
    : e;
}
