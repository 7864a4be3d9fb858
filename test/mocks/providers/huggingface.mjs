// Hugging Face: router (POST /v1/chat/completions, POST /hf-inference/models/{model_id...}) and the
// Hub (GET /api/whoami-v2). Auth `Authorization: Bearer <token>`; bad token → 401
// {"error":"Invalid credentials in Authorization header"}. Other errors {error: string}.
// hf-inference: JSON {"inputs": text} → TTS: the model picks the format, always a 16 kHz tone (tone.mjs):
//               FLAC (audio/flac) by default; WAV for a model whose name ends in "-wav"; for one ending in
//               "-mp3", MP3 (mockAudio format "mp3", audio/mpeg). Any other body → ASR of the raw bytes → {text}.

import { mockAudio, mockTranscriptFor } from "../audio.mjs";
import { openaiCompatibleChat } from "../lib/llm.mjs";
import { authToken, isInvalidKey, json, rawAudio } from "../lib/respond.mjs";
import { mockTone } from "../tone.mjs";

function error(status, message) {
  return json({ error: message }, status);
}

function auth(ctx) {
  const key = authToken(ctx.headers, "Bearer");
  if (!key || isInvalidKey(key)) return error(401, "Invalid credentials in Authorization header");
  return null;
}

function inference(ctx) {
  const ct = (ctx.contentType || "").toLowerCase();
  if (ct.includes("json")) {
    const b = ctx.json;
    if (!b || typeof b.inputs !== "string") return error(400, "Input should be a valid string: inputs");
    const model = String(ctx.params.model_id);
    const headers = { "x-compute-type": "cpu" };
    if (model.endsWith("-mp3")) return rawAudio(mockAudio(b.inputs, "mp3"), "audio/mpeg", headers);
    const container = model.endsWith("-wav") ? "wav" : "flac";
    return rawAudio(mockTone(b.inputs, { sampleRate: 16000, container }), `audio/${container}`, headers);
  }
  if (!ctx.rawBody.length) return error(400, "No audio received");
  return json({ text: mockTranscriptFor(ctx.rawBody.length) });
}

function whoami() {
  return json({
    type: "user",
    id: "6500000000000000000000aa",
    name: "mock-user",
    fullname: "Mock User",
    email: "mock@example.com",
    emailVerified: true,
    canPay: true,
    isPro: false,
    periodEnd: null,
    avatarUrl: "/avatars/mock.svg",
    orgs: [],
    auth: { type: "access_token", accessToken: { displayName: "mock", role: "read", createdAt: "2025-01-01T00:00:00.000Z" } },
  });
}

export default {
  id: "huggingface",
  specId: "huggingface",
  bases: [
    { name: "huggingface", prefix: "/huggingface", env: { HUGGINGFACE_BASE_URL: "" } },
    { name: "huggingface-hub", prefix: "/huggingface-hub", env: { HUGGINGFACE_HUB_BASE_URL: "" } },
  ],
  requestIdHeader: "x-request-id",
  auth,
  error,
  routes: [
    ["POST", "/v1/chat/completions", (ctx) => openaiCompatibleChat(ctx, "huggingface"), { base: "huggingface" }],
    ["POST", "/hf-inference/models/{model_id...}", inference, { base: "huggingface" }],
    ["GET", "/api/whoami-v2", whoami, { base: "huggingface-hub" }],
  ],
};
