// The OpenAI-compatible surface (API.md §4): POST /v1/chat/completions, /v1/audio/speech,
// /v1/audio/transcriptions and GET /v1/models, so the official `openai` SDK works with a Voxgate key.
// Requests are translated into the pipeline's inputs and run through the same gateway path as the
// native routes (auth, BYOK, metering, rate limits, headers); openai-shapes.ts renders the answers.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv, Ctx } from "../context";
import { chat, settleChat, synthesize, transcribe, type TranscribeInput } from "../gateway/pipeline";
import { base64ToBytes } from "../base64";
import { admit, IdempotentReplay } from "../metering/admit";
import { idempotencyFor } from "../metering/idempotency";
import { AUDIO_FORMATS, type ChatMessage, type SttResult } from "../providers/types";
import { sseResponse, transcribeInput } from "./gateway";
import { admitted } from "./middleware";
import {
  chatCompletion,
  completionChunks,
  parseModel,
  servableModels,
  transcriptionBody,
  type TranscriptionFormat,
} from "./openai-shapes";
import { errors, security } from "./schemas";
import { validationError } from "./validation";

const GATEWAY_ERRORS = [400, 401, 402, 409, 413, 415, 422, 429, 502, 504] as const;

/** Gateway options OpenAI has and the pipeline does not: refused rather than silently ignored. */
const unsupported = (what: string) =>
  z
    .any()
    .refine((v) => v === undefined, { error: `${what} is not supported by this gateway` })
    .optional()
    .openapi({ description: "Not supported" });

const ContentPart = z.object({ type: z.literal("text"), text: z.string().max(200_000) });

const Message = z.object({
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
    messages: z.array(Message).min(1).max(500),
    temperature: z.number().min(0).max(2).nullish(),
    max_tokens: z.number().int().min(1).max(128_000).nullish(),
    max_completion_tokens: z.number().int().min(1).max(128_000).nullish(),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
    n: z.literal(1, { error: "only n=1 is supported" }).nullish(),
    user: z.string().max(256).optional(),
    tools: unsupported("tools"),
    functions: unsupported("functions"),
  })
  .openapi("ChatCompletionRequest");

const OPENAI_VOICES = new Set(["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse", "marin", "cedar"]);

export const SpeechBody = z
  .object({
    model: z.string().min(1).max(300).openapi({ example: "elevenlabs/eleven_flash_v2_5" }),
    input: z.string().min(1).max(5000),
    voice: z.union([z.string().min(1).max(200), z.object({ id: z.string().min(1).max(200) })]),
    response_format: z.enum(AUDIO_FORMATS).optional().openapi({ description: "Default mp3 (aac and flac are not offered)" }),
    speed: z.literal(1, { error: "only speed 1.0 is supported" }).optional(),
    instructions: unsupported("instructions"),
    stream_format: z.literal("audio", { error: "only stream_format 'audio' is supported" }).optional(),
  })
  .openapi("SpeechRequest");

const TranscriptionOptions = z.object({
  model: z.string().min(1).max(300),
  response_format: z.enum(["json", "text", "verbose_json"]).optional(),
  language: z.string().min(1).max(32).optional(),
});

const TranscriptionForm = z.object({
  file: z.any().openapi({ type: "string", format: "binary" }),
  model: z.string().openapi({ example: "groq/whisper-large-v3-turbo" }),
  language: z.string().optional(),
  response_format: z.string().optional().openapi({ description: "json (default), text or verbose_json" }),
});

const ModelList = z
  .object({ object: z.literal("list"), data: z.array(z.object({ id: z.string(), object: z.literal("model"), created: z.number(), owned_by: z.string() })) })
  .openapi("ModelList");

const IdempotencyHeader = z.object({ "idempotency-key": z.string().min(1).max(255).optional() });
const json = <T extends z.ZodType>(schema: T) => ({ "application/json": { schema } });

function messageText(content: z.infer<typeof Message>["content"]): string {
  return typeof content === "string" ? content : content.map((p) => p.text).join("\n");
}

async function chatCompletions(c: Ctx, body: z.infer<typeof ChatCompletionBody>): Promise<Response> {
  const { provider, model } = parseModel(body.model);
  const messages: ChatMessage[] = body.messages.map((m) => ({ role: m.role === "developer" ? "system" : m.role, content: messageText(m.content) }));
  const stream = body.stream === true;
  const out = await chat(
    c,
    {
      provider,
      model,
      messages,
      temperature: body.temperature ?? undefined,
      maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
      stream,
    },
    await idempotencyFor(c, body),
    completionChunks(body.model, body.stream_options?.include_usage === true),
  );
  if (out.kind === "json") {
    const completion = chatCompletion(body.model, out.result);
    settleChat(c, out.model, out.result, completion);
    return c.json(completion, 200);
  }
  return sseResponse(out.body);
}

function speech(c: Ctx, body: z.infer<typeof SpeechBody>, idem: Awaited<ReturnType<typeof idempotencyFor>>) {
  const { provider, model } = parseModel(body.model);
  const voice = typeof body.voice === "string" ? body.voice : body.voice.id;
  // SDK code written for OpenAI names an OpenAI voice; another provider speaks in its default voice instead.
  const voiceId = provider !== "openai" && OPENAI_VOICES.has(voice) ? undefined : voice;
  return synthesize(c, { provider, model, text: body.input, voiceId, format: body.response_format }, idem);
}

/** The OpenAI fields of a transcription request, from whichever body transcribeInput read. */
async function transcriptionOptions(c: Ctx) {
  const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  let fields: Record<string, unknown>;
  if (type === "multipart/form-data") {
    fields = Object.fromEntries([...(await c.req.formData()).entries()].filter(([, v]) => typeof v === "string" && v !== ""));
  } else if (type === "application/json") fields = (await c.req.json()) as Record<string, unknown>;
  else fields = c.req.query();
  const parsed = TranscriptionOptions.safeParse(fields);
  if (parsed.success) return parsed.data;
  // Admitted first, as every validation failure is, so a revoked key still gets 401.
  if (!c.var.admission) await admit(c);
  throw validationError(parsed.error.issues);
}

async function transcriptions(c: Ctx): Promise<Response> {
  const audio = await transcribeInput(c);
  const options = await transcriptionOptions(c);
  const { provider, model } = parseModel(options.model);
  const input: TranscribeInput = { ...audio, provider, model, language: options.language };
  const format: TranscriptionFormat = options.response_format ?? "json";
  let result: SttResult;
  try {
    result = await transcribe(c, input, await idempotencyFor(c, { ...input, response_format: format }));
  } catch (e) {
    // A retry with the same Idempotency-Key replays the stored native transcript: render it again.
    if (!(e instanceof IdempotentReplay) || e.result.status !== 200) throw e;
    result = JSON.parse(new TextDecoder().decode(base64ToBytes(e.result.bodyBase64)));
    c.header("idempotent-replayed", "true");
  }
  if (format === "text") return c.text(result.text, 200);
  return c.json(transcriptionBody(result, format, options.language), 200);
}

export function registerOpenAiCompat(app: OpenAPIHono<AppEnv>) {
  // Proxied routes are admitted by the pipeline; the model list only needs a rate-limit token.
  app.use("/v1/models", admitted);

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/chat/completions",
      tags: ["OpenAI-compatible"],
      summary: "OpenAI chat completions (stream with stream_options.include_usage honoured); model '<provider>/<model>'",
      security,
      request: { headers: IdempotencyHeader, body: { content: json(ChatCompletionBody), required: true } },
      responses: {
        200: { description: "A chat.completion object, or with stream:true text/event-stream of chat.completion.chunk events and data: [DONE]" },
        ...errors(...GATEWAY_ERRORS),
      },
    }),
    async (c) => (await chatCompletions(c, c.req.valid("json"))) as never,
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/audio/speech",
      tags: ["OpenAI-compatible"],
      summary: "OpenAI text to speech: the audio bytes, streamed; model '<provider>/<model>' or an OpenAI model",
      security,
      request: { headers: IdempotencyHeader, body: { content: json(SpeechBody), required: true } },
      responses: {
        200: { description: "Audio", content: { "audio/mpeg": { schema: z.any().openapi({ type: "string", format: "binary" }) } } },
        ...errors(...GATEWAY_ERRORS),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      return (await speech(c, body, await idempotencyFor(c, body))) as never;
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/audio/transcriptions",
      tags: ["OpenAI-compatible"],
      summary: "OpenAI speech to text (multipart: file, model, language, response_format json|text|verbose_json)",
      security,
      request: { headers: IdempotencyHeader, body: { content: { "multipart/form-data": { schema: TranscriptionForm } } } },
      responses: { 200: { description: "Transcription (text/plain for response_format=text)" }, ...errors(...GATEWAY_ERRORS) },
    }),
    // The body is read by transcribeInput (as on /v1/transcribe), not by the route validators.
    async (c) => (await transcriptions(c)) as never,
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/models",
      tags: ["OpenAI-compatible"],
      summary: "Every '<provider>/<model>' this deployment serves by name (owned_by = provider id)",
      security,
      responses: { 200: { description: "Models", content: json(ModelList) }, ...errors(401, 429) },
    }),
    (c) => c.json({ object: "list" as const, data: servableModels() }, 200),
  );
}
