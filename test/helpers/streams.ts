// Byte streams driven by hand, for the stream relay's tests (relay.test.ts, first-audio.test.ts).

export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** A source we drive by hand: push chunks, then close or fail it; `cancelled()` tells why it was cancelled. */
export function source() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled: unknown = "not cancelled";
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: (reason) => {
      cancelled = reason;
    },
  });
  return {
    stream,
    push: (s: string) => controller.enqueue(enc(s)),
    close: () => controller.close(),
    fail: (e: unknown) => controller.error(e),
    cancelled: () => cancelled,
  };
}

/** Reads `reader` to its end as text, waiting `pauseMs` after each chunk (a slow client); rejects as the stream does. */
export async function readRest(reader: ReadableStreamDefaultReader<Uint8Array>, pauseMs = 0): Promise<string> {
  let text = "";
  for (;;) {
    const r = await reader.read();
    if (r.done) return text;
    text += dec(r.value);
    if (pauseMs) await new Promise((ok) => setTimeout(ok, pauseMs));
  }
}
