// The one small interface every provider adapter implements. An adapter knows its provider's wire
// format and nothing about Voxgate's auth, credits or HTTP layer: it builds upstream requests and
// reads upstream responses. Adding a provider = one file + one line in registry.ts.
import type { Config } from "../config";

export type Operation = "tts" | "stt" | "llm";
export const AUDIO_FORMATS = ["mp3", "wav", "pcm", "opus", "ulaw"] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

export const AUDIO_CONTENT_TYPES: Record<AudioFormat, string> = {
  mp3: "audio/mpeg",
  wav: "audio/wav",
  pcm: "audio/pcm",
  opus: "audio/ogg",
  ulaw: "audio/basic",
};

/** What an adapter needs to address its provider. */
export interface UpstreamContext {
  config: Config;
  /** The provider key to authenticate with (BYOK, stored or platform). */
  key: string;
}

export interface UpstreamRequest {
  url: string;
  init: RequestInit & { method: string; headers: Record<string, string> };
}

export interface TtsInput {
  text: string;
  voiceId?: string;
  model?: string;
  format: AudioFormat;
  sampleRate?: number;
}

/**
 * How the upstream TTS body carries the audio:
 * - raw: the body is the audio bytes;
 * - sse: server-sent events, `audioOf(event data JSON)` gives base64 audio (or null to skip);
 * - ndjson: one JSON object a line, `audioOf(object)` gives base64 audio;
 * - json: one JSON object with base64 audio (the provider offers nothing incremental for this format).
 */
export type AudioEnvelope =
  | { kind: "raw" }
  | { kind: "sse" | "ndjson" | "json"; audioOf(payload: any): string | null | undefined; errorOf?(payload: any): string | undefined };

export interface TtsAdapter {
  defaultVoice: string;
  defaultModel: string;
  /** Formats (and, where it matters, sample rates) the provider can produce. */
  supports(format: AudioFormat, sampleRate: number | undefined): boolean;
  request(input: TtsInput, ctx: UpstreamContext): { upstream: UpstreamRequest; envelope: AudioEnvelope };
}

export interface SttInput {
  /** The uploaded audio, or undefined when `audioUrl` is given. */
  audio?: { data: Blob; filename: string; contentType: string };
  audioUrl?: string;
  model?: string;
  language?: string;
}

export interface SttResult {
  text: string;
  durationSeconds: number;
  language?: string;
  words?: { word: string; start: number; end: number }[];
}

export interface SttAdapter {
  defaultModel: string;
  /** true when the provider can fetch an `audioUrl` itself; otherwise the gateway downloads it first. */
  acceptsUrl: boolean;
  request(input: SttInput & { model: string }, ctx: UpstreamContext): Promise<UpstreamRequest> | UpstreamRequest;
  parse(body: any, input: SttInput & { model: string }): SttResult;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatInput {
  model: string;
  messages: ChatMessage[];
  system?: string;
  temperature?: number;
  maxTokens?: number;
  stream: boolean;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ChatResult {
  content: string;
  usage: TokenUsage;
}

/** What one upstream stream event means, normalized. */
export interface ChatStreamStep {
  delta?: string;
  /** Usage as far as known; later steps override earlier ones field by field. */
  usage?: Partial<TokenUsage>;
  /** The provider reported an error inside the stream. */
  error?: string;
  /** The provider said the stream is complete. */
  done?: boolean;
}

export interface LlmAdapter {
  defaultModel: string;
  request(input: ChatInput, ctx: UpstreamContext): UpstreamRequest;
  parse(body: any): ChatResult;
  /** Read one SSE event (`event` name may be undefined; `data` is the raw data string). */
  streamStep(event: string | undefined, data: string): ChatStreamStep;
}

export interface ProviderAdapter {
  id: string;
  /** Display name, also the BYOK header's suffix: X-Provider-Key-<name>. */
  name: string;
  aliases?: string[];
  tts?: TtsAdapter;
  stt?: SttAdapter;
  llm?: LlmAdapter;
  /** The cheapest authenticated call the provider offers, and how to read its answer. */
  verify(ctx: UpstreamContext): { upstream: UpstreamRequest; valid(status: number, body: string): boolean };
  /** A person-readable message from an upstream error body (never containing the key). */
  errorMessage?(status: number, body: string): string | undefined;
}

export function json(url: string, headers: Record<string, string>, body: unknown): UpstreamRequest {
  return {
    url,
    init: { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) },
  };
}

export function get(url: string, headers: Record<string, string>): UpstreamRequest {
  return { url, init: { method: "GET", headers } };
}

export function multipart(url: string, headers: Record<string, string>, form: FormData): UpstreamRequest {
  // No content-type header: fetch sets it with the multipart boundary.
  return { url, init: { method: "POST", headers, body: form } };
}


/** A 2xx answer: what most key checks call valid. */
export const is2xx = (status: number) => status >= 200 && status < 300;

/** A multipart body from named fields; undefined fields are left out, files keep their names. */
export function formOf(fields: Record<string, string | { data: Blob; filename: string } | undefined>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (typeof value === "string") form.append(name, value);
    else form.append(name, value.data, value.filename);
  }
  return form;
}

/** Word timings from a provider's list, reading the word from `wordKey`. */
export function wordsOf(list: unknown, wordKey = "word"): SttResult["words"] {
  if (!Array.isArray(list)) return undefined;
  return list.map((w: any) => ({ word: String(w[wordKey] ?? w.word ?? ""), start: Number(w.start), end: Number(w.end) }));
}

/**
 * The message in a provider's error body: `pick` reads it from JSON; a short plain-text body is used as
 * it is when the provider answers errors in plain text.
 */
export function errorText(body: string, pick: (payload: any) => unknown, plainText = false): string | undefined {
  let message: unknown;
  try {
    message = pick(JSON.parse(body));
  } catch {
    const text = body.trim();
    return plainText && text && text.length <= 300 ? text : undefined;
  }
  return typeof message === "string" ? message : undefined;
}

/** The common transcript shape {text, duration (s), language, words[{word,start,end}]} (Whisper, Cartesia). */
export function transcriptOf(body: any): SttResult {
  return {
    text: String(body.text ?? ""),
    durationSeconds: Number(body.duration ?? body.usage?.seconds ?? 0),
    language: body.language,
    words: wordsOf(body.words),
  };
}
