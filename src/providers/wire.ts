// Building blocks for adapters: upstream requests (JSON, GET, multipart) and readers for shapes several
// providers share (error texts, word timings, Whisper-style transcripts).
import type { SttResult, UpstreamRequest } from "./types";

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
 * The common transcript shape {text, duration (s), language, words[{word,start,end}], usage} (Whisper,
 * Cartesia, gpt-4o-transcribe): usage is {type:"duration", seconds} or {type:"tokens", input_tokens, output_tokens}.
 */
export function transcriptOf(body: any): SttResult {
  const usage =
    body.usage?.type === "tokens"
      ? { inputTokens: Number(body.usage.input_tokens ?? 0), outputTokens: Number(body.usage.output_tokens ?? 0) }
      : undefined;
  return {
    text: String(body.text ?? ""),
    durationSeconds: secondsOf(body.duration ?? body.usage?.seconds),
    usage,
    language: body.language,
    words: wordsOf(body.words),
  };
}
