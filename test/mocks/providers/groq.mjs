// Groq: OpenAI-compatible chat (stream usage in the last chunk's x_groq.usage, no usage chunk),
// Whisper transcriptions (json → {text, x_groq:{id}}; verbose_json adds duration, segments),
// models. Paths are the real ones: /openai/v1/... (the base URL ends in /openai/v1).
// `url` instead of a file counts as 5000 bytes of audio.

import { MOCK_URL_AUDIO_BYTES } from "../audio.mjs";
import { openaiCompatibleChat, openaiModelList } from "../lib/llm.mjs";
import { authToken, isInvalidKey, mockId } from "../lib/respond.mjs";
import { openaiError, transcriptionResponse, unsupportedFileName } from "./openai.mjs";

function auth(ctx) {
  const key = authToken(ctx.headers, "Bearer");
  if (!key) return openaiError(401, "Invalid API Key", { type: "invalid_request_error", code: "invalid_api_key" });
  if (isInvalidKey(key)) return openaiError(401, "Invalid API Key", { type: "invalid_request_error", code: "invalid_api_key" });
  return null;
}

function transcription(ctx) {
  const mp = ctx.multipart;
  if (!mp) return openaiError(400, "request Content-Type isn't multipart/form-data", {});
  if (!mp.fields.model) return openaiError(400, "model is required", { param: "model" });
  const file = mp.files.file;
  if (!file && !mp.fields.url) return openaiError(400, "either file or url must be provided", { param: "file" });
  const unnamed = file && unsupportedFileName(file);
  if (unnamed) return unnamed;
  return transcriptionResponse(mp, file ? file.size : MOCK_URL_AUDIO_BYTES, "groq", mockId("req_"));
}

export default {
  id: "groq",
  specId: "groq",
  bases: [{ name: "groq", prefix: "/groq", env: { GROQ_BASE_URL: "/openai/v1" } }],
  requestIdHeader: "x-request-id",
  auth,
  error: (status, message, opts) => openaiError(status, message, opts),
  routes: [
    ["POST", "/openai/v1/chat/completions", (ctx) => openaiCompatibleChat(ctx, "groq")],
    ["POST", "/openai/v1/audio/transcriptions", transcription],
    [
      "GET",
      "/openai/v1/models",
      () => openaiModelList(["llama-3.1-8b-instant", "llama-3.3-70b-versatile", "whisper-large-v3", "whisper-large-v3-turbo"], "Meta"),
    ],
  ],
};
