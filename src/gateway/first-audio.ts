// Speech answers only once its first audio is decoded: an answer that fails before any audio (a body
// that is not what it claims, an error event, a cut, silence) becomes a 502/504 instead of a 200 whose
// body breaks. From then on audio is passed on as it arrives.
import { mediaType } from "../http/media-type";
import type { AudioEnvelope } from "../providers/types";
import { type Decoder, relay, type StreamOutcome } from "./relay";
import { within } from "./within";

/**
 * Audio kept for an idempotent retry (replayed byte for byte): at most this much, base64 in the Account
 * object's SQLite (1 MiB → 1.4 MB, under its 2 MB row limit). Longer audio is not kept (the retry gets 409).
 */
export const IDEMPOTENT_AUDIO_MAX_BYTES = 1024 * 1024;

export interface FirstAudio {
  /** The client's stream: the first chunk, then the rest as it arrives. */
  stream: ReadableStream<Uint8Array>;
  /** Why no audio could be sent: the answer failed or stayed silent before its first chunk. */
  failure?: Error | "timeout";
  /** How the client's stream ended. */
  ended: Promise<StreamOutcome>;
  /** What the client got, when it got all of it and it fits the limit. */
  kept(): Uint8Array | undefined;
}

/**
 * Wait for the first decoded audio chunk, within the time-to-first-byte limit; after it, a provider silent
 * for as long fails the stream. Up to `keepMax` bytes of what the client gets are kept for an idempotent retry.
 */
export async function firstAudio(
  source: ReadableStream<Uint8Array>,
  timeoutMs: number,
  keepMax: number,
  decoder: Decoder = RAW,
): Promise<FirstAudio> {
  if (decoder.passesThrough && keepMax === 0) return pipedFirstAudio(source, timeoutMs);
  // `first` also settles when the answer ends: one that ended with not a byte from the provider (a 200 with
  // an empty body; a converting decoder's header alone) has no audio in it — a failure, never an empty 200.
  let heard = false;
  const noting: Decoder = {
    ...decoder,
    chunk: (bytes) => {
      if (bytes.byteLength > 0) heard = true;
      return decoder.chunk(bytes);
    },
  };
  // After the first audio, a provider silent for the same limit fails the stream (the client's is aborted):
  // else a provider that stops sending but keeps its connection open would hold the client forever.
  const r = relay(source, noting, { keepMax, silenceMs: timeoutMs });
  const failure = await within(
    r.first.then(() => (heard ? undefined : new Error(NO_AUDIO)), asError),
    timeoutMs,
  );
  if (failure === "timeout") r.body.cancel(new Error("no audio in time")).catch(() => {});
  return { stream: r.body, failure, ended: r.outcome, kept: r.kept };
}

const NO_AUDIO = "an answer with no audio in it";

const RAW: Decoder = { chunk: (b) => b, end: () => undefined, passesThrough: true };

/**
 * Raw audio that nobody keeps: the first chunk is read here (so a provider that fails or stays silent
 * still gets a 502/504), then the rest is piped natively — workerd moves the bytes, no JS runs per chunk.
 * A provider failure after the first chunk still aborts the client's stream (a cut answer never looks
 * complete) and a client that hangs up still cancels the provider's answer; the two are not told apart
 * once piped (workerd reports either as a lost connection), which speech does not need: it is charged
 * in full from its first audio on. A provider that falls silent once piped is not seen (that would take JS
 * on every chunk, which piping saves): such a stream lasts until the client or the provider ends it.
 */
async function pipedFirstAudio(source: ReadableStream<Uint8Array>, timeoutMs: number): Promise<FirstAudio> {
  const reader = source.getReader();
  const firstChunk = (async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done || r.value.byteLength > 0) return r;
    }
  })();
  let first: ReadableStreamReadResult<Uint8Array> | "timeout";
  try {
    first = await within(firstChunk, timeoutMs);
  } catch (e) {
    reader.cancel(e).catch(() => {});
    return failed(asError(e));
  }
  if (first === "timeout") {
    firstChunk.catch(() => {});
    reader.cancel(new Error("no audio in time")).catch(() => {});
    return failed("timeout");
  }
  if (first.done) return failed(new Error(NO_AUDIO));
  const { readable, writable } = new IdentityTransformStream();
  const firstBytes = first.value;
  const ended = (async (): Promise<StreamOutcome> => {
    const writer = writable.getWriter();
    try {
      await writer.write(firstBytes); // resolves once the client took it
    } catch (e) {
      reader.cancel(e).catch(() => {});
      return "client_abort";
    }
    writer.releaseLock();
    reader.releaseLock();
    return source.pipeTo(writable).then(
      () => "complete" as const,
      () => "upstream_error" as const,
    );
  })();
  return { stream: readable, ended, kept: () => undefined };
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

function failed(failure: Error | "timeout"): FirstAudio {
  return { stream: emptyStream(), failure, ended: Promise.resolve("upstream_error"), kept: () => undefined };
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.close() });
}

/** Does the answer's content type fit how the adapter said the audio would arrive? */
export function audioTypeFits(envelope: AudioEnvelope, contentType: string | null): boolean {
  const type = mediaType(contentType);
  if (envelope.kind === "raw") return !(type.startsWith("text/") || type === "application/json");
  if (envelope.kind === "sse") return type === "text/event-stream";
  return !type.startsWith("text/html");
}
