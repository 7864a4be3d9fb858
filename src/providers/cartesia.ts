// Cartesia: TTS (SSE for raw encodings, bytes for containers) and batch STT (multipart).
// Auth: Bearer, plus a Cartesia-Version header on every request (the spec's only allowed value).
import { SPEECH_TEXT_MAX_CHARS, type TextLimit } from "./text-limit";
import type { AudioFormat, NativeOutput, ProviderAdapter, SpeedRange } from "./types";
import { errorText, formOf, get, is2xx, json, languageCode, multipart, transcriptOf } from "./wire";

const CARTESIA_VERSION = "2025-11-04";
/** The spec's sample_rate enum (no 32000). */
const RATES = [8000, 16000, 22050, 24000, 44100, 48000];

/** No limit on `transcript` is documented (the spec has no maxLength; docs.cartesia.ai names none): Voxgate's own. */
const SPEECH_TEXT: TextLimit = { chars: SPEECH_TEXT_MAX_CHARS, source: "none documented" };

/**
 * `generation_config.speed` (the spec's GenerationConfig: "Valid values are between [0.6, 1.5] inclusive"), which
 * is "only for sonic-3 and [has] no effect on earlier models"; the top-level `speed` (slow|normal|fast) is deprecated.
 */
const SPEED: SpeedRange = {
  field: "generation_config.speed",
  min: 0.6,
  max: 1.5,
  models: ["sonic-3"],
  source: "Cartesia's spec (GenerationConfig.speed)",
};

const headers = (key: string) => ({ authorization: `Bearer ${key}`, "cartesia-version": CARTESIA_VERSION });

const RAW_ENCODING: Partial<Record<AudioFormat, string>> = { pcm: "pcm_s16le", ulaw: "pcm_mulaw", alaw: "pcm_alaw" };

/** Every container × encoding at every rate of the spec; no opus. */
const OUTPUTS: NativeOutput[] = (["mp3", "wav", "pcm", "ulaw", "alaw"] as const).map((format) => ({ format, sampleRates: RATES }));

/** Raw encodings go over SSE (streams as it generates); containers only exist on /tts/bytes. */
function outputFormat(format: AudioFormat, rate: number): Record<string, unknown> {
  const encoding = RAW_ENCODING[format];
  if (encoding) return { container: "raw", encoding, sample_rate: rate };
  if (format === "wav") return { container: "wav", encoding: "pcm_s16le", sample_rate: rate };
  return { container: "mp3", sample_rate: rate, bit_rate: 128_000 };
}

export const cartesia: ProviderAdapter = {
  id: "cartesia",
  name: "Cartesia",
  baseUrls: { api: "https://api.cartesia.ai" },
  tts: {
    defaultVoice: "694f9389-aac1-45b6-b726-9d9369183238",
    defaultModel: "sonic-3",
    outputs: OUTPUTS,
    maxText: SPEECH_TEXT,
    speed: SPEED,
    request(input, ctx) {
      // G.711 is telephony audio: 8 kHz unless asked otherwise.
      const rate = input.sampleRate ?? (input.format === "ulaw" || input.format === "alaw" ? 8000 : 44100);
      const sse = RAW_ENCODING[input.format] !== undefined;
      const body: Record<string, unknown> = {
        model_id: input.model,
        transcript: input.text,
        // Version 2025-11-04's spec wants the {mode, id} specifier, not a bare id.
        voice: { mode: "id", id: input.voiceId },
        output_format: outputFormat(input.format, rate),
      };
      if (input.speed !== undefined) body.generation_config = { speed: input.speed };
      const upstream = json(`${ctx.urls.api}/tts/${sse ? "sse" : "bytes"}`, headers(ctx.key), body);
      return {
        upstream,
        envelope: sse
          ? {
              kind: "sse",
              audioOf: (p) => (p?.type === "chunk" ? p.data : null),
              errorOf: (p) => (p?.type === "error" ? String(p.message ?? p.title ?? "stream error") : undefined),
              endOf: (p) => p?.type === "done",
            }
          : { kind: "raw" },
      };
    },
  },
  stt: {
    defaultModel: "ink-whisper",
    // Word timings are always asked for.
    timestamps: () => ["word"],
    request(input, ctx) {
      const form = formOf({
        file: input.audio,
        model: input.model,
        language: languageCode(input.language),
        "timestamp_granularities[]": "word",
      });
      return multipart(`${ctx.urls.api}/stt`, headers(ctx.key), form);
    },
    parse: transcriptOf,
  },
  verify: (ctx) => ({
    upstream: get(`${ctx.urls.api}/voices?limit=1`, headers(ctx.key)),
    valid: is2xx,
  }),
  // Newer versions answer {error_code, title, message}; older ones may answer plain text.
  errorMessage: (_status, body) => errorText(body, (p) => p?.message ?? p?.title ?? p?.error, true),
};
