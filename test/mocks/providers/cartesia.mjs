// Cartesia: POST /tts/bytes (raw), POST /tts/sse, POST /stt, GET /voices.
// Auth `Authorization: Bearer <key>` plus a required `Cartesia-Version` header (missing → 400).
// Errors: JSON {error_code, title, message, request_id} when Cartesia-Version ≥ 2026-03-01,
// plain text for older versions (providers.md: "older versions may answer plain text").
// Audio format string for mockAudio(): output_format.container ("raw" | "wav" | "mp3"), default "raw".

import { mockAudio, mockDurationSeconds, mockTranscriptFor, mockWordTimings, splitWords } from "../audio.mjs";
import { authToken, base64Pieces, isInvalidKey, json, mimeFor, mockId, rawAudio, sse, text } from "../lib/respond.mjs";
import { mockTone } from "../tone.mjs";

const ENCODINGS = { pcm_s16le: "s16le", pcm_f32le: "f32le", pcm_mulaw: "mulaw", pcm_alaw: "alaw" };

/** raw and wav containers carry a real tone in the encoding and at the rate asked for; mp3 the byte pattern. */
function speech(b, container) {
  const encoding = ENCODINGS[b.output_format.encoding];
  if (container === "mp3" || !encoding) return mockAudio(b.transcript, container);
  return mockTone(b.transcript, { sampleRate: b.output_format.sample_rate, encoding, container: container === "wav" ? "wav" : "raw" });
}

const JSON_ERRORS_SINCE = "2026-03-01";

const ERROR_CODES = {
  400: ["invalid_request", "Invalid request"],
  401: ["unauthorized", "Unauthorized"],
  402: ["payment_required", "Payment required"],
  403: ["forbidden", "Forbidden"],
  404: ["not_found", "Not found"],
  429: ["rate_limited", "Too many requests"],
  500: ["internal_error", "Internal server error"],
  503: ["service_unavailable", "Service unavailable"],
};

function error(status, message, opts = {}, ctx) {
  const version = ctx?.headers?.["cartesia-version"] || "";
  if (version && version >= JSON_ERRORS_SINCE) {
    const [error_code, title] = ERROR_CODES[status] || ["error", "Error"];
    return json({ error_code: opts.code ?? error_code, title, message, request_id: ctx?.requestId ?? mockId("req_") }, status);
  }
  return text(message, status);
}

function auth(ctx) {
  const key = authToken(ctx.headers, "Bearer");
  if (!key) return error(401, "Missing Authorization header (expected Authorization: Bearer <api key>)", {}, ctx);
  if (isInvalidKey(key)) return error(401, "Invalid API key", {}, ctx);
  if (!ctx.headers["cartesia-version"]) return error(400, "Cartesia-Version header is required", {}, ctx);
  return null;
}

function ttsBody(ctx) {
  const b = ctx.json;
  for (const f of ["model_id", "transcript", "voice", "output_format"]) {
    if (!b || b[f] === undefined) return { fail: error(400, `${f} is required`, {}, ctx) };
  }
  return { b, container: b.output_format.container || "raw" };
}

function ttsBytes(ctx) {
  const { b, container, fail } = ttsBody(ctx);
  if (fail) return fail;
  return rawAudio(speech(b, container), container === "raw" ? mimeFor(b.output_format.encoding || "pcm") : mimeFor(container));
}

function ttsSse(ctx) {
  const { b, container, fail } = ttsBody(ctx);
  if (fail) return fail;
  if (container !== "raw") return error(400, `output_format.container must be "raw" for SSE, got "${container}"`, {}, ctx);
  const contextId = b.context_id || mockId("ctx_");
  const audio = speech(b, container);
  const events = base64Pieces(audio, 4).map((data) => ({
    event: "chunk",
    data: { type: "chunk", data, done: false, status_code: 206, step_time: 1.5, context_id: contextId },
  }));
  if (b.add_timestamps) {
    const words = mockWordTimings(b.transcript, splitWords(b.transcript).length * 0.3);
    events.push({
      event: "timestamps",
      data: {
        type: "timestamps",
        done: false,
        status_code: 206,
        context_id: contextId,
        word_timestamps: { words: words.map((w) => w.word), start: words.map((w) => w.start), end: words.map((w) => w.end) },
      },
    });
  }
  events.push({ event: "done", data: { type: "done", done: true, status_code: 200, context_id: contextId } });
  return sse(events);
}

function stt(ctx) {
  const mp = ctx.multipart;
  if (!mp) return error(400, "Expected multipart/form-data", {}, ctx);
  if (!mp.files.file) return error(400, "file is required", {}, ctx);
  if (!mp.fields.model) return error(400, "model is required", {}, ctx);
  const bytes = mp.files.file.size;
  const transcript = mockTranscriptFor(bytes);
  const duration = mockDurationSeconds(bytes, mp.files.file.data);
  return json({
    type: "transcript",
    text: transcript,
    duration,
    language: mp.fields.language || "en",
    request_id: ctx.requestId,
    is_final: true,
    words: mockWordTimings(transcript, duration),
  });
}

const VOICES = [
  { id: "a0e99841-438c-4a64-b679-ae501e7d6091", name: "Barbershop Man", language: "en" },
  { id: "694f9389-aac1-45b6-b726-9d9369183238", name: "Sarah", language: "en" },
];

export default {
  id: "cartesia",
  specId: "cartesia",
  bases: [{ name: "cartesia", prefix: "/cartesia", env: { CARTESIA_BASE_URL: "" } }],
  requestIdHeader: "x-request-id",
  auth,
  error,
  routes: [
    ["POST", "/tts/bytes", ttsBytes],
    ["POST", "/tts/sse", ttsSse],
    ["POST", "/stt", stt],
    [
      "GET",
      "/voices",
      () =>
        json({
          data: VOICES.map((v) => ({
            ...v,
            description: "",
            is_owner: false,
            is_public: true,
            created_at: "2025-01-01T00:00:00Z",
            gender: "feminine",
            locales: [{ locale: "en-US", is_native: true }],
          })),
          has_more: false,
          next_page: null,
        }),
    ],
  ],
};
