// OpenAI: speech (raw or SSE), transcriptions, chat completions, models. Auth `Authorization: Bearer`.
// Paths are the real ones under https://api.openai.com, i.e. with the /v1 the base URL ends in.

import { countTokens, mockAudio, mockDurationSeconds, mockTranscriptFor, mockWordTimings } from "../audio.mjs";
import { openaiCompatibleChat, openaiModelList } from "../lib/llm.mjs";
import { authToken, base64Pieces, isInvalidKey, json, mimeFor, rawAudio, sse, text } from "../lib/respond.mjs";
import { mockTone } from "../tone.mjs";

/** pcm is 24 kHz 16-bit mono, wav the same with a streamed header (sizes 0xFFFFFFFF): a real tone. */
function speechAudio(input, format) {
  if (format === "pcm") return mockTone(input, { sampleRate: 24000 });
  if (format === "wav") return mockTone(input, { sampleRate: 24000, container: "wav", streamed: true });
  return mockAudio(input, format);
}

const ERROR_TYPES = {
  400: ["invalid_request_error", null],
  401: ["invalid_request_error", "invalid_api_key"],
  403: ["invalid_request_error", "unsupported_country_region_territory"],
  404: ["invalid_request_error", null],
  429: ["requests", "rate_limit_exceeded"],
  500: ["server_error", null],
  503: ["server_error", null],
};

/** OpenAI-style error, also used by Groq. */
export function openaiError(status, message, opts = {}) {
  const [type, code] = ERROR_TYPES[status] || [status >= 500 ? "server_error" : "invalid_request_error", null];
  return json(
    { error: { message, type: opts.type ?? type, param: opts.param ?? null, code: opts.code !== undefined ? opts.code : code } },
    status,
  );
}

function auth(ctx) {
  const key = authToken(ctx.headers, "Bearer");
  if (!key) {
    return openaiError(
      401,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      { code: null },
    );
  }
  if (isInvalidKey(key)) {
    return openaiError(
      401,
      `Incorrect API key provided: ${key.slice(0, 7)}****. You can find your API key at https://platform.openai.com/account/api-keys.`,
      { code: "invalid_api_key" },
    );
  }
  return null;
}

function speech(ctx) {
  const b = ctx.json;
  for (const field of ["model", "input", "voice"]) {
    if (!b || b[field] === undefined)
      return openaiError(400, `Missing required parameter: '${field}'.`, { param: field, code: "missing_required_parameter" });
  }
  const format = b.response_format || "mp3";
  const audio = speechAudio(b.input, format);
  if (b.stream_format === "sse") {
    const events = base64Pieces(audio, 4).map((audio) => ({ data: { type: "speech.audio.delta", audio } }));
    const input_tokens = countTokens(b.input);
    const output_tokens = Math.ceil(audio.length / 64);
    events.push({
      data: { type: "speech.audio.done", usage: { input_tokens, output_tokens, total_tokens: input_tokens + output_tokens } },
    });
    return sse(events);
  }
  return rawAudio(audio, mimeFor(format));
}

function transcription(ctx) {
  const mp = ctx.multipart;
  if (!mp) return openaiError(400, "Invalid Content-Type header (expected multipart/form-data).", {});
  if (!mp.fields.model) return openaiError(400, "you must provide a model parameter", { param: "model" });
  if (!mp.files.file) return openaiError(400, "Missing required parameter: 'file'.", { param: "file", code: "missing_required_parameter" });
  const unnamed = unsupportedFileName(mp.files.file);
  if (unnamed) return unnamed;
  const bytes = mp.files.file.size || 0;
  return transcriptionResponse(mp, bytes, "openai");
}

/** The upload extensions Whisper-style endpoints take: they tell the format by the file name alone. */
const TRANSCRIPTION_EXTENSIONS = ["flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm"];

/**
 * OpenAI (and Groq) refuse an upload whose file name has no supported extension, whatever its bytes or
 * content type (the spec: "an extension-bearing filename"; `.opus`, `.bin` or none is a 400). Shared with Groq.
 */
export function unsupportedFileName(file) {
  const extension = /\.([^.]+)$/.exec(file.filename ?? "")?.[1]?.toLowerCase();
  if (TRANSCRIPTION_EXTENSIONS.includes(extension)) return null;
  const list = TRANSCRIPTION_EXTENSIONS.map((e) => `'${e}'`).join(", ");
  return openaiError(400, `Invalid file format. Supported formats: [${list}]`, { param: "file" });
}

/** Shared with Groq (flavor "groq"). */
export function transcriptionResponse(mp, bytes, flavor, groqId) {
  const transcript = mockTranscriptFor(bytes);
  const duration = mockDurationSeconds(bytes, mp.files.file?.data);
  const format = mp.fields.response_format || "json";
  const granularities = [].concat(mp.fields["timestamp_granularities[]"] ?? mp.fields.timestamp_granularities ?? []);
  const words = mockWordTimings(transcript, duration);
  // gpt-4o-transcribe and gpt-4o-mini-transcribe bill in tokens: ~10 audio tokens a second, the text's tokens out.
  const usage = String(mp.fields.model).startsWith("gpt-4o")
    ? tokenUsage(Math.ceil(duration * 10), countTokens(transcript))
    : { type: "duration", seconds: duration };
  if (format === "text") return text(transcript);
  if (format === "srt" || format === "vtt") {
    const ts = (s, sep) => new Date(s * 1000).toISOString().slice(11, 23).replace(".", sep);
    return format === "srt"
      ? text(`1\n${ts(0, ",")} --> ${ts(duration, ",")}\n${transcript}\n\n`)
      : text(`WEBVTT\n\n${ts(0, ".")} --> ${ts(duration, ".")}\n${transcript}\n\n`, 200, { "content-type": "text/vtt; charset=utf-8" });
  }
  if (format === "verbose_json") {
    const body = {
      task: "transcribe",
      language: mp.fields.language || "english",
      duration,
      text: transcript,
      segments: [
        {
          id: 0,
          seek: 0,
          start: 0,
          end: duration,
          text: transcript,
          tokens: [],
          temperature: 0,
          avg_logprob: -0.1,
          compression_ratio: 1,
          no_speech_prob: 0,
        },
      ],
    };
    if (granularities.includes("word")) body.words = words;
    if (flavor === "openai") body.usage = usage;
    if (flavor === "groq") body.x_groq = { id: groqId };
    return json(body);
  }
  if (flavor === "groq") return json({ text: transcript, x_groq: { id: groqId } });
  return json({ text: transcript, usage });
}

function tokenUsage(audioTokens, outputTokens) {
  return {
    type: "tokens",
    input_tokens: audioTokens,
    input_token_details: { text_tokens: 0, audio_tokens: audioTokens },
    output_tokens: outputTokens,
    total_tokens: audioTokens + outputTokens,
  };
}

export default {
  id: "openai",
  specId: "openai",
  bases: [{ name: "openai", prefix: "/openai", env: { OPENAI_BASE_URL: "/v1" } }],
  requestIdHeader: "x-request-id",
  auth,
  error: openaiError,
  routes: [
    ["POST", "/v1/audio/speech", speech],
    ["POST", "/v1/audio/transcriptions", transcription],
    ["POST", "/v1/chat/completions", (ctx) => openaiCompatibleChat(ctx, "openai")],
    ["GET", "/v1/models", () => openaiModelList(["gpt-4o-mini", "gpt-4o-mini-tts", "whisper-1", "tts-1"], "openai")],
  ],
};
