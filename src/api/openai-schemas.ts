// The OpenAI-compatible surface's request bodies (API.md §4), as OpenAI's SDK sends them. Options the
// gateway cannot honour are refused, never silently ignored.
import { z } from "@hono/zod-openapi";
import { VoiceId } from "../providers/ids";
import { AUDIO_FORMATS } from "../providers/types";

const unsupported = (what: string) =>
  z
    .any()
    .refine((v) => v === undefined, { error: `${what} is not supported by this gateway` })
    .optional()
    .openapi({ description: "Not supported" });

/** Refused unless absent, null or a value that asks for nothing the gateway does not do (`harmless`). */
const refusedUnless = (what: string, harmless: (v: unknown) => boolean = () => false) =>
  z
    .any()
    .refine((v) => v === undefined || v === null || harmless(v), { error: `${what} is not supported by this gateway` })
    .optional()
    .openapi({ description: "Not supported" });

const StopText = z.string().min(1).max(1000);
/** json_schema: OpenAI's name rule; the schema goes to the provider (and is reserved for as input). */
const JsonSchemaFormat = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: "a-z, A-Z, 0-9, underscores and dashes, at most 64" }),
  description: z.string().max(10_000).optional(),
  schema: z
    .record(z.string(), z.unknown())
    .refine((v) => JSON.stringify(v).length <= 100_000, { error: "at most 100,000 characters of JSON" })
    .optional(),
  strict: z.boolean().nullish(),
});
const ResponseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({ type: z.literal("json_schema"), json_schema: JsonSchemaFormat }),
]);

const ContentPart = z.object({ type: z.literal("text"), text: z.string().max(200_000) });

export const OpenAiMessage = z.object({
  // OpenAI's `developer` role is its newer name for `system`.
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: z.union([z.string().max(200_000), z.array(ContentPart).min(1).max(100)], {
    error: "a string or an array of text parts (only text content parts are supported)",
  }),
  name: z.string().max(64).optional(),
});

export const ChatCompletionBody = z
  .object({
    model: z.string().min(1).max(300).openapi({ example: "anthropic/claude-sonnet-4-20250514" }),
    messages: z.array(OpenAiMessage).min(1).max(500),
    temperature: z.number().min(0).max(2).nullish(),
    max_tokens: z.number().int().min(1).max(128_000).nullish(),
    max_completion_tokens: z.number().int().min(1).max(128_000).nullish(),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
    n: z.literal(1, { error: "only n=1 is supported" }).nullish(),
    models: z
      // A custom type error: zod would also run the length check on a string ("expected string to have <=4 characters").
      .array(z.string().min(1).max(300), {
        error: (issue) =>
          issue.code === "invalid_type" ? "a list of '<provider>/<model>' names, e.g. [\"anthropic/claude-sonnet-4\"]" : undefined,
      })
      .refine((list) => list.length <= 4, { error: "at most 4 models to fail over to" })
      .optional()
      .openapi({ description: "Models ('<provider>/<model>') to fail over to, in order, when the one before fails before its first byte" }),
    user: z.string().max(256).optional(),
    tools: unsupported("tools"),
    functions: unsupported("functions"),
    // Passed on to the provider where it takes them (providers/chat-options.ts), else refused naming the field.
    stop: z.union([StopText, z.array(StopText).max(4)]).nullish(),
    seed: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    presence_penalty: z.number().min(-2).max(2).nullish(),
    frequency_penalty: z.number().min(-2).max(2).nullish(),
    response_format: ResponseFormat.nullish(),
    // Refused wherever they would change the answer.
    logprobs: refusedUnless("logprobs", (v) => v === false),
    top_logprobs: refusedUnless("top_logprobs"),
    logit_bias: refusedUnless("logit_bias"),
    modalities: refusedUnless("modalities other than ['text']", (v) => Array.isArray(v) && v.length === 1 && v[0] === "text"),
    audio: refusedUnless("audio output"),
    tool_choice: refusedUnless("tool_choice (tools are not supported)", (v) => v === "none"),
    reasoning_effort: refusedUnless("reasoning_effort"),
    verbosity: refusedUnless("verbosity"),
    web_search_options: refusedUnless("web_search_options"),
    prediction: refusedUnless("prediction"),
  })
  .openapi("ChatCompletionRequest");

export const SpeechBody = z
  .object({
    model: z.string().min(1).max(300).openapi({ example: "elevenlabs/eleven_flash_v2_5" }),
    input: z.string().min(1).max(5000),
    voice: z.union([VoiceId, z.object({ id: VoiceId })]),
    response_format: z.enum(AUDIO_FORMATS).optional().openapi({
      description: "Default mp3. OpenAI's mp3, opus, aac, flac, wav, pcm (24 kHz) — and ulaw, alaw — as /v1/synthesize serves them",
    }),
    // Passed on where the provider has the knob, in its own field and range (TtsAdapter.speed, .instructions);
    // refused naming the field and that range elsewhere (src/providers/speech-options.ts).
    speed: z
      .number({ error: "a number from 0.25 to 4.0" })
      .min(0.25, { error: "at least 0.25 (OpenAI's range is 0.25–4.0; each provider takes its own part of it)" })
      .max(4, { error: "at most 4.0 (OpenAI's range is 0.25–4.0; each provider takes its own part of it)" })
      .nullish()
      .openapi({
        description:
          "1.0 (default) is the normal pace. Passed on where the provider has a speaking rate, within its own range; a provider without one, or a speed outside its range, is 400 naming the range",
      }),
    instructions: z
      .string()
      .max(4096)
      .nullish()
      .openapi({ description: "How to speak: OpenAI's gpt-4o-mini-tts only (400 for tts-1 and other providers)" }),
    stream_format: z.literal("audio", { error: "only stream_format 'audio' is supported" }).optional(),
  })
  .openapi("SpeechRequest");

export const TRANSCRIPTION_FORMATS = ["json", "text", "srt", "verbose_json", "vtt"] as const;

export const TranscriptionOptions = z.object({
  model: z.string().min(1).max(300),
  response_format: z.enum(TRANSCRIPTION_FORMATS).optional(),
  language: z.string().min(1).max(32).optional(),
  // A form sends "true"/"false"; JSON a boolean. Streamed transcript events are not served: refused, not ignored.
  stream: z
    .union([z.boolean(), z.enum(["true", "false"])])
    .optional()
    .refine((v) => v !== true && v !== "true", {
      error: "streamed transcription is not supported by this gateway: leave stream out (or false) for one answer",
    }),
  timestamp_granularities: z
    .array(z.enum(["word", "segment"]))
    .max(2)
    .optional(),
  // Passed to the providers that take them (OpenAI, Groq); refused for the others (src/gateway/transcribe.ts).
  prompt: z.string().min(1).max(4096).optional(),
  // A form sends a string.
  temperature: z
    .union([
      z.number(),
      z
        .string()
        .trim()
        .regex(/^\d+(\.\d+)?$/, "a number")
        .transform(Number),
    ])
    .pipe(z.number().min(0).max(1))
    .optional(),
  // What no provider here gives: refused, not ignored.
  include: z.never({ error: "log probabilities are not supported by this gateway: leave include out" }).optional(),
  chunking_strategy: z.never({ error: "chunking is not supported by this gateway: leave chunking_strategy out" }).optional(),
});

export const TranscriptionForm = z.object({
  // Either may be sent (transcribeInput requires one): the validator must not refuse a form with audioUrl only.
  file: z.any().optional().openapi({ type: "string", format: "binary" }),
  audioUrl: z.string().optional().openapi({ description: "Voxgate's addition: instead of file, https to a public host" }),
  model: z.string().openapi({ example: "groq/whisper-large-v3-turbo" }),
  language: z.string().optional(),
  response_format: z.string().optional().openapi({ description: "json (default), text, srt, verbose_json or vtt" }),
  "timestamp_granularities[]": z
    .union([z.string(), z.array(z.string())])
    .optional()
    .openapi({
      description: "word and/or segment, with verbose_json: forwarded (OpenAI whisper, Groq) or from the provider's own word timings",
    }),
  prompt: z.string().optional().openapi({ description: "Passed to OpenAI and Groq; 400 (param prompt) for providers that take none" }),
  temperature: z
    .string()
    .optional()
    .openapi({ description: "0–1; passed to OpenAI and Groq; 400 (param temperature) for providers that take none" }),
});

export const ModelObject = z
  .object({ id: z.string(), object: z.literal("model"), created: z.number(), owned_by: z.string() })
  .openapi("Model");

export const ModelList = z
  .object({
    object: z.literal("list"),
    data: z.array(ModelObject),
  })
  .openapi("ModelList");

export function messageText(content: z.infer<typeof OpenAiMessage>["content"]): string {
  return typeof content === "string" ? content : content.map((p) => p.text).join("\n");
}
