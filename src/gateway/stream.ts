// Streaming without buffering: upstream bytes are read as they arrive, decoded incrementally
// (raw, SSE, NDJSON), and handed on at once. `relay` reports how the stream ended, so credits are
// settled for streams that complete, fail, or are abandoned by the client.

export type StreamOutcome = "complete" | "upstream_error" | "client_abort";

/** Turns upstream chunks into downstream chunks. */
export interface StreamStep {
  chunk(bytes: Uint8Array): Uint8Array | undefined;
  /** Upstream ended; return a last chunk, or throw when the upstream ended before it should have. */
  end(): Uint8Array | undefined;
  /**
   * Upstream failed mid-stream. A stream with an in-band error channel (SSE) returns its error event:
   * the client gets it as the last event and the stream closes, which every proxy passes on. Without
   * one (raw audio) the client's stream is aborted, so a partial answer never looks complete.
   */
  fail?(error: unknown): Uint8Array | undefined;
}

export function relay(source: ReadableStream<Uint8Array>, step: StreamStep): { body: ReadableStream<Uint8Array>; outcome: Promise<StreamOutcome> } {
  let resolve!: (o: StreamOutcome) => void;
  const outcome = new Promise<StreamOutcome>((r) => (resolve = r));
  const reader = source.getReader();

  const failWith = (controller: ReadableStreamDefaultController<Uint8Array>, e: unknown) => {
    resolve("upstream_error");
    let tail: Uint8Array | undefined;
    try {
      tail = step.fail?.(e);
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

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (e) {
          return failWith(controller, e);
        }
        if (r.done) {
          try {
            const tail = step.end();
            if (tail?.byteLength) controller.enqueue(tail);
            controller.close();
            resolve("complete");
          } catch (e) {
            failWith(controller, e);
          }
          return;
        }
        let out: Uint8Array | undefined;
        try {
          out = step.chunk(r.value);
        } catch (e) {
          return failWith(controller, e);
        }
        if (out?.byteLength) return controller.enqueue(out);
        // Only part of an event so far: keep reading.
      }
    },
    cancel(reason) {
      resolve("client_abort");
      return reader.cancel(reason);
    },
  });
  return { body, outcome };
}

export class StreamCutShort extends Error {
  constructor(message = "the provider's stream ended before it was complete") {
    super(message);
  }
}

/** Splits a byte stream into text lines, across chunk boundaries. */
export class Lines {
  private buffer = "";
  private decoder = new TextDecoder();
  push(bytes: Uint8Array): string[] {
    this.buffer += this.decoder.decode(bytes, { stream: true });
    const parts = this.buffer.split(/\r?\n/);
    this.buffer = parts.pop() ?? "";
    return parts;
  }
  rest(): string {
    const r = this.buffer + this.decoder.decode();
    this.buffer = "";
    return r;
  }
}

export interface SseEvent {
  event?: string;
  data: string;
}

/** Incremental server-sent-events parser. */
export class SseParser {
  private lines = new Lines();
  private event: string | undefined;
  private data: string[] = [];
  push(bytes: Uint8Array): SseEvent[] {
    return this.take(this.lines.push(bytes));
  }
  end(): SseEvent[] {
    const out = this.take([this.lines.rest(), ""]);
    return out;
  }
  private take(lines: string[]): SseEvent[] {
    const out: SseEvent[] = [];
    for (const line of lines) {
      if (line === "") {
        if (this.data.length) out.push({ event: this.event, data: this.data.join("\n") });
        this.event = undefined;
        this.data = [];
      } else if (line.startsWith("data:")) {
        this.data.push(line.slice(line[5] === " " ? 6 : 5));
      } else if (line.startsWith("event:")) {
        this.event = line.slice(6).trim();
      }
    }
    return out;
  }
}

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
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
