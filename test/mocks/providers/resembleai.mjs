// Resemble AI: synthesis host (POST /synthesize JSON base64, POST /stream raw WAV chunks) and the
// management host (GET /api/v2/voices). Auth `Authorization: Bearer <key>`; the management host also
// accepts `Authorization: Token token=<key>`. Errors {success: false, message}.
// Audio format string for mockAudio(): `output_format` (default "wav"); /stream always "wav".
// `duration` of a synthesis = mockDurationSeconds(audio bytes) (bytes / 1000).

import { mockAudio, mockDurationSeconds } from "../audio.mjs";
import { authToken, base64Pieces, isInvalidKey, json, mimeFor, rawAudio } from "../lib/respond.mjs";
import { mockTone } from "../tone.mjs";

/** WAV is a real tone (16-bit unless precision says MULAW) at sample_rate, default 22.05 kHz. */
function wavTone(b, streamed) {
  const encoding = b.precision === "MULAW" ? "mulaw" : "s16le";
  return mockTone(b.data, { sampleRate: Number(b.sample_rate) || 22050, encoding, container: "wav", streamed });
}

function error(status, message) {
  return json({ success: false, message }, status);
}

function auth(ctx) {
  let key = authToken(ctx.headers, "Bearer");
  if (!key && ctx.base === "resembleai-mgmt") {
    const m = /^Token\s+token=("?)(.+)\1$/i.exec(ctx.headers.authorization || "");
    key = m ? m[2] : null;
  }
  if (!key) return error(401, "Missing API token. Provide it as Authorization: Bearer <token>.");
  if (isInvalidKey(key)) return error(401, "Invalid API token");
  return null;
}

/** `data`: /stream "max 2000 characters", /synthesize "max 3,000 characters" (the spec). */
function input(ctx, maxChars) {
  const b = ctx.json;
  if (!b || typeof b.voice_uuid !== "string") return { fail: error(400, "voice_uuid is required") };
  if (typeof b.data !== "string") return { fail: error(400, "data is required") };
  if ([...b.data].length > maxChars) return { fail: error(400, `data exceeds the maximum of ${maxChars} characters`) };
  return { b };
}

function synthesize(ctx) {
  const { b, fail } = input(ctx, 3000);
  if (fail) return fail;
  const format = b.output_format || "wav";
  const audio = format === "wav" ? wavTone(b, false) : mockAudio(b.data, format);
  return json({
    success: true,
    audio_content: base64Pieces(audio, 1).join(""),
    audio_timestamps: { graph_chars: [], graph_times: [], phon_chars: [], phon_times: [] },
    duration: mockDurationSeconds(audio.length),
    synth_duration: 0.1,
    output_format: format,
    sample_rate: Number(b.sample_rate) || 22050,
    issues: [],
  });
}

function stream(ctx) {
  const { b, fail } = input(ctx, 2000);
  if (fail) return fail;
  // Chunked WAV whose header carries the unknown size 0xFFFFFFFF (providers.md).
  return rawAudio(wavTone(b, true), mimeFor("wav"));
}

function voices(ctx) {
  const page = Number(ctx.query.page) || 1;
  const pageSize = Number(ctx.query.page_size) || 10;
  return json({
    success: true,
    page,
    num_pages: 1,
    page_size: pageSize,
    items:
      page === 1
        ? [
            {
              uuid: "55592656",
              name: "Mock Voice",
              status: "finished",
              default_language: "en-US",
              voice_type: "professional",
              supported_languages: ["en-US"],
              source: "Resemble",
            },
          ]
        : [],
  });
}

export default {
  id: "resembleai",
  specId: "resembleai",
  bases: [
    { name: "resembleai", prefix: "/resembleai", env: { RESEMBLEAI_BASE_URL: "" } },
    { name: "resembleai-mgmt", prefix: "/resembleai-mgmt", env: { RESEMBLEAI_MANAGEMENT_BASE_URL: "" } },
  ],
  requestIdHeader: "x-request-id",
  auth,
  error,
  routes: [
    ["POST", "/synthesize", synthesize, { base: "resembleai" }],
    ["POST", "/stream", stream, { base: "resembleai" }],
    ["GET", "/api/v2/voices", voices, { base: "resembleai-mgmt" }],
  ],
};
