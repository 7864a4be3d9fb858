// POST /v1/synthesize, /v1/transcribe, /v1/chat (API.md §4): validate, then the gateway operation.
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import {
  ChatBody,
  chatAnswer,
  chatContent,
  GATEWAY_ERRORS,
  SynthesizeBody,
  speechAudio,
  sseResponse,
  TranscribeForm,
  TranscribeJson,
  TranscriptionSchema,
} from "../api/gateway";
import { BinaryAudio, errors, IdempotencyHeader, json, security } from "../api/schemas";
import { transcribeInput } from "../api/transcribe-input";
import type { AppEnv } from "../context";
import { chat } from "../gateway/chat";
import { idempotencyFor } from "../gateway/idempotency";
import { synthesize } from "../gateway/synthesize";
import { transcribe } from "../gateway/transcribe";

export function registerGateway(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/synthesize",
      tags: ["Gateway"],
      summary: "Text to speech: the audio bytes, streamed as the provider sends them",
      security,
      request: { headers: IdempotencyHeader, body: { content: json(SynthesizeBody), required: true } },
      responses: {
        200: {
          description:
            "Audio, streamed. Content-Type matches the format: audio/mpeg, audio/ogg (opus), audio/aac, audio/flac, audio/wav, " +
            "audio/pcm, audio/basic (8 kHz µ-law; audio/x-mulaw at other rates), audio/x-alaw-basic — or, from a Hugging Face " +
            "model with no format named, the model's own type",
          content: speechAudio({ sampleRate: true }),
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
      summary:
        "Speech to text: multipart upload (file + provider, model, language), the audio bytes themselves (provider, model, language in the query), or JSON with audioUrl",
      security,
      request: {
        headers: IdempotencyHeader,
        body: {
          content: {
            "multipart/form-data": { schema: TranscribeForm },
            ...json(TranscribeJson),
            "audio/*": { schema: BinaryAudio },
            "application/octet-stream": { schema: BinaryAudio },
          },
        },
      },
      responses: { 200: { description: "Transcript", content: json(TranscriptionSchema) }, ...errors(...GATEWAY_ERRORS) },
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
      request: { headers: IdempotencyHeader, body: { content: json(ChatBody), required: true } },
      responses: {
        200: {
          description: "The answer (or, with stream:true, text/event-stream of {type:delta,text} … {type:done,usage})",
          content: chatContent(),
        },
        ...errors(...GATEWAY_ERRORS),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const out = await chat(c, body, await idempotencyFor(c, body), { render: chatAnswer });
      // A JSON answer or an SSE stream: typed as a plain Response.
      return (out.kind === "stream" ? sseResponse(out.body) : c.json(out.body, 200)) as never;
    },
  );
}
