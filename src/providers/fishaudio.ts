// Fish Audio: TTS (/v1/tts, JSON in, streamed raw audio out) and ASR (/v1/asr, multipart).
// Auth: Bearer; the TTS model is chosen by a `model` header, not a body field.
import { SPEECH_TEXT_MAX_CHARS, type TextLimit } from "./text-limit";
import type { NativeOutput, ProviderAdapter, SpeedRange } from "./types";
import { errorText, formOf, get, is2xx, json, languageCode, multipart, secondsOf, transcriptText } from "./wire";

/**
 * /v1/asr's `duration` is in seconds: Fish's OpenAPI spec ("Duration of the audio in seconds"), its JS SDK
 * (README and examples/asr.mjs print it as "Duration (s)"), and its docs since fishaudio/docs c4d801d
 * (2026-06-05), whose examples were run against the live API: "Correctness fixes surfaced by live testing:
 * duration in seconds" (the Python SDK reference's "Duration in milliseconds" became "in seconds"). The
 * Python SDK's docstring (fishaudio/types/asr.py, "Total audio duration in milliseconds") is the one
 * dissenter. What Fish reports is charged (an excess over the measured length as debt: API.md §6), and a
 * report far past the audio sent is logged for the operator (src/gateway/transcribe.ts).
 */
const ASR_DURATION_UNITS_PER_SECOND = 1;
/**
 * /v1/asr takes no model (the spec's ASR request has `audio`, `language`, `ignore_timestamps` only): it runs
 * Fish's one speech-to-text model, which Fish publishes as Transcribe 1 (`fish-audio/transcribe-1` in the
 * OpenRouter and Vercel AI Gateway listings: auto-detected language, timestamped segments, as /v1/asr).
 * Reported as the model used; a request naming another is refused (SttAdapter.models), as it cannot be sent.
 */
const ASR_MODEL = "transcribe-1";
const RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000];
/**
 * The spec's `format` enum. Opus only encodes at 48 kHz (Fish's opus default); no G.711, so μ-law and
 * A-law are converted from its pcm (raw 16-bit mono: unconfirmed beyond the enum's name).
 */
const OUTPUTS: NativeOutput[] = [
  { format: "mp3", sampleRates: RATES },
  { format: "wav", sampleRates: RATES },
  { format: "pcm", sampleRates: RATES },
  { format: "opus", sampleRates: [48000] },
];

/**
 * No limit on `text` is documented: the spec's TTSRequest.text has no maxLength and docs.fish.audio names none
 * (Fish cuts long text into chunks itself, `chunk_length`). Voxgate's own.
 */
const SPEECH_TEXT: TextLimit = { chars: SPEECH_TEXT_MAX_CHARS, source: "none documented" };

/** `prosody.speed`: "Speaking rate multiplier. Valid range: 0.5 to 2.0" (the spec's TTSRequest.prosody → ProsodyControl). */
const SPEED: SpeedRange = { field: "prosody.speed", min: 0.5, max: 2, source: "Fish Audio's spec (ProsodyControl.speed)" };

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

export const fishaudio: ProviderAdapter = {
  id: "fishaudio",
  name: "FishAudio",
  aliases: ["fish-audio"],
  baseUrls: { api: "https://api.fish.audio" },
  tts: {
    // A public Fish voice model id (the one Fish's API docs use as their example).
    defaultVoice: "7f92f8afb8ec43bf81429cc1c9199cb1",
    defaultModel: "s1",
    outputs: OUTPUTS,
    maxText: SPEECH_TEXT,
    speed: SPEED,
    request(input, ctx) {
      const body: Record<string, unknown> = {
        text: input.text,
        reference_id: input.voiceId,
        format: input.format,
        // balanced trades a little quality for earlier first bytes, which streaming clients want.
        latency: "balanced",
      };
      if (input.sampleRate !== undefined) body.sample_rate = input.sampleRate;
      if (input.format === "mp3") body.mp3_bitrate = 128;
      if (input.speed !== undefined) body.prosody = { speed: input.speed };
      const headers = { ...bearer(ctx.key), model: input.model ?? "s1" };
      return { upstream: json(`${ctx.urls.api}/v1/tts`, headers, body), envelope: { kind: "raw" } };
    },
  },
  stt: {
    defaultModel: ASR_MODEL,
    models: [ASR_MODEL],
    request(input, ctx) {
      // ignore_timestamps false: Fish's SDK default (timestamps on).
      const form = formOf({ audio: input.audio, language: languageCode(input.language), ignore_timestamps: "false" });
      return multipart(`${ctx.urls.api}/v1/asr`, bearer(ctx.key), form);
    },
    parse(body) {
      return {
        text: transcriptText(body?.text),
        durationSeconds: secondsOf(body.duration, ASR_DURATION_UNITS_PER_SECOND),
        language: body.language_code ?? undefined,
      };
    },
  },
  verify: (ctx) => ({
    // A bad key answers 401 with a plain-text body.
    upstream: get(`${ctx.urls.api}/wallet/self/api-credit`, bearer(ctx.key)),
    valid: is2xx,
  }),
  // detail may be a validation list ([{msg}]) on 422s.
  errorMessage: (_status, body) => errorText(body, (p) => p?.message ?? (Array.isArray(p?.detail) ? p.detail[0]?.msg : p?.detail), true),
};
