// The OpenAI-compatible surface (API.md §4): POST /v1/chat/completions, /v1/audio/speech,
// /v1/audio/transcriptions and GET /v1/models, so the official `openai` SDK works with a Voxgate key.
// Requests are translated into the gateway operations' inputs and run through the same path as the
// native routes (auth, BYOK, metering, rate limits, headers); api/openai-shapes.ts renders the answers.
import { createRoute, type OpenAPIHono, type z } from "@hono/zod-openapi";
import { GATEWAY_ERRORS, sseResponse } from "../api/gateway";
import { ChatCompletionBody, ModelList, messageText, SpeechBody, TranscriptionForm, TranscriptionOptions } from "../api/openai-schemas";
import {
  chatCompletion,
  completionChunks,
  parseModel,
  servableModels,
  type TranscriptionFormat,
  transcriptionBody,
} from "../api/openai-shapes";
import { BinaryAudio, errors, IdempotencyHeader, json, security } from "../api/schemas";
import { formOf, transcribeInput } from "../api/transcribe-input";
import { validationError } from "../api/validation";
import type { AppEnv, Ctx } from "../context";
import { base64ToBytes } from "../encoding/base64";
import { IdempotentReplay } from "../gateway/admission";
import { chat } from "../gateway/chat";
import { idempotencyFor } from "../gateway/idempotency";
import { synthesize } from "../gateway/synthesize";
import { type TranscribeRequest, transcribe } from "../gateway/transcribe";
import { mediaType } from "../http/media-type";
import { findProvider } from "../providers/registry";
import type { ChatMessage, SttResult } from "../providers/types";

async function chatCompletions(c: Ctx, body: z.infer<typeof ChatCompletionBody>): Promise<Response> {
  const { provider, model } = parseModel(body.model);
  const messages: ChatMessage[] = body.messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: messageText(m.content),
  }));
  const input = {
    provider,
    model,
    messages,
    temperature: body.temperature ?? undefined,
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
    stream: body.stream === true,
    fallback: (body.models ?? []).filter((m) => m !== body.model).map((m) => parseModel(m, "models")),
  };
  const out = await chat(c, input, await idempotencyFor(c, body), {
    // The caller's own model name goes back in the answer, or, after a failover, the one that served.
    render: (result, served, servedModel) =>
      chatCompletion(served === provider && servedModel === model ? body.model : `${served}/${servedModel}`, result),
    emit: completionChunks(body.model, body.stream_options?.include_usage === true),
  });
  return out.kind === "stream" ? sseResponse(out.body) : c.json(out.body, 200);
}

async function speech(c: Ctx, body: z.infer<typeof SpeechBody>) {
  const { provider, model } = parseModel(body.model);
  const voice = typeof body.voice === "string" ? body.voice : body.voice.id;
  // SDK code written for OpenAI names an OpenAI voice; another provider speaks in its default voice instead.
  const openAiVoices = findProvider("openai")?.tts?.voices ?? [];
  const voiceId = provider !== "openai" && openAiVoices.includes(voice) ? undefined : voice;
  return synthesize(c, { provider, model, text: body.input, voiceId, format: body.response_format }, await idempotencyFor(c, body));
}

/** The OpenAI fields of a transcription request, from whichever body transcribeInput read. */
async function transcriptionOptions(c: Ctx) {
  const type = mediaType(c.req.header("content-type"));
  let fields: Record<string, unknown>;
  if (type === "multipart/form-data") {
    fields = Object.fromEntries([...(await formOf(c)).entries()].filter(([, v]) => typeof v === "string" && v !== ""));
  } else if (type === "application/json") fields = (await c.req.json()) as Record<string, unknown>;
  else fields = c.req.query();
  const parsed = TranscriptionOptions.safeParse(fields);
  if (!parsed.success) throw validationError(parsed.error.issues);
  return parsed.data;
}

async function transcriptions(c: Ctx): Promise<Response> {
  const audio = await transcribeInput(c);
  const options = await transcriptionOptions(c);
  const { provider, model } = parseModel(options.model);
  const input: TranscribeRequest = { ...audio, provider, model, language: options.language };
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
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/chat/completions",
      tags: ["OpenAI-compatible"],
      summary: "OpenAI chat completions (stream with stream_options.include_usage honoured); model '<provider>/<model>'",
      security,
      request: { headers: IdempotencyHeader, body: { content: json(ChatCompletionBody), required: true } },
      responses: {
        200: {
          description: "A chat.completion object, or with stream:true text/event-stream of chat.completion.chunk events and data: [DONE]",
        },
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
      responses: { 200: { description: "Audio", content: { "audio/mpeg": { schema: BinaryAudio } } }, ...errors(...GATEWAY_ERRORS) },
    }),
    async (c) => (await speech(c, c.req.valid("json"))) as never,
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
    (c) => c.json({ object: "list" as const, data: servableModels(c.get("prices")) }, 200),
  );
}
