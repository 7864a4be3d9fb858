// Fish Audio: POST /v1/tts (JSON; `model` header), POST /v1/asr (multipart), GET /wallet/{user}/api-credit.
// Auth `Authorization: Bearer <key>`; a missing or bad key → 401 with a plain-text body.
// Other errors: JSON {status, message}. Audio format string for mockAudio(): body `format`, default "mp3".
// ASR duration is in seconds (Fish's spec and its live-tested docs; the Python SDK's docstring says
// milliseconds). `language: "mockms"` (one word: Voxgate sends Fish only a tag's first part) makes the mock
// answer in milliseconds, as that docstring claims, so tests can check how such a report is charged.

import { mockAudio, mockDurationSeconds, mockTranscriptFor } from "../audio.mjs";
import { authToken, isInvalidKey, json, mimeFor, rawAudio, text } from "../lib/respond.mjs";
import { mockTone } from "../tone.mjs";

function error(status, message) {
  if (status === 401) return text(message || "Unauthorized", 401);
  return json({ status, message }, status);
}

function auth(ctx) {
  const key = authToken(ctx.headers, "Bearer");
  if (!key) return text("Missing Authorization header", 401);
  if (isInvalidKey(key)) return text("Invalid API key", 401);
  return null;
}

function tts(ctx) {
  const ct = (ctx.contentType || "").toLowerCase();
  if (ct.includes("msgpack")) return error(415, "The mock accepts only application/json TTS requests");
  const b = ctx.json;
  if (!b || typeof b.text !== "string") return json({ status: 422, message: "text: Field required" }, 422);
  const format = b.format || "mp3";
  // pcm (raw 16-bit mono) and wav carry a real tone at sample_rate (Fish's default 44.1 kHz).
  const sampleRate = b.sample_rate ?? 44100;
  const audio =
    format === "pcm" || format === "wav"
      ? mockTone(b.text, { sampleRate, container: format === "wav" ? "wav" : "raw" })
      : mockAudio(b.text, format);
  return rawAudio(audio, mimeFor(format));
}

function asr(ctx) {
  const mp = ctx.multipart;
  if (!mp) return error(400, "Expected multipart/form-data");
  const audio = mp.files.audio;
  if (!audio) return json({ status: 422, message: "audio: Field required" }, 422);
  const transcript = mockTranscriptFor(audio.size);
  const seconds = mockDurationSeconds(audio.size, audio.data);
  const duration = mp.fields.language === "mockms" ? seconds * 1000 : seconds;
  return json({ text: transcript, duration, segments: [{ text: transcript, start: 0, end: seconds }] });
}

function credit(ctx) {
  return json({
    _id: "mock-wallet",
    user_id: ctx.params.user_id === "self" ? "mock-user" : ctx.params.user_id,
    credit: "10.00",
    cumulative_top_up: "10.00",
    created_at: "2025-01-01T00:00:00Z",
    updated_at: "2025-01-01T00:00:00Z",
    has_phone_sha256: false,
    has_free_credit: false,
  });
}

export default {
  id: "fishaudio",
  specId: "fishaudio",
  bases: [{ name: "fishaudio", prefix: "/fishaudio", env: { FISHAUDIO_BASE_URL: "" } }],
  requestIdHeader: "x-request-id",
  auth,
  error,
  routes: [
    ["POST", "/v1/tts", tts],
    ["POST", "/v1/asr", asr],
    ["GET", "/wallet/{user_id}/api-credit", credit],
  ],
};
