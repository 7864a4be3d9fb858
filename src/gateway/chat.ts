// Chat: choose the provider → reserve the bound of its cost → call the provider → answer JSON, or relay
// its token stream as it arrives → charge the tokens it reports.
import type { Ctx } from "../context";
import { mediaType } from "../http/media-type";
import type { IdempotencyClaim } from "../metering/contract";
import { chatEstimate } from "../metering/estimates";
import { llmCostMc } from "../metering/prices";
import type { ChatInput, ChatResult } from "../providers/types";
import { type ChatEvent, chatDecoder } from "./decoders";
import { jsonResult } from "./idempotency";
import { admitOperation, callProvider, chooseProvider, invalidAnswer } from "./provider";
import { relay } from "./relay";

export interface ChatRequestInput extends Omit<ChatInput, "stream"> {
  provider?: string;
  stream?: boolean;
}

/** How a route answers: `render` shapes a complete answer, `emit` each stream event (Voxgate's SSE by default). */
export interface ChatShapes<Body> {
  render(result: ChatResult, provider: string, model: string): Body;
  emit?: (event: ChatEvent) => Uint8Array | undefined;
}

export type ChatOutcome<Body> = { kind: "json"; body: Body } | { kind: "stream"; body: ReadableStream<Uint8Array> };

export async function chat<Body>(
  c: Ctx,
  input: ChatRequestInput,
  idempotency: IdempotencyClaim | undefined,
  shapes: ChatShapes<Body>,
): Promise<ChatOutcome<Body>> {
  const adapter = chooseProvider(c, "llm", input.provider);
  const llm = adapter.llm;
  const bound = chatEstimate(input.model, input.messages, input.system, input.maxTokens);
  const { settlement, upstream } = await admitOperation(c, { adapter, kind: "llm", estimateMc: bound.estimateMc, idempotency });
  try {
    const stream = input.stream === true;
    const res = await callProvider(c, adapter, upstream.key, llm.request({ ...input, stream }, upstream));
    if (!stream) {
      let result: ChatResult;
      try {
        result = llm.parse(await res.json());
      } catch {
        throw invalidAnswer(adapter, "an answer that is not valid JSON");
      }
      const body = shapes.render(result, adapter.id, input.model);
      settlement.charge(llmCostMc(input.model, result.usage.inputTokens, result.usage.outputTokens) ?? 0, () => jsonResult(body));
      return { kind: "json", body };
    }
    const type = mediaType(res.headers.get("content-type"));
    if (!res.body || type !== "text/event-stream") {
      res.body?.cancel().catch(() => {});
      throw invalidAnswer(adapter, `an unexpected content type for a stream (${type || "none"})`);
    }
    const decoder = chatDecoder(llm, shapes.emit);
    const { body, outcome } = relay(res.body, decoder);
    settlement.charge(
      outcome.then((end) => {
        if (end === "upstream_error") return null;
        // Complete: the provider's own final usage. Abandoned: what was used until then.
        const u = decoder.usage();
        return llmCostMc(input.model, u.inputTokens ?? bound.inputTokens, u.outputTokens ?? decoder.approxOutputTokens()) ?? 0;
      }),
    );
    return { kind: "stream", body };
  } catch (e) {
    settlement.refund();
    throw e;
  }
}
