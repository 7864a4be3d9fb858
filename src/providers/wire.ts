// Building blocks for adapters: upstream requests (JSON, GET, multipart) and readers for shapes several
// providers share (error texts, word timings, Whisper-style transcripts).
import { upstreamIdProblem } from "./ids";
import type { SttInput, SttResult, SttSegment, TimestampGranularity, UpstreamRequest } from "./types";

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

/** A duration in seconds from a provider's field: a positive finite number, else undefined (not reported). */
export function secondsOf(value: unknown, unitsPerSecond = 1): number | undefined {
  const n = Number(value) / unitsPerSecond;
  return Number.isFinite(n) && n > 0 ? n : undefined;
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

/** What Whisper's verbose_json gives when asked with timestamp_granularities[] (OpenAI's whisper models, Groq). */
export const WHISPER_TIMESTAMPS: readonly TimestampGranularity[] = ["word", "segment"];

/** The caller's timestamp granularities as Whisper's multipart field, one `timestamp_granularities[]` each. */
export function withTimestamps(form: FormData, input: SttInput): void {
  for (const g of input.timestamps ?? []) form.append("timestamp_granularities[]", g);
}

const WHISPER_SEGMENT_NUMBERS = ["temperature", "avg_logprob", "compression_ratio", "no_speech_prob"] as const;

/**
 * Whisper segments {start, end, text}, where the transcript has them, with the decoding details Whisper
 * gives (seek, tokens, temperature, avg_logprob, compression_ratio, no_speech_prob) kept where they are
 * numbers: verbose_json passes them on (api/openai-transcription.ts).
 */
export function segmentsOf(list: unknown): SttResult["segments"] {
  if (!Array.isArray(list)) return undefined;
  return list.map((s: any) => {
    const segment: SttSegment = { start: Number(s.start), end: Number(s.end), text: String(s.text ?? "") };
    for (const key of WHISPER_SEGMENT_NUMBERS) if (typeof s?.[key] === "number" && Number.isFinite(s[key])) segment[key] = s[key];
    if (Number.isInteger(s?.seek)) segment.seek = s.seek;
    if (Array.isArray(s?.tokens) && s.tokens.every(Number.isInteger)) segment.tokens = s.tokens;
    return segment;
  });
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

/**
 * A transcript's text where the provider's answer always has one: anything else (no such field, e.g.
 * {"error":…} under a 200) is not its transcript — the parse throws and the gateway fails over.
 */
export function transcriptText(value: unknown): string {
  if (typeof value !== "string") throw new Error("the provider's answer is not a transcript");
  return value;
}

/**
 * The common transcript shape {text, duration (s), language, words[{word,start,end}], usage} (Whisper,
 * Cartesia, gpt-4o-transcribe): usage is {type:"duration", seconds} or {type:"tokens", input_tokens, output_tokens}.
 */
export function transcriptOf(body: any): SttResult {
  const text = transcriptText(body?.text);
  const usage =
    body.usage?.type === "tokens"
      ? { inputTokens: Number(body.usage.input_tokens ?? 0), outputTokens: Number(body.usage.output_tokens ?? 0) }
      : undefined;
  return {
    text,
    durationSeconds: secondsOf(body.duration ?? body.usage?.seconds),
    usage,
    language: body.language,
    words: wordsOf(body.words),
    segments: segmentsOf(body.segments),
  };
}

/**
 * A request value an adapter will not send because it would change the shape of the upstream URL (e.g.
 * `..` in a model id that goes into the path). The gateway answers 400 validation_failed naming `field`.
 */
export class UnsafeUpstreamValue extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A voice or model id as one URL path segment, percent-encoded — refused (400 naming `field`) when it
 * breaks the ids rule (ids.ts): the request schemas check it first; this also covers values stored
 * before the rule existed (an agent's voiceId).
 */
export function pathSegment(id: string, field: string): string {
  const problem = upstreamIdProblem(id, false);
  if (problem) throw new UnsafeUpstreamValue(field, `'${id.slice(0, 100)}' ${problem}.`);
  return encodeURIComponent(id);
}

/** A Hugging Face Hub repo id segment: letters, digits, `-`, `_`, `.`, not starting with `.` (so never `..`). */
const HUB_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,95}$/;

/**
 * A Hub model id (`name` or `org/name`) as URL path segments, each percent-encoded. Anything else — an
 * empty segment, `.`/`..`, more segments, `?`, `#`, `%`, a backslash — is refused, so the id can only
 * ever name a model under the path it is put in.
 */
export function hubModelPath(id: string, field = "model"): string {
  const segments = id.split("/");
  if (segments.length > 2 || !segments.every((s) => HUB_SEGMENT.test(s))) {
    throw new UnsafeUpstreamValue(field, `'${id.slice(0, 100)}' is not a model id (org/name: letters, digits, '-', '_', '.').`);
  }
  return segments.map(encodeURIComponent).join("/");
}

/**
 * The ISO 639-1 code (`en`) of a language tag a caller may send in BCP 47 (`en-US`, `pt_BR`): what Whisper-style
 * transcription (OpenAI, Groq), Cartesia, ElevenLabs and Fish take — `en-US` is a 400 there (Cartesia's spec
 * lists 2-letter codes only). Deepgram takes BCP 47 tags as they are.
 */
export function languageCode(tag: string | undefined): string | undefined {
  return tag?.split(/[-_]/, 1)[0]?.toLowerCase() || undefined;
}
