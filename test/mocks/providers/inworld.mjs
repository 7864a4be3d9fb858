// Inworld: POST /tts/v1/voice (JSON, base64 audio), POST /tts/v1/voice:stream (NDJSON
// {"result":{...}} lines), POST /stt/v1/transcribe, GET /voices/v1/voices.
// Auth `Authorization: Basic <key>` (the key verbatim, not re-encoded). Errors gRPC-style
// {code, message, details: []} (shape unconfirmed in providers.md).
// Audio format string for mockAudio(): audioConfig.audioEncoding, default "MP3" (default unconfirmed).

import { base64ToBytes, mockAudio, mockDurationSeconds, mockTranscriptFor } from "../audio.mjs";
import { authToken, base64Pieces, isInvalidKey, json, ndjson } from "../lib/respond.mjs";
import { mockTone } from "../tone.mjs";

/** PCM (raw), WAV and LINEAR16 (a header once, here), MULAW, ALAW: a real tone at sampleRateHertz (default 48 kHz). */
const TONES = {
  PCM: { encoding: "s16le", container: "raw" },
  WAV: { encoding: "s16le", container: "wav" },
  LINEAR16: { encoding: "s16le", container: "wav" },
  MULAW: { encoding: "mulaw", container: "raw" },
  ALAW: { encoding: "alaw", container: "raw" },
};

// HTTP status → gRPC code
const GRPC = { 400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 429: 8, 499: 1, 500: 13, 501: 12, 503: 14, 504: 4 };

function error(status, message) {
  return json({ code: GRPC[status] ?? 2, message, details: [] }, status);
}

function auth(ctx) {
  const key = authToken(ctx.headers, "Basic");
  if (!key) return error(401, "Unauthenticated: missing Authorization: Basic <key> header");
  if (isInvalidKey(key)) return error(401, "Unauthenticated: invalid authorization credentials");
  return null;
}

function ttsInput(ctx) {
  const b = ctx.json;
  if (!b || typeof b.text !== "string") return { fail: error(400, "text is required") };
  // "Maximum 2,000 characters" (the spec's /tts/v1/voice text; voice:stream takes the same body).
  if ([...b.text].length > 2000) return { fail: error(400, "text must be at most 2000 characters") };
  if (!b.voiceId) return { fail: error(400, "voiceId is required") };
  if (!b.modelId) return { fail: error(400, "modelId is required") };
  const format = b.audioConfig?.audioEncoding || "MP3";
  const tone = TONES[format];
  const sampleRate = b.audioConfig?.sampleRateHertz ?? 48000;
  return { b, audio: tone ? mockTone(b.text, { sampleRate, ...tone }) : mockAudio(b.text, format) };
}

const usageOf = (b) => ({ processedCharactersCount: [...b.text].length, modelId: b.modelId });

function voice(ctx) {
  const { b, audio, fail } = ttsInput(ctx);
  if (fail) return fail;
  return json({ audioContent: base64Pieces(audio, 1).join(""), usage: usageOf(b) });
}

function voiceStream(ctx) {
  const { b, audio, fail } = ttsInput(ctx);
  if (fail) return fail;
  const pieces = base64Pieces(audio, 3);
  return ndjson(
    pieces.map((audioContent, i) => ({ result: i === pieces.length - 1 ? { audioContent, usage: usageOf(b) } : { audioContent } })),
    {},
    "application/json",
  );
}

function transcribe(ctx) {
  const b = ctx.json;
  const content = b?.audioData?.content;
  if (typeof content !== "string") return error(400, "audioData.content is required");
  let audio;
  try {
    audio = base64ToBytes(content);
  } catch {
    return error(400, "audioData.content is not valid base64");
  }
  const bytes = audio.length;
  return json({
    transcription: { transcript: mockTranscriptFor(bytes), isFinal: true, wordTimestamps: [] },
    usage: { transcribedAudioMs: Math.round(mockDurationSeconds(bytes, audio) * 1000), modelId: b.transcribeConfig?.modelId ?? "mock-stt" },
  });
}

export default {
  id: "inworld",
  specId: "inworld",
  bases: [{ name: "inworld", prefix: "/inworld", env: { INWORLD_BASE_URL: "" } }],
  requestIdHeader: "x-request-id",
  auth,
  error,
  routes: [
    ["POST", "/tts/v1/voice", voice],
    ["POST", "/tts/v1/voice:stream", voiceStream],
    ["POST", "/stt/v1/transcribe", transcribe],
    [
      "GET",
      "/voices/v1/voices",
      () => json({ voices: [{ voiceId: "Ashley", displayName: "Ashley", langCode: "EN_US", description: "", tags: [] }] }),
    ],
  ],
};
