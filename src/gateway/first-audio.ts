// Speech answers only once its first audio is decoded: an answer that fails before any audio (a body
// that is not what it claims, an error event, a cut, silence) becomes a 502/504 instead of a 200 whose
// body breaks. From then on audio is passed on as it arrives.
import { mediaType } from "../http/media-type";
import type { AudioEnvelope } from "../providers/types";
import { type Decoder, relay, type StreamOutcome } from "./relay";

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
 * Wait for the first decoded audio chunk, within the time-to-first-byte limit. Up to `keepMax` bytes of
 * what the client gets are kept for an idempotent retry.
 */
export async function firstAudio(
  source: ReadableStream<Uint8Array>,
  timeoutMs: number,
  keepMax: number,
  decoder: Decoder = { chunk: (b) => b, end: () => undefined },
): Promise<FirstAudio> {
  const r = relay(source, decoder, keepMax);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failure = await Promise.race([
    r.first.then(
      () => undefined,
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    ),
    new Promise<"timeout">((ok) => {
      timer = setTimeout(() => ok("timeout"), timeoutMs);
    }),
  ]);
  if (timer !== undefined) clearTimeout(timer);
  if (failure === "timeout") r.body.cancel(new Error("no audio in time")).catch(() => {});
  return { stream: r.body, failure, ended: r.outcome, kept: r.kept };
}

/** Does the answer's content type fit how the adapter said the audio would arrive? */
export function audioTypeFits(envelope: AudioEnvelope, contentType: string | null): boolean {
  const type = mediaType(contentType);
  if (envelope.kind === "raw") return !(type.startsWith("text/") || type === "application/json");
  if (envelope.kind === "sse") return type === "text/event-stream";
  return !type.startsWith("text/html");
}
