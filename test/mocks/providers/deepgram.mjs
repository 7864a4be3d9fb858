// Deepgram: POST /v1/listen (raw audio body or JSON {url}), POST /v1/speak, GET /v1/projects.
// Auth `Authorization: Token <key>` (a JWT as `Bearer` is accepted too, as the API does).
// JSON {url} input counts as 5000 bytes of audio. Audio format string for mockAudio(): the
// `encoding` query parameter, default "mp3" (the spec's default).

import { MOCK_URL_AUDIO_BYTES, mockAudio, mockDurationSeconds, mockTranscriptFor, mockWordTimings } from "../audio.mjs";
import { authToken, isInvalidKey, json, mimeFor, rawAudio } from "../lib/respond.mjs";
import { mockTone } from "../tone.mjs";

const TONE_ENCODINGS = { linear16: "s16le", mulaw: "mulaw", alaw: "alaw" };

/** linear16, mulaw and alaw are a real tone (WAV unless container=none; rate from sample_rate); the rest the byte pattern. */
function speech(text, query) {
  const encoding = TONE_ENCODINGS[query.encoding || "mp3"];
  if (!encoding) return mockAudio(text, query.encoding || "mp3");
  const sampleRate = Number(query.sample_rate) || (encoding === "s16le" ? 24000 : 8000);
  return mockTone(text, { sampleRate, encoding, container: (query.container || "wav") === "wav" ? "wav" : "raw" });
}

const ERROR_CODES = {
  400: "Bad Request",
  401: "INVALID_AUTH",
  402: "ASR_PAYMENT_REQUIRED",
  403: "INSUFFICIENT_PERMISSIONS",
  404: "NOT_FOUND",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "TOO_MANY_REQUESTS",
  500: "INTERNAL_SERVER_ERROR",
  503: "SERVICE_UNAVAILABLE",
};

function error(status, message, opts = {}, ctx) {
  return json(
    {
      err_code: opts.code ?? ERROR_CODES[status] ?? "ERROR",
      err_msg: message,
      request_id: ctx?.requestId ?? globalThis.crypto.randomUUID(),
    },
    status,
  );
}

function auth(ctx) {
  const key = authToken(ctx.headers, "Token") ?? authToken(ctx.headers, "Bearer");
  if (!key || isInvalidKey(key)) return error(401, "Invalid credentials.", {}, ctx);
  return null;
}

function listen(ctx) {
  const ct = (ctx.contentType || "").toLowerCase();
  let bytes;
  if (ct.includes("json")) {
    if (!ctx.json || typeof ctx.json.url !== "string") return error(400, 'Invalid JSON body: expected {"url": "..."}', {}, ctx);
    bytes = MOCK_URL_AUDIO_BYTES;
  } else if (/^(audio\/|video\/|application\/octet-stream)/.test(ct) || ct === "") {
    bytes = ctx.rawBody.length;
    if (!bytes) return error(400, "Bad Request: failed to process audio: corrupt or unsupported data", {}, ctx);
  } else {
    return error(415, `Unsupported content type: ${ct}`, {}, ctx);
  }
  const transcript = mockTranscriptFor(bytes);
  const duration = mockDurationSeconds(bytes, ct.includes("json") ? undefined : ctx.rawBody);
  const words = mockWordTimings(transcript, duration).map((w) => ({ ...w, confidence: 0.99, punctuated_word: w.word }));
  const model = ctx.query.model || "base-general";
  return json({
    metadata: {
      transaction_key: "deprecated",
      request_id: ctx.requestId,
      sha256: "0".repeat(64),
      created: new Date().toISOString(),
      duration,
      channels: 1,
      models: ["00000000-0000-4000-8000-000000000000"],
      model_info: { "00000000-0000-4000-8000-000000000000": { name: model, version: "mock", arch: model.split("-")[0] } },
    },
    results: { channels: [{ alternatives: [{ transcript, confidence: 0.99, words }] }] },
  });
}

/** /v1/speak's input text limit (developers.deepgram.com/docs/text-to-speech): Aura-2 1,000 characters, Aura-1 2,000 → 422. */
const speakTextLimit = (model) => ((model || "aura-asteria-en").startsWith("aura-2") ? 1000 : 2000);

function speak(ctx) {
  const b = ctx.json;
  if (!b || typeof b.text !== "string") return error(400, 'Invalid JSON body: expected {"text": "..."}', {}, ctx);
  const limit = speakTextLimit(ctx.query.model);
  if ([...b.text].length > limit) return error(422, `Input text exceeds maximum character limit of ${limit}.`, {}, ctx);
  const encoding = ctx.query.encoding || "mp3";
  const container = ctx.query.container ?? (TONE_ENCODINGS[encoding] ? "wav" : undefined);
  const type = container === "wav" ? "audio/wav" : container === "ogg" ? "audio/ogg" : mimeFor(encoding);
  return rawAudio(speech(b.text, ctx.query), type, {
    "dg-request-id": ctx.requestId,
    "dg-char-count": String(b.text.length),
    "dg-model-name": ctx.query.model || "aura-asteria-en",
  });
}

export default {
  id: "deepgram",
  specId: "deepgram",
  bases: [{ name: "deepgram", prefix: "/deepgram", env: { DEEPGRAM_BASE_URL: "" } }],
  requestIdHeader: "dg-request-id",
  newRequestId: () => globalThis.crypto.randomUUID(),
  auth,
  error,
  routes: [
    ["POST", "/v1/listen", listen],
    ["POST", "/v1/speak", speak],
    ["GET", "/v1/projects", () => json({ projects: [{ project_id: "00000000-0000-4000-8000-00000000beef", name: "Mock project" }] })],
  ],
};
