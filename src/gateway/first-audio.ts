// Speech answers only once its first audio is decoded: an answer that fails before any audio (a body
// that is not what it claims, an error event, a cut, silence) becomes a 502/504 instead of a 200 whose
// body breaks. From then on audio is passed on as it arrives.
import { mediaType } from "../http/media-type";
import type { AudioEnvelope } from "../providers/types";
import { type Decoder, ProviderSilent, relay, type StreamOutcome } from "./relay";
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
 * still gets a 502/504), then the rest goes to the client through an `IdentityTransformStream` — its body
 * native, no decoding, no JS stream per chunk: one read and one write of each chunk (`pump`). A provider
 * failure after the first chunk errors the client's stream, never closes it (workerd#6818: locally an
 * HTTP/1.1 client still sees a clean end), a client that hangs up cancels the provider's answer at the next
 * chunk (workerd tells the writer then: a client abort; while the provider sends nothing, the silence limit
 * ends it, as a provider failure — speech is charged in full from its first audio either way), and a
 * provider that falls silent — nothing for `silenceMs` while a read of it is pending, so a slow client is
 * never taken for it — fails the stream (a stalled provider held the client forever when the bytes were
 * piped natively, out of JS's sight).
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
  return { stream: readable, ended: pump(reader, writable.getWriter(), first.value, timeoutMs), kept: () => undefined };
}

/** Hand the provider's chunks to the client one by one, watching for silence; how the stream ended. */
async function pump(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  firstBytes: Uint8Array,
  silenceMs: number,
): Promise<StreamOutcome> {
  let finished = false;
  let clientGone = false;
  let silent: ProviderSilent | undefined;
  // Since when a read of the provider has been pending (0: none — the client is being waited for).
  let readingSince = 0;
  // One timer per silence period, not one per chunk: when it fires it fails a read pending that long, or waits
  // out what is left of the period.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watch = (ms: number) => {
    timer = setTimeout(() => {
      const waited = readingSince === 0 ? 0 : Date.now() - readingSince;
      if (waited < silenceMs) return watch(silenceMs - waited);
      silent = new ProviderSilent(silenceMs);
      reader.cancel(silent).catch(() => {});
    }, ms);
  };
  // A client that hangs up is seen at the next write (workerd errors the writable side then); should the
  // runtime say so while the provider is between chunks, its answer is cancelled at once.
  writer.closed.catch((e) => {
    if (finished) return;
    clientGone = true;
    reader.cancel(e).catch(() => {});
  });
  try {
    await writer.write(firstBytes); // resolves once the client took it
    watch(silenceMs);
    for (;;) {
      readingSince = Date.now();
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        finished = true;
        writer.abort(e).catch(() => {});
        return clientGone ? "client_abort" : "upstream_error";
      }
      readingSince = 0;
      if (clientGone) return "client_abort";
      if (silent) {
        finished = true;
        writer.abort(silent).catch(() => {});
        return "upstream_error";
      }
      if (r.done) {
        finished = true;
        await writer.close();
        return "complete";
      }
      if (r.value.byteLength > 0) await writer.write(r.value);
    }
  } catch (e) {
    // A write (or the close) failed: the client is gone.
    finished = true;
    reader.cancel(e).catch(() => {});
    return "client_abort";
  } finally {
    clearTimeout(timer);
  }
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
