// Chat: choose the provider (and its fallbacks) → reserve the bound of its cost (the prompt's bytes, and
// an output cap the provider is told) → call the provider → answer JSON, or relay its token stream from
// its first token on → charge the tokens it reports (a stream cut short: what was delivered).
import type { Ctx } from "../context";
import { ApiError, invalidField } from "../http/errors";
import { mediaType } from "../http/media-type";
import type { IdempotencyClaim } from "../metering/contract";
import { chatBound, chatCostMc } from "../metering/estimates";
import { optionsPromptText } from "../providers/chat-options";
import { providerText } from "../providers/provider-text";
import type { ChatInput, ChatResult, LlmAdapter, ProviderAdapter } from "../providers/types";
import { type ChatEvent, chatDecoder } from "./decoders";
import { type Candidate, candidates, chainTaking, type FallbackEntry, withFailover } from "./failover";
import { jsonResult } from "./idempotency";
import { admitOperation, callProvider, parsedAnswer, unusable } from "./provider";
import { relay, StreamCutShort } from "./relay";
import { within } from "./within";

/**
 * A chat stream is read ahead of its client up to this much (text: far more than any answer's SSE), so a
 * client gone without the runtime cancelling the body still lets the stream end and be settled by what it
 * reports — not left to the alarm, which would charge the whole reservation. A client that takes nothing
 * for CLIENT_STALL_MS while that much waits is taken as gone (charged for what was delivered).
 */
const CHAT_READ_AHEAD_BYTES = 1024 * 1024;
const CLIENT_STALL_MS = 30_000;
/**
 * A provider silent this long before its first token fails the stream (after it: PROVIDER_TIMEOUT_MS).
 * Long, because a reasoning model may think minutes before it answers and sends nothing meanwhile; bounded
 * all the same, well under the reservation's RESERVATION_TTL_MS (30 min, account/mirror.ts), so a
 * provider that never answers is settled by the stream's outcome (nothing delivered: nothing owed), not
 * by the alarm, which would charge the whole reservation.
 */
const FIRST_TOKEN_SILENCE_MS = 5 * 60_000;

export interface ChatRequestInput extends Omit<ChatInput, "stream"> {
  provider?: string;
  stream?: boolean;
  /** Providers to try, in order, when the one before fails before its first byte. */
  fallback?: readonly FallbackEntry[];
}

/**
 * How a route answers: `render` shapes a complete answer; `emit`, given the provider and model that
 * serve the stream (after a failover, not the first asked), shapes each stream event (Voxgate's SSE by default).
 */
export interface ChatShapes<Body> {
  render(result: ChatResult, provider: string, model: string): Body;
  emit?: (provider: string, model: string) => (event: ChatEvent) => Uint8Array | undefined;
}

export type ChatOutcome<Body> = { kind: "json"; body: Body } | { kind: "stream"; body: ReadableStream<Uint8Array> };

export async function chat<Body>(
  c: Ctx,
  input: ChatRequestInput,
  idempotency: IdempotencyClaim | undefined,
  shapes: ChatShapes<Body>,
): Promise<ChatOutcome<Body>> {
  const chain = candidates(c, "llm", { provider: input.provider, model: input.model }, input.fallback);
  // The request's options, checked for every provider before any is tried (failover.ts, chainTaking).
  const taking = chainTaking(chain, ({ adapter, model }) => {
    const refusal = adapter.llm.refuse({ ...input, model: model ?? adapter.llm.defaultModel });
    return refusal && invalidField(refusal.field, refusal.message);
  });
  return withFailover(c, taking, (candidate) => chatWith(c, candidate, input, idempotency, shapes));
}

/** One provider's attempt. */
async function chatWith<Body>(
  c: Ctx,
  { adapter, model: chosen }: Candidate<"llm">,
  input: ChatRequestInput,
  idempotency: IdempotencyClaim | undefined,
  shapes: ChatShapes<Body>,
): Promise<ChatOutcome<Body>> {
  const llm = adapter.llm;
  const model = chosen ?? llm.defaultModel;
  const prices = c.get("prices");
  // Stop sequences and a JSON schema are read by the provider too: reserved for like the prompt.
  const system = [input.system, optionsPromptText(input.options)].filter(Boolean).join("\n") || undefined;
  const bound = chatBound(model, input.messages, system, input.maxTokens, prices);
  const { settlement, upstream } = await admitOperation(c, { adapter, kind: "llm", estimateMc: bound.estimateMc, idempotency });
  try {
    const stream = input.stream === true;
    // The provider is held to the output tokens reserved, whether or not the caller named a cap.
    const request = llm.request({ ...input, model, maxTokens: bound.outputTokens, stream }, upstream);
    const res = await callProvider(c, adapter, upstream.key, request);
    if (!stream) {
      const result = await parsedAnswer(
        adapter,
        res,
        (p) => llm.parse(p),
        { body: "an answer", shape: "a chat answer" },
        c.get("config").PROVIDER_TIMEOUT_MS,
      );
      const body = shapes.render(result, adapter.id, model);
      const costMc = chatCostMc(model, bound, result.usage, true, 0, prices);
      settlement.charge(costMc, () => jsonResult(body, adapter.id));
      c.set("usageCostMc", settlement.metered ? costMc : 0);
      return { kind: "json", body };
    }
    const type = mediaType(res.headers.get("content-type"));
    if (!res.body || type !== "text/event-stream") {
      res.body?.cancel().catch(() => {});
      throw unusable(adapter, `an unexpected content type for a stream (${type || "none"})`);
    }
    const inBand: { error?: string } = {};
    const decoder = chatDecoder(noting(llm, inBand), {
      emit: shapes.emit?.(adapter.id, model),
      // The done event says what the stream costs: what the settlement below charges for a complete stream.
      charge: (reported) => ({
        usage: { inputTokens: reported.inputTokens ?? bound.inputTokens, outputTokens: reported.outputTokens ?? bound.outputTokens },
        costMc: settlement.metered ? chatCostMc(model, bound, reported, true, 0, prices) : 0,
      }),
      sanitize: (message) => providerText(message, upstream.key),
    });
    const timeoutMs = c.get("config").PROVIDER_TIMEOUT_MS;
    // A provider that falls silent mid-stream fails it (the error event in band, the tokens delivered
    // charged): else neither the client's stream nor the outcome that settles the reservation would end.
    const { body, outcome, first } = relay(res.body, decoder, {
      aheadBytes: CHAT_READ_AHEAD_BYTES,
      stallMs: CLIENT_STALL_MS,
      silenceMs: timeoutMs,
      firstSilenceMs: Math.max(FIRST_TOKEN_SILENCE_MS, timeoutMs),
    });
    // Nothing is answered before the first token (or the done event): events before it (Anthropic's
    // message_start and ping, OpenAI's role chunk) give the client nothing, so a stream that fails by
    // then — an error event, a cut, garbage — is a provider failure another provider may answer. The wait
    // is bounded by the time-to-first-byte limit: a stream with no token by then (a model that thinks long
    // before it answers: OpenAI's reasoning models send nothing, Anthropic's thinking is not shown) is
    // answered anyway — the client gets its headers and the tokens when they come, an error after that in band
    // (at the latest when the provider stays silent for FIRST_TOKEN_SILENCE_MS).
    const failedEarly = first.catch((e) => {
      throw failedBeforeFirstToken(adapter, e, inBand.error, upstream.key);
    });
    failedEarly.catch(() => {}); // past the limit an early failure is the stream's, in band
    await within(failedEarly, timeoutMs);
    settlement.charge(
      outcome.then((end) => {
        const seen = decoder.outputTokensSeen();
        // Nothing delivered before the provider failed: nothing is owed.
        if (end === "upstream_error" && seen === 0) return null;
        return chatCostMc(model, bound, decoder.usage(), end === "complete", seen, prices);
      }),
    );
    return { kind: "stream", body };
  } catch (e) {
    settlement.refund();
    throw e;
  }
}

/** The stream failed before its first token: an error event (its message passed on), a cut, or what cannot be read. */
function failedBeforeFirstToken(adapter: ProviderAdapter, e: unknown, reported: string | undefined, key: string): ApiError {
  if (reported !== undefined) {
    const message = providerText(reported, key) || "stream error";
    const error = new ApiError("provider_error", `${adapter.name} answered with an error before its first token: ${message}`, {
      provider: adapter.id,
      providerMessage: message,
    });
    error.beforeFirstByte = true;
    return error;
  }
  if (e instanceof StreamCutShort) return unusable(adapter, "a stream that ended before its first token");
  return unusable(adapter, `a stream that failed before its first token (${providerText(String((e as Error)?.message ?? e), key)})`);
}

/** The adapter, noting the error a stream reports in band (the decoder throws it; a 502 passes it on). */
function noting(llm: LlmAdapter, reported: { error?: string }): LlmAdapter {
  return {
    ...llm,
    readStreamEvent(event, data) {
      const read = llm.readStreamEvent(event, data);
      if (read.error !== undefined) reported.error = read.error;
      return read;
    },
  };
}
