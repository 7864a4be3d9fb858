// The gateway's request and response shapes (API.md §4): zod schemas that validate the bodies and
// describe the OpenAPI document, and the native chat answer.
import { z } from "@hono/zod-openapi";
import { contentTypeFor } from "../audio/transcode";
import { Fallback } from "../gateway/failover";
import { ModelId, VoiceId } from "../providers/ids";
import { AUDIO_CONTENT_TYPES, AUDIO_FORMATS, type ChatResult } from "../providers/types";
import { BinaryAudio, json } from "./schemas";

export const GATEWAY_ERRORS = [400, 401, 402, 409, 413, 415, 422, 429, 502, 504] as const;

/** Providers to try in order when the one before fails before its first byte (API.md §4.2). */
export const FallbackSchema = Fallback.optional().openapi({
  description:
    'Providers to try in order when the one before fails before its first byte: ids ("cartesia") or {"provider","model"?,"voiceId"?}; ' +
    "at most 4. An entry asking what the chain already has (the same provider and model, and voice for speech) is tried once.",
});

export const SynthesizeBody = z
  .object({
    text: z.string().min(1).max(5000),
    provider: z.string().min(1).max(64).optional(),
    voiceId: VoiceId.optional(),
    model: ModelId.optional(),
    format: z
      .enum(AUDIO_FORMATS)
      .optional()
      .openapi({
        description:
          "Default mp3 (Hugging Face: the model's own audio, with its content type). pcm, wav, ulaw and alaw are served by every " +
          "speech provider at 8000, 16000, 22050, 24000, 44100 and 48000 Hz, converted at the edge where the provider does not " +
          "produce them; mp3, opus, aac and flac only where it does (else 400 unsupported_format). GET /v1/providers lists which.",
      }),
    sampleRate: z
      .number()
      .int()
      .min(8000)
      .max(48000)
      .optional()
      .openapi({ description: "Hz. pcm (16-bit little-endian mono) defaults to 24000, ulaw and alaw to 8000; others to the provider's" }),
    fallback: FallbackSchema,
  })
  // A misspelt field is refused (400 naming it), not ignored: `fromat` would be charged for mp3 in another format's place.
  .strict()
  .openapi("SynthesizeRequest");

export const ChatMessageSchema = z.object({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string().max(200_000),
});

export const ChatBody = z
  .object({
    provider: z.string().min(1).max(64).optional(),
    model: ModelId,
    messages: z.array(ChatMessageSchema).min(1).max(500),
    system: z.string().max(100_000).optional(),
    temperature: z.number().min(0).max(2).optional(),
    maxTokens: z.number().int().min(1).max(128_000).optional(),
    stream: z.boolean().optional(),
    fallback: FallbackSchema,
  })
  .strict() // the top level only: a message's own fields are as they were
  .openapi("ChatRequest");

/**
 * The 200 of a speech route, for the document: every Content-Type it answers (speechContentType in
 * src/gateway/speech-output.ts) — each format's, and with a sampleRate, µ-law at a rate other than 8 kHz
 * (audio/x-mulaw). A Hugging Face model with no format named answers its own type (said in the description).
 */
export function speechAudio(opts: { sampleRate: boolean }) {
  const types = new Set(Object.values(AUDIO_CONTENT_TYPES));
  if (opts.sampleRate) types.add(contentTypeFor({ format: "ulaw", sampleRate: 16000 }));
  return Object.fromEntries([...types].map((type) => [type, { schema: BinaryAudio }]));
}

/** A transcription's provider, model and language: the same rules in JSON, multipart fields and the query. */
export const TranscribeFields = z.object({
  provider: z.string().min(1).max(64).optional(),
  model: ModelId.optional(),
  language: z.string().min(1).max(32).optional(),
});

export const TranscribeJson = TranscribeFields.extend({
  // Any string: whether it may be fetched is the public-URL policy's call (400 invalid_audio_url, API.md §4.1).
  audioUrl: z
    .string()
    .min(1)
    .max(8192)
    .openapi({ format: "uri", description: "https to a public host; fetched by Voxgate (at most AUDIO_URL_MAX_BYTES)" }),
  fallback: FallbackSchema,
})
  .strict()
  .openapi("TranscribeUrlRequest");

export const TranscribeForm = z.object({
  // Either may be sent (transcribeInput requires one): the validator must not refuse a form with audioUrl only.
  file: z.any().optional().openapi({ type: "string", format: "binary" }),
  audioUrl: z.string().optional().openapi({ description: "instead of file: https to a public host (as in the JSON body)" }),
  provider: z.string().optional(),
  model: z.string().optional(),
  language: z.string().optional(),
  fallback: z.string().optional().openapi({
    description: 'JSON array of fallback providers, e.g. ["groq", {"provider":"deepgram"}], or a comma-separated list of provider ids',
  }),
});

export const TranscriptionSchema = z
  .object({
    success: z.literal(true),
    text: z.string(),
    durationSeconds: z.number(),
    language: z.string().optional(),
    provider: z.string(),
    model: z.string(),
    words: z.array(z.object({ word: z.string(), start: z.number(), end: z.number() })).optional(),
  })
  .openapi("Transcription");

export const ChatResponseSchema = z
  .object({
    success: z.literal(true),
    provider: z.string(),
    model: z.string(),
    message: z.object({ role: z.literal("assistant"), content: z.string() }),
    usage: z.object({ inputTokens: z.number().int(), outputTokens: z.number().int() }),
  })
  .openapi("ChatResponse");

/** What a streamed chat answer is: server-sent events, each data line one JSON event. */
const SSE_DESCRIPTION =
  'Server-sent events, each data line one JSON event: {"type":"delta","text"} per piece of the answer, then ' +
  '{"type":"done","usage":{inputTokens,outputTokens}} (with cost, the credits charged, when platform-billed)';

/** The 200 of a chat route (/v1/chat, agent chat): JSON, or with stream:true server-sent events. */
export function chatContent() {
  return {
    ...json(ChatResponseSchema),
    "text/event-stream": { schema: z.string().openapi({ description: SSE_DESCRIPTION }) },
  };
}

/** The native chat answer (/v1/chat and agent chat). */
export function chatAnswer(result: ChatResult, provider: string, model: string): z.infer<typeof ChatResponseSchema> {
  return { success: true, provider, model, message: { role: "assistant", content: result.content }, usage: result.usage };
}

/** A stream answered as SSE; the operation settles its credits when it ends. */
export function sseResponse(body: ReadableStream<Uint8Array>): Response {
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" },
  });
}
