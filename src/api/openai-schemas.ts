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
      .array(z.string().min(1).max(300))
      .max(4)
      .optional()
      .openapi({ description: "Models ('<provider>/<model>') to fail over to, in order, when the one before fails before its first byte" }),
    user: z.string().max(256).optional(),
    tools: unsupported("tools"),
    functions: unsupported("functions"),
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
    speed: z.literal(1, { error: "only speed 1.0 is supported" }).optional(),
    instructions: unsupported("instructions"),
    stream_format: z.literal("audio", { error: "only stream_format 'audio' is supported" }).optional(),
  })
  .openapi("SpeechRequest");

export const TranscriptionOptions = z.object({
  model: z.string().min(1).max(300),
  response_format: z.enum(["json", "text", "verbose_json"]).optional(),
  language: z.string().min(1).max(32).optional(),
});

export const TranscriptionForm = z.object({
  // Either may be sent (transcribeInput requires one): the validator must not refuse a form with audioUrl only.
  file: z.any().optional().openapi({ type: "string", format: "binary" }),
  audioUrl: z.string().optional().openapi({ description: "Voxgate's addition: instead of file, https to a public host" }),
  model: z.string().openapi({ example: "groq/whisper-large-v3-turbo" }),
  language: z.string().optional(),
  response_format: z.string().optional().openapi({ description: "json (default), text or verbose_json" }),
});

export const ModelList = z
  .object({
    object: z.literal("list"),
    data: z.array(z.object({ id: z.string(), object: z.literal("model"), created: z.number(), owned_by: z.string() })),
  })
  .openapi("ModelList");

export function messageText(content: z.infer<typeof OpenAiMessage>["content"]): string {
  return typeof content === "string" ? content : content.map((p) => p.text).join("\n");
}
