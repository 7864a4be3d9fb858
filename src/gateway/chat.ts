// Chat: choose the provider (and its fallbacks) → reserve the bound of its cost (the prompt's bytes, and
// an output cap the provider is told) → call the provider → answer JSON, or relay its token stream as it
// arrives → charge the tokens it reports (a stream cut short: what was delivered).
import type { Ctx } from "../context";
import { invalidField } from "../http/errors";
import { mediaType } from "../http/media-type";
import type { IdempotencyClaim } from "../metering/contract";
import { chatBound, chatCostMc } from "../metering/estimates";
import { optionsPromptText } from "../providers/chat-options";
import { providerText } from "../providers/provider-text";
import type { ChatInput, ChatResult } from "../providers/types";
import { type ChatEvent, chatDecoder } from "./decoders";
import { type Candidate, candidates, chainTaking, type FallbackEntry, withFailover } from "./failover";
import { jsonResult } from "./idempotency";
import { admitOperation, callProvider, invalidAnswer } from "./provider";
import { relay } from "./relay";

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
      let result: ChatResult;
      try {
        result = llm.parse(await res.json());
      } catch {
        throw invalidAnswer(adapter, "an answer that is not valid JSON");
      }
      const body = shapes.render(result, adapter.id, model);
      const costMc = chatCostMc(model, bound, result.usage, true, 0, prices);
      settlement.charge(costMc, () => jsonResult(body, adapter.id));
      c.set("usageCostMc", settlement.metered ? costMc : 0);
      return { kind: "json", body };
    }
    const type = mediaType(res.headers.get("content-type"));
    if (!res.body || type !== "text/event-stream") {
      res.body?.cancel().catch(() => {});
      throw invalidAnswer(adapter, `an unexpected content type for a stream (${type || "none"})`);
    }
    const decoder = chatDecoder(llm, {
      emit: shapes.emit?.(adapter.id, model),
      // The done event says what the stream costs: what the settlement below charges for a complete stream.
      charge: (reported) => ({
        usage: { inputTokens: reported.inputTokens ?? bound.inputTokens, outputTokens: reported.outputTokens ?? bound.outputTokens },
        costMc: settlement.metered ? chatCostMc(model, bound, reported, true, 0, prices) : 0,
      }),
      sanitize: (message) => providerText(message, upstream.key),
    });
    const { body, outcome } = relay(res.body, decoder);
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
