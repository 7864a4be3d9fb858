// Incremental decoders plugged into relay(): provider audio envelopes → plain audio bytes, and
// provider token streams → Voxgate's SSE events ({"type":"delta"} … {"type":"done","usage"}).
import { base64ToBytes } from "../encoding/base64";
import type { AudioEnvelope, FinishReason, LlmAdapter, TokenUsage } from "../providers/types";
import { concat, type Decoder, ProviderSilent, StreamCutShort } from "./relay";
import { Lines, SseParser } from "./sse";

class ProviderStreamError extends Error {}

/** A JSON-audio answer (SSE, NDJSON, one document) that ended without any audio in it. */
class NoAudio extends Error {
  constructor() {
    super("no audio in its answer");
  }
}

export function audioDecoder(envelope: AudioEnvelope): Decoder {
  if (envelope.kind === "raw") return { chunk: (b) => b, end: () => undefined, passesThrough: true };

  let audioSeen = false;
  let endSeen = false;
  const decode = (payload: any): Uint8Array | undefined => {
    if (endSeen) return undefined;
    const error = envelope.errorOf?.(payload);
    if (error) throw new ProviderStreamError(error);
    if (envelope.endOf?.(payload)) endSeen = true;
    const b64 = envelope.audioOf(payload);
    if (typeof b64 === "string" && b64 !== "") audioSeen = true;
    return b64 ? base64ToBytes(b64) : undefined;
  };
  const decodeAll = (texts: string[]) => concat(texts.filter((t) => t.trim() !== "").flatMap((t) => decode(JSON.parse(t)) ?? []));
  // JSON with no audio in it at all (e.g. {"error":…} under a 200, which no errorOf knows) is not the
  // provider's answer: it fails before its first audio (a provider failure, failed over) — never an empty 200.
  const ended = (tail: Uint8Array | undefined) => {
    if (!audioSeen) throw new NoAudio();
    return tail;
  };

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
      finished: () => endSeen,
      end: () =>
        ended(
          decodeAll(
            sse
              .end()
              .map((e) => e.data)
              .filter((d) => d !== "[DONE]"),
          ),
        ),
    };
  }
  if (envelope.kind === "ndjson") {
    const lines = new Lines();
    return { chunk: (b) => decodeAll(lines.push(b)), finished: () => endSeen, end: () => ended(decodeAll([lines.rest()])) };
  }
  // One JSON document: nothing can be decoded before it is complete.
  const parts: Uint8Array[] = [];
  return {
    chunk: (b) => {
      parts.push(b);
      return undefined;
    },
    end: () => ended(decodeAll([new TextDecoder().decode(concat(parts) ?? new Uint8Array())])),
  };
}

const encoder = new TextEncoder();
export function sseEvent(data: unknown): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify(data)}\n\n`);
}

export interface ChatDecoder extends Decoder {
  /** The usage the provider reported so far (Anthropic's input arrives first, output with the end). */
  usage(): Partial<TokenUsage>;
  /** Output tokens seen so far: one per delta event, at least one per 4 bytes of text. */
  outputTokensSeen(): number;
}

export interface ChatDecoderOptions {
  /** Renders each event (Voxgate's SSE by default; OpenAI chunks on /v1/chat/completions). */
  emit?: (event: ChatEvent) => Uint8Array | undefined;
  /** What the complete stream is charged, from the usage reported: the done event carries it. */
  charge?: (reported: Partial<TokenUsage>) => { usage: TokenUsage; costMc: number };
  /** Makes a provider's error text fit for the client (its key redacted, its length bounded). */
  sanitize?: (message: string) => string;
}

/** Normalizes a provider's token stream; the client sees an error event, then an error, if it is cut short. */
export function chatDecoder(llm: LlmAdapter, options: ChatDecoderOptions = {}): ChatDecoder {
  const emit = options.emit ?? voxgateEvent;
  const sse = new SseParser();
  const usage: Partial<TokenUsage> = {};
  let done = false;
  let finish: FinishReason | undefined;
  let deltas = 0;
  let outputBytes = 0;

  const take = (events: { event?: string; data: string }[]) => {
    const out: Uint8Array[] = [];
    for (const e of events) {
      if (done) break;
      const event = llm.readStreamEvent(e.event, e.data);
      if (event.error) throw new ProviderStreamError(event.error);
      if (event.finish) finish = event.finish;
      if (event.usage) {
        if (event.usage.inputTokens !== undefined) usage.inputTokens = event.usage.inputTokens;
        if (event.usage.outputTokens !== undefined) usage.outputTokens = event.usage.outputTokens;
      }
      if (event.delta) {
        deltas++;
        outputBytes += encoder.encode(event.delta).byteLength;
        const bytes = emit({ type: "delta", text: event.delta });
        if (bytes) out.push(bytes);
      }
      if (event.done) {
        done = true;
        const charged = options.charge?.(usage);
        const reported = { inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0 };
        const bytes = emit(
          charged ? { type: "done", usage: charged.usage, cost: charged.costMc / 1000, finish } : { type: "done", usage: reported, finish },
        );
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
    fail: (e) => {
      const told = e instanceof ProviderStreamError || e instanceof StreamCutShort || e instanceof ProviderSilent;
      const message = told ? e.message : "the provider's stream failed";
      return emit({ type: "error", error: { code: "provider_error", message: options.sanitize ? options.sanitize(message) : message } });
    },
    finished: () => done,
    usage: () => usage,
    outputTokensSeen: () => Math.max(deltas, Math.ceil(outputBytes / 4)),
  };
}

export type ChatEvent =
  | { type: "delta"; text: string }
  /** `cost`: the credits the stream is charged (Voxgate's own events; OpenAI's chunks keep OpenAI's shape). */
  /** `finish`: why the answer ended (OpenAI's chunks say it; Voxgate's own done event keeps its shape). */
  | { type: "done"; usage: TokenUsage; cost?: number; finish?: FinishReason }
  | { type: "error"; error: { code: string; message: string } };

const voxgateEvent = (event: ChatEvent) => sseEvent(event.type === "done" ? { ...event, finish: undefined } : event);
