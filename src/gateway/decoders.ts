// Incremental decoders plugged into relay(): provider audio envelopes → plain audio bytes, and
// provider token streams → Voxgate's SSE events ({"type":"delta"} … {"type":"done","usage"}).
import { base64ToBytes } from "../encoding/base64";
import type { AudioEnvelope, LlmAdapter, TokenUsage } from "../providers/types";
import { concat, type Decoder, StreamCutShort } from "./relay";
import { Lines, SseParser } from "./sse";

class ProviderStreamError extends Error {}

export function audioDecoder(envelope: AudioEnvelope): Decoder {
  if (envelope.kind === "raw") return { chunk: (b) => b, end: () => undefined };

  const decode = (payload: any): Uint8Array | undefined => {
    const error = envelope.errorOf?.(payload);
    if (error) throw new ProviderStreamError(error);
    const b64 = envelope.audioOf(payload);
    return b64 ? base64ToBytes(b64) : undefined;
  };
  const decodeAll = (texts: string[]) => concat(texts.filter((t) => t.trim() !== "").flatMap((t) => decode(JSON.parse(t)) ?? []));

  if (envelope.kind === "sse") {
    const sse = new SseParser();
    return {
      chunk: (b) =>
        decodeAll(
          sse
            .push(b)
            .map((e) => e.data)
            .filter((d) => d !== "[DONE]"),
        ),
      end: () =>
        decodeAll(
          sse
            .end()
            .map((e) => e.data)
            .filter((d) => d !== "[DONE]"),
        ),
    };
  }
  if (envelope.kind === "ndjson") {
    const lines = new Lines();
    return { chunk: (b) => decodeAll(lines.push(b)), end: () => decodeAll([lines.rest()]) };
  }
  // One JSON document: nothing can be decoded before it is complete.
  const parts: Uint8Array[] = [];
  return {
    chunk: (b) => {
      parts.push(b);
      return undefined;
    },
    end: () => decodeAll([new TextDecoder().decode(concat(parts) ?? new Uint8Array())]),
  };
}

const encoder = new TextEncoder();
export function sseEvent(data: unknown): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify(data)}\n\n`);
}

export interface ChatDecoder extends Decoder {
  usage(): Partial<TokenUsage>;
  approxOutputTokens(): number;
}

/** Normalizes a provider's token stream; the client sees an error event, then an error, if it is cut short. */
export function chatDecoder(llm: LlmAdapter, emit: (event: ChatEvent) => Uint8Array | undefined = voxgateEvent): ChatDecoder {
  const sse = new SseParser();
  const usage: Partial<TokenUsage> = {};
  let done = false;
  let outputChars = 0;

  const take = (events: { event?: string; data: string }[]) => {
    const out: Uint8Array[] = [];
    for (const e of events) {
      if (done) break;
      const step = llm.readStreamEvent(e.event, e.data);
      if (step.error) throw new ProviderStreamError(step.error);
      if (step.usage) {
        if (step.usage.inputTokens !== undefined) usage.inputTokens = step.usage.inputTokens;
        if (step.usage.outputTokens !== undefined) usage.outputTokens = step.usage.outputTokens;
      }
      if (step.delta) {
        outputChars += step.delta.length;
        const bytes = emit({ type: "delta", text: step.delta });
        if (bytes) out.push(bytes);
      }
      if (step.done) {
        done = true;
        const bytes = emit({ type: "done", usage: { inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0 } });
        if (bytes) out.push(bytes);
      }
    }
    return concat(out);
  };

  return {
    chunk: (b) => take(sse.push(b)),
    end: () => {
      const tail = take(sse.end());
      if (!done) throw new StreamCutShort();
      return tail;
    },
    fail: (e) =>
      emit({
        type: "error",
        error: {
          code: "provider_error",
          message: e instanceof ProviderStreamError || e instanceof StreamCutShort ? e.message : "the provider's stream failed",
        },
      }),
    usage: () => usage,
    approxOutputTokens: () => Math.ceil(outputChars / 4),
  };
}

export type ChatEvent =
  | { type: "delta"; text: string }
  | { type: "done"; usage: TokenUsage }
  | { type: "error"; error: { code: string; message: string } };

const voxgateEvent = (event: ChatEvent) => sseEvent(event);
