// The OpenAI-compatible surface (API.md §4): POST /v1/chat/completions, /v1/audio/speech,
// /v1/audio/transcriptions and GET /v1/models, so the official `openai` SDK works with a Voxgate key.
// Requests are translated into the gateway operations' inputs and run through the same path as the
// native routes (auth, BYOK, metering, rate limits, headers); api/openai-shapes.ts renders the answers.
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { GATEWAY_ERRORS, sseResponse } from "../api/gateway";
import { chatInput } from "../api/openai-options";
import { ChatCompletionBody, ModelList, ModelObject, SpeechBody, TranscriptionForm } from "../api/openai-schemas";
import { chatCompletion, completionChunks, parseModel, servableModel, servableModels } from "../api/openai-shapes";
import { timestampsToAsk, transcriptionOptions, transcriptionResponse } from "../api/openai-transcription";
import { BinaryAudio, errors, IdempotencyHeader, json, security } from "../api/schemas";
import { transcribeInput } from "../api/transcribe-input";
import type { AppEnv, Ctx } from "../context";
import { base64ToBytes } from "../encoding/base64";
import { IdempotentReplay } from "../gateway/admission";
import { chat } from "../gateway/chat";
import { idempotencyFor } from "../gateway/idempotency";
import { synthesize } from "../gateway/synthesize";
import { type TranscribeRequest, transcribe } from "../gateway/transcribe";
import { ApiError } from "../http/errors";
import { findProvider } from "../providers/registry";
import type { SttResult } from "../providers/types";

async function chatCompletions(c: Ctx, body: z.infer<typeof ChatCompletionBody>): Promise<Response> {
  const { provider, model } = parseModel(body.model);
  // The caller's own model name goes back in the answer, or, after a failover, the one that served.
  const servedName = (served: string, servedModel: string) =>
    served === provider && servedModel === model ? body.model : `${served}/${servedModel}`;
  const out = await chat(c, chatInput(body, { provider, model }), await idempotencyFor(c, body), {
    render: (result, served, servedModel) => chatCompletion(servedName(served, servedModel), result),
    // Bound to the provider that serves the stream, so every chunk names it (as X-Provider-Used does).
    emit: (served, servedModel) => completionChunks(servedName(served, servedModel), body.stream_options?.include_usage === true),
  });
  return out.kind === "stream" ? sseResponse(out.body) : c.json(out.body, 200);
}

async function speech(c: Ctx, body: z.infer<typeof SpeechBody>) {
  const { provider, model } = parseModel(body.model);
  const voice = typeof body.voice === "string" ? body.voice : body.voice.id;
  // SDK code written for OpenAI names an OpenAI voice; another provider speaks in its default voice instead.
  const openAiVoices = findProvider("openai")?.tts?.voices ?? [];
  const voiceId = provider !== "openai" && openAiVoices.includes(voice) ? undefined : voice;
  const input = {
    provider,
    model,
    text: body.input,
    voiceId,
    format: body.response_format,
    textField: "input",
    // 1 (the normal pace) and empty instructions ask for nothing: the provider's request is as without them.
    speed: body.speed ?? undefined,
    instructions: body.instructions ?? undefined,
  };
  return synthesize(c, input, await idempotencyFor(c, body));
}

async function transcriptions(c: Ctx): Promise<Response> {
  const audio = await transcribeInput(c);
  const options = await transcriptionOptions(c);
  const { provider, model } = parseModel(options.model);
  const timestamps = timestampsToAsk(options, provider, model);
  const input: TranscribeRequest = {
    ...audio,
    provider,
    model,
    language: options.language,
    timestamps,
    prompt: options.prompt,
    temperature: options.temperature,
  };
  const format = options.response_format ?? "json";
  let result: SttResult;
  try {
    result = await transcribe(c, input, await idempotencyFor(c, { ...input, response_format: format }));
  } catch (e) {
    // A retry with the same Idempotency-Key replays the stored native transcript: render it again.
    if (!(e instanceof IdempotentReplay) || e.result.status !== 200) throw e;
    result = JSON.parse(new TextDecoder().decode(base64ToBytes(e.result.bodyBase64)));
    c.header("idempotent-replayed", "true");
    const provider = e.result.headers["x-provider-used"];
    if (provider) c.header("x-provider-used", provider);
  }
  return transcriptionResponse(c, result, options);
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
      summary:
        "OpenAI speech to text (multipart: file, model, language, response_format json|text|srt|verbose_json|vtt, timestamp_granularities[])",
      security,
      request: { headers: IdempotencyHeader, body: { content: { "multipart/form-data": { schema: TranscriptionForm } } } },
      responses: { 200: { description: "Transcription (text/plain for response_format text, srt and vtt)" }, ...errors(...GATEWAY_ERRORS) },
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

  // models.retrieve: the SDK percent-encodes the id's slashes (openai%2Fgpt-4.1-mini); a client that does
  // not sends them as they are, which these two undocumented routes take (ids have up to three parts).
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/models/{model}",
      tags: ["OpenAI-compatible"],
      summary: "One servable model ('<provider>/<model>', its slashes percent-encoded or not), or 404",
      security,
      request: { params: z.object({ model: z.string().openapi({ example: "openai%2Fgpt-4.1-mini" }) }) },
      responses: { 200: { description: "Model", content: json(ModelObject) }, ...errors(401, 404, 429) },
    }),
    (c) => retrieveModel(c, c.req.valid("param").model) as never,
  );
  app.get("/v1/models/:provider/:model", (c) => retrieveModel(c, `${c.req.param("provider")}/${c.req.param("model")}`));
  app.get("/v1/models/:provider/:org/:model", (c) =>
    retrieveModel(c, `${c.req.param("provider")}/${c.req.param("org")}/${c.req.param("model")}`),
  );
}

function retrieveModel(c: Ctx, id: string): Response {
  const found = servableModel(c.get("prices"), id);
  if (found) return c.json(found, 200);
  // OpenAI's own answer for an unknown model, 404 model_not_found — in Voxgate's envelope like every error (the
  // OpenAI paths' error middleware gives it OpenAI's shape).
  const message = `The model '${id.slice(0, 300)}' does not exist or is not served by this gateway (GET /v1/models lists them).`;
  throw new ApiError("model_not_found", message, { fields: [{ path: "model", message: "no such model" }] });
}
