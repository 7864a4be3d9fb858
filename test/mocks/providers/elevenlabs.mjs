// ElevenLabs: TTS (raw, stream, with-timestamps JSON/NDJSON), STT, key check.
// Auth `xi-api-key`. Key convention extra: a key starting with `noperm` is valid but lacks
// `user_read`: GET /v1/user answers 401 `missing_permissions` (every other endpoint works).

import { MOCK_URL_AUDIO_BYTES, mockAudio, mockDurationSeconds, mockTranscriptFor, splitWords } from "../audio.mjs";
import { base64Pieces, isInvalidKey, json, mimeFor, mockId, ndjson, rawAudio } from "../lib/respond.mjs";
import { mockTone } from "../tone.mjs";

/** pcm_<rate>, ulaw_8000 and alaw_8000 are real audio (a tone, tone.mjs); the codecs keep the byte pattern. */
function speech(text, format) {
  const [codec, rate] = format.split("_");
  const encoding = { pcm: "s16le", ulaw: "mulaw", alaw: "alaw" }[codec];
  return encoding ? mockTone(text, { sampleRate: Number(rate), encoding }) : mockAudio(text, format);
}

const DEFAULT_FORMAT = "mp3_44100_128";
const CHAR_SECONDS = 0.05;

const ERROR_STATUS = {
  400: ["invalid_request", "bad_request"],
  401: ["invalid_api_key", "authentication_error"],
  402: ["payment_required", "payment_required"],
  403: ["forbidden", "authorization_error"],
  404: ["not_found", "not_found"],
  422: ["validation_error", "validation_error"],
  429: ["rate_limit_exceeded", "rate_limit_error"],
  500: ["internal_server_error", "internal_error"],
  503: ["service_unavailable", "service_unavailable"],
};

function error(status, message, opts = {}) {
  const [code, type] = ERROR_STATUS[status] || ["error", "error"];
  const status_ = opts.status ?? code;
  const detail = opts.bare
    ? { status: status_, message }
    : { type, code: opts.code ?? code, message, status: status_, request_id: opts.requestId ?? mockId("req_"), param: opts.param ?? null };
  return json({ detail }, status);
}

function auth(ctx) {
  const key = ctx.headers["xi-api-key"];
  if (!key)
    return error(401, "Neither authorization header nor xi-api-key received, please provide one.", {
      bare: true,
      status: "needs_authorization",
    });
  if (isInvalidKey(key)) return error(401, "Invalid API key", { bare: true, status: "invalid_api_key" });
  return null;
}

/** FastAPI-style 422 for a missing field. */
const missingField = (where, field) =>
  json({ detail: [{ type: "missing", loc: [where, field], msg: "Field required", input: null }] }, 422);

function alignmentFor(text, offsetChars) {
  const characters = [...text];
  return {
    characters,
    character_start_times_seconds: characters.map((_, i) => Math.round((offsetChars + i) * CHAR_SECONDS * 1000) / 1000),
    character_end_times_seconds: characters.map((_, i) => Math.round((offsetChars + i + 1) * CHAR_SECONDS * 1000) / 1000),
  };
}

function tts(ctx, mode) {
  const body = ctx.json;
  if (!body || typeof body.text !== "string") return missingField("body", "text");
  const format = ctx.query.output_format || DEFAULT_FORMAT;
  const audio = speech(body.text, format);
  const headers = {
    "character-cost": String(body.text.length),
    "request-id": ctx.requestId,
    "history-item-id": mockId("hist_"),
    "current-concurrent-requests": "1",
    "maximum-concurrent-requests": "10",
    "tts-latency-ms": "42",
  };
  if (mode === "raw") return rawAudio(audio, mimeFor(format), headers);
  const pieces = base64Pieces(audio, 3);
  if (mode === "json") {
    const alignment = alignmentFor(body.text, 0);
    return json({ audio_base64: pieces.join(""), alignment, normalized_alignment: alignment }, 200, headers);
  }
  // NDJSON: the characters are shared out over the audio pieces.
  const chars = [...body.text];
  const per = Math.ceil(chars.length / pieces.length);
  return ndjson(
    pieces.map((audio_base64, i) => {
      const slice = chars.slice(i * per, (i + 1) * per).join("");
      const alignment = slice ? alignmentFor(slice, i * per) : null;
      return { audio_base64, alignment, normalized_alignment: alignment };
    }),
    headers,
    "application/x-ndjson",
  );
}

function stt(ctx) {
  const mp = ctx.multipart;
  if (!mp) return error(400, "Expected multipart/form-data", { code: "invalid_content_type" });
  if (!mp.fields.model_id) return missingField("body", "model_id");
  const file = mp.files.file;
  const url = mp.fields.source_url || mp.fields.cloud_storage_url;
  if (!file && !url) return error(400, "Either file or source_url must be provided.", { code: "invalid_parameters", param: "file" });
  const bytes = file ? file.size : MOCK_URL_AUDIO_BYTES;
  const text = mockTranscriptFor(bytes);
  const duration = mockDurationSeconds(bytes, file?.data);
  const list = splitWords(text);
  const step = duration / list.length;
  const r = (x) => Math.round(x * 1000) / 1000;
  const words = [];
  list.forEach((w, i) => {
    if (i) words.push({ text: " ", start: r(i * step), end: r(i * step), type: "spacing", speaker_id: "speaker_0", logprob: 0 });
    words.push({ text: w, start: r(i * step), end: r((i + 1) * step), type: "word", speaker_id: "speaker_0", logprob: 0 });
  });
  return json({
    language_code: mp.fields.language_code || "eng",
    language_probability: 0.98,
    text,
    words,
    transcription_id: mockId("tr_"),
    audio_duration_secs: duration,
  });
}

function user(ctx) {
  if (ctx.key.startsWith("noperm")) {
    return error(401, "The API key you used is missing the permission user_read to execute this operation.", {
      bare: true,
      status: "missing_permissions",
    });
  }
  return json({
    user_id: "mock-user",
    first_name: "Mock",
    is_new_user: false,
    can_use_delayed_payment_methods: false,
    is_onboarding_completed: true,
    is_onboarding_checklist_completed: true,
    created_at: 1735689600,
    seat_type: "workspace_admin",
    subscription: {
      tier: "creator",
      character_count: 0,
      character_limit: 100000,
      max_character_limit_extension: null,
      max_credit_limit_extension: 0,
      can_extend_character_limit: true,
      allowed_to_extend_character_limit: true,
      next_character_count_reset_unix: 1900000000,
      voice_slots_used: 0,
      professional_voice_slots_used: 0,
      professional_voice_slots_used_in_workspace: 0,
      voice_limit: 30,
      voice_add_edit_counter: 0,
      professional_voice_limit: 1,
      can_extend_voice_limit: false,
      can_use_instant_voice_cloning: true,
      can_use_professional_voice_cloning: true,
      current_overage: { amount: "0.00", currency: "usd" },
      status: "active",
    },
  });
}

const VOICES = [
  { voice_id: "21m00Tcm4TlvDq8ikWAM", name: "Rachel", category: "premade" },
  { voice_id: "EXAVITQu4vr4xnSDxMaL", name: "Sarah", category: "premade" },
];

export default {
  id: "elevenlabs",
  specId: "elevenlabs",
  bases: [{ name: "elevenlabs", prefix: "/elevenlabs", env: { ELEVENLABS_BASE_URL: "" } }],
  requestIdHeader: "request-id",
  auth,
  error,
  routes: [
    ["POST", "/v1/text-to-speech/{voice_id}", (ctx) => tts(ctx, "raw")],
    ["POST", "/v1/text-to-speech/{voice_id}/stream", (ctx) => tts(ctx, "raw")],
    ["POST", "/v1/text-to-speech/{voice_id}/with-timestamps", (ctx) => tts(ctx, "json")],
    ["POST", "/v1/text-to-speech/{voice_id}/stream/with-timestamps", (ctx) => tts(ctx, "ndjson")],
    ["POST", "/v1/speech-to-text", stt],
    ["GET", "/v1/user", user],
    [
      "GET",
      "/v1/voices",
      () =>
        json({
          voices: VOICES.map((v) => ({
            ...v,
            labels: {},
            available_for_tiers: [],
            high_quality_base_model_ids: ["eleven_multilingual_v2"],
            settings: null,
          })),
        }),
    ],
  ],
};
