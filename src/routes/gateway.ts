// POST /v1/synthesize, /v1/transcribe, /v1/chat (API.md §4): validate, then the gateway pipeline.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv, Ctx } from "../context";
import { chat, settleChat, synthesize, transcribe, type ChatRequestInput, type TranscribeInput } from "../gateway/pipeline";
import { ApiError } from "../http/errors";
import { idempotencyFor } from "../metering/idempotency";
import { admit } from "../metering/admit";
import { AUDIO_FORMATS } from "../providers/types";
import { errors, security } from "./schemas";
import { validationError } from "./validation";

const GATEWAY_ERRORS = [400, 401, 402, 409, 413, 415, 422, 429, 502, 504] as const;

export const SynthesizeBody = z
  .object({
    text: z.string().min(1).max(5000),
    provider: z.string().min(1).max(64).optional(),
    voiceId: z.string().min(1).max(200).optional(),
    model: z.string().min(1).max(200).optional(),
    format: z.enum(AUDIO_FORMATS).optional().openapi({ description: "Default mp3" }),
    sampleRate: z.number().int().min(8000).max(48000).optional(),
  })
  .openapi("SynthesizeRequest");

export const ChatMessageSchema = z.object({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string().max(200_000),
});

export const ChatBody = z
  .object({
    provider: z.string().min(1).max(64).optional(),
    model: z.string().min(1).max(200),
    messages: z.array(ChatMessageSchema).min(1).max(500),
    system: z.string().max(100_000).optional(),
    temperature: z.number().min(0).max(2).optional(),
    maxTokens: z.number().int().min(1).max(128_000).optional(),
    stream: z.boolean().optional(),
  })
  .openapi("ChatRequest");

const TranscribeJson = z
  .object({
    audioUrl: z.url({ protocol: /^https?$/ }),
    provider: z.string().min(1).max(64).optional(),
    model: z.string().min(1).max(200).optional(),
    language: z.string().min(1).max(32).optional(),
  })
  .openapi("TranscribeUrlRequest");

const TranscribeForm = z.object({
  file: z.any().openapi({ type: "string", format: "binary" }),
  provider: z.string().optional(),
  model: z.string().optional(),
  language: z.string().optional(),
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

const IdempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(255).optional().openapi({ description: "Retries with the same key and body are never charged twice" }),
});

/** A stream answered as SSE; the pipeline settles its credits when it ends. */
export function sseResponse(body: ReadableStream<Uint8Array>): Response {
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" },
  });
}

export async function chatResponse(c: Ctx, input: ChatRequestInput, idem?: Awaited<ReturnType<typeof idempotencyFor>>) {
  const out = await chat(c, input, idem);
  if (out.kind === "stream") {
    return sseResponse(out.body);
  }
  const body = {
    success: true as const,
    provider: out.provider,
    model: out.model,
    message: { role: "assistant" as const, content: out.result.content },
    usage: out.result.usage,
  };
  settleChat(c, out.model, out.result, body);
  return c.json(body, 200);
}

/** Read a transcription request: multipart (file + fields), raw audio, or JSON with audioUrl. */
export async function transcribeInput(c: Ctx): Promise<TranscribeInput> {
  const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type === "multipart/form-data") {
    let form: FormData;
    try {
      form = await c.req.formData();
    } catch {
      throw new ApiError("bad_request", "The multipart body could not be read.");
    }
    const file = form.get("file") as unknown;
    const field = (name: string) => {
      const v = form.get(name);
      return typeof v === "string" && v.length > 0 ? v : undefined;
    };
    const audioUrl = field("audioUrl");
    if (!(file instanceof File) && !audioUrl) throw await failValidation(c, [{ path: ["file"], message: "Required: an audio file (or audioUrl)" }]);
    return {
      audio: file instanceof File ? { data: file, filename: file.name || "audio", contentType: file.type || "application/octet-stream" } : undefined,
      audioUrl: file instanceof File ? undefined : audioUrl,
      provider: field("provider"),
      model: field("model"),
      language: field("language"),
    };
  }
  if (type === "application/json") {
    let json: unknown;
    try {
      json = await c.req.json();
    } catch {
      throw new ApiError("invalid_json", "The body is not valid JSON.");
    }
    const parsed = TranscribeJson.safeParse(json);
    if (!parsed.success) throw await failValidation(c, parsed.error.issues);
    return parsed.data;
  }
  if (type.startsWith("audio/") || type === "application/octet-stream") {
    const data = await c.req.blob();
    if (data.size === 0) throw await failValidation(c, [{ path: ["body"], message: "Empty audio body" }]);
    return { audio: { data, filename: "audio", contentType: type }, provider: c.req.query("provider"), model: c.req.query("model"), language: c.req.query("language") };
  }
  throw new ApiError("unsupported_media_type", "Send multipart/form-data, audio bytes, or application/json with audioUrl.");
}

/** Validation failures found outside zod-openapi: admitted first, so a revoked key still gets 401. */
async function failValidation(c: Ctx, issues: { path: PropertyKey[]; message: string }[]) {
  if (!c.var.admission) await admit(c);
  return validationError(issues);
}

export function registerGateway(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/synthesize",
      tags: ["Gateway"],
      summary: "Text to speech: the audio bytes, streamed as the provider sends them",
      security,
      request: { headers: IdempotencyHeader, body: { content: { "application/json": { schema: SynthesizeBody } }, required: true } },
      responses: {
        200: {
          description: "Audio (Content-Type matches the format: audio/mpeg, audio/wav, audio/pcm, audio/ogg, audio/basic)",
          content: { "audio/mpeg": { schema: z.any().openapi({ type: "string", format: "binary" }) } },
        },
        ...errors(...GATEWAY_ERRORS),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      return synthesize(c, body, await idempotencyFor(c, body));
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/transcribe",
      tags: ["Gateway"],
      summary: "Speech to text: multipart upload (file + provider, model, language) or JSON with audioUrl",
      security,
      request: {
        headers: IdempotencyHeader,
        body: {
          content: { "multipart/form-data": { schema: TranscribeForm }, "application/json": { schema: TranscribeJson } },
        },
      },
      responses: { 200: { description: "Transcript", content: { "application/json": { schema: TranscriptionSchema } } }, ...errors(...GATEWAY_ERRORS) },
    }),
    // The body is read by transcribeInput (multipart, raw audio or JSON), not by the route validators.
    async (c) => {
      const input = await transcribeInput(c);
      return c.json(await transcribe(c, input, await idempotencyFor(c, input)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/chat",
      tags: ["Gateway"],
      summary: "Chat with an LLM; with stream:true an SSE stream of delta events ending with a done event",
      security,
      request: { headers: IdempotencyHeader, body: { content: { "application/json": { schema: ChatBody } }, required: true } },
      responses: {
        200: {
          description: "The answer (or, with stream:true, text/event-stream of {type:delta,text} … {type:done,usage})",
          content: { "application/json": { schema: ChatResponseSchema } },
        },
        ...errors(...GATEWAY_ERRORS),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      // A JSON answer or an SSE stream: typed as a plain Response.
      return (await chatResponse(c, body, await idempotencyFor(c, body))) as never;
    },
  );
}
