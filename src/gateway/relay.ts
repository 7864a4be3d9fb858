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
   * one (raw audio) the client's stream is errored, never closed (local workerd still ends an HTTP/1.1 body
   * cleanly: workerd#6818).
   */
  fail?(error: unknown): Uint8Array | undefined;
  /**
   * The answer's end marker was seen (a chat's done event, an audio stream's done): the stream is complete
   * there — what the provider still sends or holds open is not waited for (nor taken for silence).
   */
  finished?(): boolean;
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
  /**
   * A provider that sends nothing for this long while a read of its stream is pending, once the first chunk
   * was handed on, is taken as failed: `upstream_error`, the in-band error event (SSE) or an aborted stream
   * (raw), its body cancelled. Only a pending read counts: while a slow client keeps the read-ahead full
   * nothing is read, and that is `stallMs`'s to judge, not the provider's silence.
   */
  silenceMs?: number;
  /** The same before the first chunk is handed on (default: no limit, the caller bounds that wait itself). */
  firstSilenceMs?: number;
}

/**
 * Read `source` as it arrives, turn it into the client's chunks with `decoder`, hand each on at once. The
 * stream starts reading before anyone consumes it (high-water mark: one chunk, or `aheadBytes`), so
 * `first` tells the caller whether there is anything to answer with before it commits to a 200.
 */
export function relay(source: ReadableStream<Uint8Array>, decoder: Decoder, options: RelayOptions = {}): Relay {
  const { keepMax = 0, aheadBytes, stallMs, silenceMs, firstSilenceMs } = options;
  const ended = deferred<StreamOutcome>();
  const firstChunk = deferred<void>();
  const { promise: outcome, resolve } = ended;
  const { promise: first, resolve: firstReady, reject: firstFailed } = firstChunk;
  first.catch(() => {}); // a caller that never asks must not see an unhandled rejection
  const reader = source.getReader();
  let kept: Uint8Array[] | undefined = keepMax > 0 ? [] : undefined;
  let keptBytes = 0;
  let completed = false;
  let over = false; // ended, failed or cancelled: a read that settles after that has no one to tell
  let handedOn = false;
  let stall: ReturnType<typeof setTimeout> | undefined;
  let silence: ReturnType<typeof setTimeout> | undefined;
  let reading = false;
  let readSince = 0; // when the pending read started: the last chunk's arrival, or the pull that asked

  const emit = (controller: ReadableStreamDefaultController<Uint8Array>, chunk: Uint8Array) => {
    if (kept) {
      keptBytes += chunk.byteLength;
      if (keptBytes > keepMax) kept = undefined;
      else kept.push(chunk);
    }
    controller.enqueue(chunk);
    if (!handedOn) {
      handedOn = true;
      // The limit after the first chunk is another one: the next read arms it afresh.
      clearTimeout(silence);
      silence = undefined;
    }
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
      stop();
      resolve("client_abort");
      firstFailed(gone);
      controller.error(gone);
      reader.cancel(gone).catch(() => {});
    }, ms);
  };

  /**
   * One timer per limit, not one per chunk: it is armed when a read starts with none armed and, when it
   * fires, compares the time the pending read has waited with the limit — re-armed for the rest when a
   * chunk came meanwhile, left off when no read is pending (the next read arms it again).
   */
  const watchSilence = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    const ms = handedOn ? silenceMs : firstSilenceMs;
    if (ms === undefined || silence !== undefined) return;
    const check = (wait: number) => {
      silence = setTimeout(() => {
        silence = undefined;
        if (over || !reading) return;
        const waited = Date.now() - readSince;
        if (waited < ms) return check(ms - waited);
        failWith(controller, new ProviderSilent(ms));
      }, wait);
    };
    check(ms);
  };

  const stop = () => {
    over = true;
    clearTimeout(stall);
    clearTimeout(silence);
  };

  const failWith = (controller: ReadableStreamDefaultController<Uint8Array>, e: unknown) => {
    stop();
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

  /** The answer is complete: its last bytes, the client's stream closed, the outcome `complete`. */
  const finish = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    try {
      const tail = decoder.end();
      if (tail?.byteLength) emit(controller, tail);
      controller.close();
      stop();
      completed = true;
      firstReady();
      resolve("complete");
    } catch (e) {
      failWith(controller, e);
    }
  };

  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        clearTimeout(stall);
        for (;;) {
          let r: ReadableStreamReadResult<Uint8Array>;
          reading = true;
          readSince = Date.now();
          watchSilence(controller);
          try {
            r = await reader.read();
          } catch (e) {
            if (over) return;
            return failWith(controller, e);
          } finally {
            reading = false;
          }
          if (over) return; // failed or cancelled while the read was pending (the provider fell silent)
          if (r.done) return finish(controller);
          let out: Uint8Array | undefined;
          try {
            out = decoder.chunk(r.value);
          } catch (e) {
            return failWith(controller, e);
          }
          if (out?.byteLength) emit(controller, out);
          // The answer's end marker came: it is complete, whatever the provider still holds open.
          if (decoder.finished?.()) {
            finish(controller);
            reader.cancel().catch(() => {});
            return;
          }
          if (out?.byteLength) return;
          // Only part of an event so far: keep reading.
        }
      },
      cancel(reason) {
        stop();
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

/** The provider's stream stayed open with nothing in it past the limit (RelayOptions.silenceMs). */
export class ProviderSilent extends Error {
  constructor(ms: number) {
    super(`the provider sent nothing for ${ms} ms`);
  }
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
