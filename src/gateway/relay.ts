// Streaming without buffering: upstream bytes are read as they arrive, turned into the client's bytes by
// a decoder (decoders.ts: raw, SSE, NDJSON, JSON audio; token streams) and handed on at once. `relay`
// reports how the stream ended, so credits are settled for streams that complete, fail, or are
// abandoned by the client.

export type StreamOutcome = "complete" | "upstream_error" | "client_abort";

/** Turns upstream chunks into downstream chunks. */
export interface Decoder {
  chunk(bytes: Uint8Array): Uint8Array | undefined;
  /** Upstream ended; return a last chunk, or throw when the upstream ended before it should have. */
  end(): Uint8Array | undefined;
  /**
   * Upstream failed mid-stream. A stream with an in-band error channel (SSE) returns its error event:
   * the client gets it as the last event and the stream closes, which every proxy passes on. Without
   * one (raw audio) the client's stream is aborted, so a partial answer never looks complete.
   */
  fail?(error: unknown): Uint8Array | undefined;
  /** Hands every chunk on as it is (raw audio): the bytes may be piped natively instead (first-audio.ts). */
  passesThrough?: boolean;
}

export interface Relay {
  body: ReadableStream<Uint8Array>;
  /** How the stream ended: complete, failed upstream, or abandoned by the client. */
  outcome: Promise<StreamOutcome>;
  /** Settles when the first chunk is ready for the client (or the stream ended empty); rejects when it failed before. */
  first: Promise<void>;
  /** Everything the client was sent, when the stream completed and it fit `keepMax` (for idempotent replays). */
  kept(): Uint8Array | undefined;
}

export interface RelayOptions {
  /** Keep what the client was sent, up to this many bytes (idempotent replays). */
  keepMax?: number;
  /**
   * Read ahead of the client up to this many bytes (default: one chunk). A text stream (chat) reads its
   * provider to the end even when nobody reads it: a client gone without the runtime cancelling the body
   * (workerd behind a local proxy does not) still ends in an outcome, settled by what the stream reports.
   */
  aheadBytes?: number;
  /**
   * A client that takes nothing for this long while the read-ahead is full is taken as gone: the provider's
   * stream is cancelled and the outcome is `client_abort` (charged for what was delivered).
   */
  stallMs?: number;
}

/**
 * Read `source` as it arrives, turn it into the client's chunks with `decoder`, hand each on at once. The
 * stream starts reading before anyone consumes it (high-water mark: one chunk, or `aheadBytes`), so
 * `first` tells the caller whether there is anything to answer with before it commits to a 200.
 */
export function relay(source: ReadableStream<Uint8Array>, decoder: Decoder, options: RelayOptions = {}): Relay {
  const { keepMax = 0, aheadBytes, stallMs } = options;
  const ended = deferred<StreamOutcome>();
  const firstChunk = deferred<void>();
  const { promise: outcome, resolve } = ended;
  const { promise: first, resolve: firstReady, reject: firstFailed } = firstChunk;
  first.catch(() => {}); // a caller that never asks must not see an unhandled rejection
  const reader = source.getReader();
  let kept: Uint8Array[] | undefined = keepMax > 0 ? [] : undefined;
  let keptBytes = 0;
  let completed = false;
  let stall: ReturnType<typeof setTimeout> | undefined;

  const emit = (controller: ReadableStreamDefaultController<Uint8Array>, chunk: Uint8Array) => {
    if (kept) {
      keptBytes += chunk.byteLength;
      if (keptBytes > keepMax) kept = undefined;
      else kept.push(chunk);
    }
    controller.enqueue(chunk);
    firstReady();
    // The read-ahead is full: the client has this long to take some of it.
    if (stallMs !== undefined && (controller.desiredSize ?? 1) <= 0) watchStall(controller, stallMs);
  };

  /**
   * Taken as gone only when the client took nothing at all for `ms`: a read that leaves the read-ahead
   * still full (a small chunk taken while a large one waits) calls no pull, so the room left is compared
   * instead — a client still reading, however slowly, is never cut off.
   */
  const watchStall = (controller: ReadableStreamDefaultController<Uint8Array>, ms: number) => {
    clearTimeout(stall);
    const room = controller.desiredSize ?? 0;
    stall = setTimeout(() => {
      if ((controller.desiredSize ?? 0) > room) return watchStall(controller, ms);
      const gone = new Error("the client took nothing of the stream for too long");
      resolve("client_abort");
      firstFailed(gone);
      controller.error(gone);
      reader.cancel(gone).catch(() => {});
    }, ms);
  };

  const failWith = (controller: ReadableStreamDefaultController<Uint8Array>, e: unknown) => {
    resolve("upstream_error");
    firstFailed(e);
    let tail: Uint8Array | undefined;
    try {
      tail = decoder.fail?.(e);
    } catch {
      tail = undefined;
    }
    if (tail?.byteLength) {
      controller.enqueue(tail);
      controller.close();
    } else {
      controller.error(e);
    }
    reader.cancel(e).catch(() => {});
  };

  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        clearTimeout(stall);
        for (;;) {
          let r: ReadableStreamReadResult<Uint8Array>;
          try {
            r = await reader.read();
          } catch (e) {
            return failWith(controller, e);
          }
          if (r.done) {
            try {
              const tail = decoder.end();
              if (tail?.byteLength) emit(controller, tail);
              controller.close();
              completed = true;
              firstReady();
              resolve("complete");
            } catch (e) {
              failWith(controller, e);
            }
            return;
          }
          let out: Uint8Array | undefined;
          try {
            out = decoder.chunk(r.value);
          } catch (e) {
            return failWith(controller, e);
          }
          if (out?.byteLength) return emit(controller, out);
          // Only part of an event so far: keep reading.
        }
      },
      cancel(reason) {
        clearTimeout(stall);
        resolve("client_abort");
        firstFailed(reason);
        return reader.cancel(reason);
      },
    },
    aheadBytes === undefined ? undefined : new ByteLengthQueuingStrategy({ highWaterMark: aheadBytes }),
  );
  return { body, outcome, first, kept: () => (completed && kept ? (concat(kept) ?? new Uint8Array()) : undefined) };
}

/** A promise with its resolve and reject (Promise.withResolvers, which the ES2023 lib does not type). */
function deferred<T>() {
  let resolve: (value: T) => void = () => {};
  let reject: (reason: unknown) => void = () => {};
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

export class StreamCutShort extends Error {
  constructor(message = "the provider's stream ended before it was complete") {
    super(message);
  }
}

export function concat(parts: Uint8Array[]): Uint8Array | undefined {
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
