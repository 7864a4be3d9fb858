// The OpenAI transcription request's options (POST /v1/audio/transcriptions) and its answer in each
// response_format: json, text, verbose_json (words and segments in OpenAI's shape), and
// srt/vtt subtitles cut from the native transcript (openai-captions.ts).
import type { z } from "@hono/zod-openapi";
import type { Ctx } from "../context";
import { invalidField } from "../http/errors";
import { mediaType } from "../http/media-type";
import { findProvider } from "../providers/registry";
import type { SttResult, TimestampGranularity } from "../providers/types";
import { cuesOf, srt, verboseSegments, vtt } from "./openai-captions";
import { TranscriptionOptions } from "./openai-schemas";
import { transcriptionBody } from "./openai-shapes";
import { formOf } from "./transcribe-input";
import { validationError } from "./validation";

export type TranscriptionRequestOptions = z.infer<typeof TranscriptionOptions>;
const GRANULARITIES = "timestamp_granularities";

/** The OpenAI fields of a transcription request, from whichever body transcribeInput read. */
export async function transcriptionOptions(c: Ctx): Promise<TranscriptionRequestOptions> {
  const type = mediaType(c.req.header("content-type"));
  let fields: Record<string, unknown>;
  if (type === "multipart/form-data") {
    const form = await formOf(c);
    fields = Object.fromEntries([...form.entries()].filter(([, v]) => typeof v === "string" && v !== ""));
    // The SDK sends one `timestamp_granularities[]` per value (the spec's multipart array).
    const granularities = [...form.getAll(`${GRANULARITIES}[]`), ...form.getAll(GRANULARITIES)];
    delete fields[`${GRANULARITIES}[]`];
    if (granularities.length) fields[GRANULARITIES] = granularities;
    // …and `include[]` the same way (refused: see TranscriptionOptions).
    if (form.has("include[]")) {
      delete fields["include[]"];
      fields.include = form.getAll("include[]");
    }
  } else if (type === "application/json") fields = (await c.req.json()) as Record<string, unknown>;
  else fields = c.req.query();
  const parsed = TranscriptionOptions.safeParse(fields);
  if (!parsed.success) throw validationError(parsed.error.issues);
  return parsed.data;
}

const refuse = (message: string) => invalidField(GRANULARITIES, message);

/**
 * The timestamps to ask the provider for. Asked for by the caller: only with verbose_json (as OpenAI),
 * and only where the provider gives them (forwarded to Whisper, or in its own transcript) — else 400
 * before anything is reserved. Not asked: segments where the provider gives them, for verbose_json
 * (OpenAI's default granularity) and subtitles (cut from them).
 */
export function timestampsToAsk(
  options: TranscriptionRequestOptions,
  provider: string,
  model: string | undefined,
): TimestampGranularity[] | undefined {
  const format = options.response_format ?? "json";
  const adapter = findProvider(provider);
  const stt = adapter?.stt;
  const offered = stt?.timestamps?.(model || stt.defaultModel) ?? [];
  const asked = options.timestamp_granularities;
  if (asked?.length) {
    if (format !== "verbose_json") throw refuse("timestamps come only with response_format verbose_json");
    // No transcription at that provider: the gateway refuses the operation itself.
    if (!adapter || !stt) return undefined;
    const missing = asked.find((g) => !offered.includes(g));
    if (missing) throw refuse(`${adapter.name} gives no ${missing} timestamps for ${model || stt.defaultModel}`);
    return [...new Set(asked)];
  }
  if (format !== "json" && format !== "text" && offered.includes("segment")) return ["segment"];
  return undefined;
}

const SUBTITLE_RENDERERS = { srt, vtt };

/** The native transcript (also what an idempotent replay holds) as the requested response_format. */
export function transcriptionResponse(c: Ctx, result: SttResult, options: TranscriptionRequestOptions): Response {
  const format = options.response_format ?? "json";
  if (format === "text") return c.text(result.text, 200);
  if (format === "srt" || format === "vtt") {
    const render = SUBTITLE_RENDERERS[format];
    return c.text(render(cuesOf(result)), 200, { "content-type": "text/plain; charset=utf-8" });
  }
  const body = transcriptionBody(result, format, options.language);
  // verbose_json: segments in OpenAI's TranscriptionSegment shape, every required field there (openai-captions.ts).
  if (format === "verbose_json") return c.json({ ...body, segments: verboseSegments(result) }, 200);
  return c.json(body, 200);
}
