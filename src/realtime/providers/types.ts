// The small interface each provider's realtime protocol implements (one file per provider in this
// folder): where its WebSocket is, how Voxgate's uniform messages (API.md §4.3) become its frames, and
// how its frames read back. An adapter knows nothing of credits, sessions or the client's socket.
import type { BaseUrls, UpstreamContext } from "../../providers/types";

export type { BaseUrls, UpstreamContext };

/** An outbound WebSocket: the provider's http(s) URL (Workers upgrade it by fetch) and its headers. */
export interface UpstreamTarget {
  url: string;
  headers: Record<string, string>;
}

export type Frame = string | ArrayBuffer;

// ---- listen: binary audio in, transcripts out ---------------------------------------------------

export type ListenEncoding = "linear16" | "mulaw";

export interface ListenParams {
  model: string;
  language?: string;
  encoding: ListenEncoding;
  sampleRate: number;
}

export type ListenEvent =
  | { type: "transcript"; text: string; isFinal: boolean; start: number; end: number }
  | { type: "error"; message: string }
  /** The provider finished everything it was sent (after end()). */
  | { type: "ended" };

export interface ListenStream {
  target: UpstreamTarget;
  /** The frame that carries one chunk of the client's audio (the bytes themselves, or wrapped). */
  audio(chunk: ArrayBuffer): Frame;
  finalize(): Frame;
  /** Ask for the rest of the transcript; the provider then ends (an `ended` event, or it closes). */
  end(): Frame;
  /** Nothing sent is still waiting for a final transcript (providers that do not say when they are done). */
  idle?(): boolean;
  /** Sent when no audio flowed for a while, for providers that close an idle stream. */
  keepAlive?(): Frame;
  read(frame: Frame): ListenEvent[];
}

export interface ListenProvider {
  id: string;
  defaultModel: string;
  supports(encoding: ListenEncoding, sampleRate: number): boolean;
  start(params: ListenParams, upstream: UpstreamContext): ListenStream;
}

// ---- speak: text in, binary audio out -----------------------------------------------------------

export type SpeakFormat = "pcm" | "ulaw" | "mp3";

export interface SpeakParams {
  voiceId: string;
  model: string;
  format: SpeakFormat;
  sampleRate: number;
}

export type SpeakEvent =
  | { type: "audio"; bytes: ArrayBuffer | Uint8Array }
  /** Everything flushed so far has been spoken. */
  | { type: "flushed" }
  | { type: "error"; message: string };

export interface SpeakStream {
  target: UpstreamTarget;
  text(text: string): Frame[];
  /** Speak what was sent since the last flush; a `flushed` event follows its audio. */
  flush(): Frame[];
  /** After the last flush was spoken: say goodbye (the socket is closed next). */
  end(): Frame[];
  read(frame: Frame): SpeakEvent[];
}

export interface SpeakProvider {
  id: string;
  defaultVoice: string;
  defaultModel: string;
  /**
   * The most characters one text frame to the provider may carry (its source cited): a client's text message
   * longer than this is sent as several frames back to back (src/realtime/speak.ts).
   */
  maxTextChars: number;
  /** The sample rate a format gets when the client names none. */
  defaultRate(format: SpeakFormat): number;
  supports(format: SpeakFormat, sampleRate: number): boolean;
  start(params: SpeakParams, upstream: UpstreamContext): SpeakStream;
}

// ---- helpers the adapters share -----------------------------------------------------------------

/** A text frame as JSON, or undefined (binary, or not JSON). */
export function jsonOf(frame: Frame): any {
  if (typeof frame !== "string") return undefined;
  try {
    return JSON.parse(frame);
  } catch {
    return undefined;
  }
}

export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  return q.toString();
}

/** Seconds with millisecond precision (no float noise in the client's transcript times). */
export const seconds = (x: number) => Math.round(x * 1000) / 1000;
