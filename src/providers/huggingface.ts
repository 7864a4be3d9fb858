// Hugging Face Inference Providers: chat through the OpenAI-compatible router; speech and transcription
// through the router's hf-inference task endpoints (POST /hf-inference/models/{model}): JSON
// {"inputs": text} → the model's audio (FLAC or WAV, the model's choice); raw audio → {"text"}.
// Auth: Bearer hf_…. The model id goes into the path, one encoded segment per part of `org/name`.
import { bearer, openAiChat } from "./openai-compatible";
import { SPEECH_TEXT_MAX_CHARS } from "./text-limit";
import type { ProviderAdapter, UpstreamRequest } from "./types";
import { errorText, get, hubModelPath, is2xx, json, transcriptText } from "./wire";

/**
 * Small open defaults. MMS-TTS English (VITS, ~36M parameters, 16 kHz) and Whisper large-v3, the
 * speech models huggingface.js and the Hub's task pages name; which models hf-inference serves at a
 * given time is unconfirmed: `model` names any other.
 */
const TTS_MODEL = "facebook/mms-tts-eng";
const STT_MODEL = "openai/whisper-large-v3";

const task = (base: string, model: string) => `${base}/hf-inference/models/${hubModelPath(model)}`;
/** A model id must be a Hub repo (`org/name`): it goes into the task endpoint's path. */
const checkModel = (model: string, field: string) => void hubModelPath(model, field);

export const huggingface: ProviderAdapter = {
  id: "huggingface",
  name: "HuggingFace",
  baseUrls: { api: "https://router.huggingface.co", hub: "https://huggingface.co" },
  llm: openAiChat({
    name: "Hugging Face",
    dialect: "tgi",
    defaultModel: "meta-llama/Llama-4-Scout-17B-16E-Instruct",
    baseUrl: (ctx) => `${ctx.urls.api}/v1`,
    // The router speaks TGI's schema: max_tokens, and stream_options.include_usage for stream usage.
    maxTokensField: "max_tokens",
    streamOptions: true,
  }),
  tts: {
    // The model is the voice: hf-inference's text-to-speech task takes no voice parameter.
    defaultVoice: "",
    defaultModel: TTS_MODEL,
    checkModel,
    outputs: [],
    modelChoosesFormat: true,
    // No limit on `inputs` is documented for hf-inference's text-to-speech task (no OpenAPI spec exists for
    // it; the task page and huggingface.js name none): Voxgate's own.
    maxText: { chars: SPEECH_TEXT_MAX_CHARS, source: "none documented" },
    request(input, ctx) {
      // The task spec's only input is `inputs` (parameters are model-specific and left out).
      return { upstream: json(task(ctx.urls.api, input.model), bearer(ctx.key), { inputs: input.text }), envelope: { kind: "raw" } };
    },
  },
  stt: {
    defaultModel: STT_MODEL,
    checkModel,
    // The hf-inference ASR task takes the raw audio as the whole body: no field for a language (the task's
    // JSON parameters — return_timestamps, generation_parameters — have none either). Refused, not dropped.
    takesLanguage: false,
    request(input, ctx): UpstreamRequest {
      // The raw audio as the whole body (the task spec's form without parameters); no multipart.
      const headers = { ...bearer(ctx.key), "content-type": input.audio.contentType || "application/octet-stream" };
      return { url: task(ctx.urls.api, input.model), init: { method: "POST", headers, body: input.audio.data } };
    },
    parse(body) {
      // {text, chunks?}; older deployments answered [{text}]. No duration: billed at the measured length.
      const result = Array.isArray(body) ? body[0] : body;
      return { text: transcriptText(result?.text) };
    },
  },
  verify: (ctx) => ({
    // The token check lives on the Hub host, not on the router.
    upstream: get(`${ctx.urls.hub}/api/whoami-v2`, bearer(ctx.key)),
    valid: is2xx,
  }),
  // Seen shapes: {error: "…"}, {error: {message}}, {message}, {detail}.
  errorMessage: (_status, body) =>
    errorText(body, (p) => (typeof p?.error === "string" ? p.error : (p?.error?.message ?? p?.message ?? p?.detail))),
};
