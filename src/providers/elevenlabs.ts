// ElevenLabs: TTS (chunked raw audio from /stream) and STT (multipart). Auth: xi-api-key.
import type { TextLimit } from "./text-limit";
import type { AudioFormat, NativeOutput, ProviderAdapter, SpeedRange } from "./types";
import { errorText, formOf, get, json, languageCode, multipart, pathSegment, secondsOf, transcriptText, wordsOf } from "./wire";

/**
 * What ElevenLabs produces: output_format values of its spec (codec_rate[_bitrate]). No wav there: the
 * gateway frames its pcm as WAV. μ-law and A-law only at 8 kHz.
 */
const OUTPUTS: NativeOutput[] = [
  { format: "mp3", sampleRates: [22050, 24000, 44100] },
  { format: "pcm", sampleRates: [8000, 16000, 22050, 24000, 32000, 44100, 48000] },
  { format: "opus", sampleRates: [48000] },
  { format: "ulaw", sampleRates: [8000] },
  { format: "alaw", sampleRates: [8000] },
];

/** ElevenLabs' output_format query value, e.g. mp3_44100_128, pcm_16000, ulaw_8000. */
function outputFormat(format: AudioFormat, sampleRate: number | undefined): string {
  switch (format) {
    case "mp3":
      return sampleRate === 22050 ? "mp3_22050_32" : sampleRate === 24000 ? "mp3_24000_48" : "mp3_44100_128";
    case "opus":
      return "opus_48000_64";
    case "ulaw":
    case "alaw":
      return `${format}_8000`;
    default:
      return `pcm_${sampleRate ?? 24000}`;
  }
}

const headers = (key: string) => ({ "xi-api-key": key });

/**
 * ElevenLabs' limit depends on the model (help.elevenlabs.io "What's the maximum amount of characters…" and
 * "API - Error Code 400 or 401", max_character_limit_exceeded): Flash/Turbo v2.5 40,000 characters, Flash/Turbo
 * v2 30,000, Multilingual v2 and English v1 10,000; eleven_v3 5,000 (its model page), the smallest — so
 * every model takes all Voxgate takes (5,000).
 */
const SPEECH_TEXT: TextLimit = { chars: 5_000, source: "help.elevenlabs.io (per model; eleven_v3's 5,000 is the smallest)" };
/**
 * `voice_settings.speed` of the stream request (the spec's Body_text_to_speech_stream.voice_settings →
 * VoiceSettingsResponseModel.speed: a number, default 1.0, no range there). The range is ElevenLabs' docs':
 * 0.7–1.2 for every model (help.elevenlabs.io "Can I change the pace of the voice?", elevenlabs.io voice settings).
 */
const SPEED: SpeedRange = {
  field: "voice_settings.speed",
  min: 0.7,
  max: 1.2,
  source: "ElevenLabs' spec (VoiceSettingsResponseModel.speed); range from its docs",
};

export const elevenlabs: ProviderAdapter = {
  id: "elevenlabs",
  name: "ElevenLabs",
  baseUrls: { api: "https://api.elevenlabs.io" },
  tts: {
    defaultVoice: "21m00Tcm4TlvDq8ikWAM",
    defaultModel: "eleven_flash_v2_5",
    outputs: OUTPUTS,
    maxText: SPEECH_TEXT,
    speed: SPEED,
    request(input, ctx) {
      const url = `${ctx.urls.api}/v1/text-to-speech/${pathSegment(input.voiceId, "voiceId")}/stream?output_format=${outputFormat(input.format, input.sampleRate)}`;
      const body: Record<string, unknown> = { text: input.text, model_id: input.model };
      // Overrides only the speed of the voice's stored settings, for this request.
      if (input.speed !== undefined) body.voice_settings = { speed: input.speed };
      return { upstream: json(url, headers(ctx.key), body), envelope: { kind: "raw" } };
    },
  },
  stt: {
    defaultModel: "scribe_v1",
    // Every transcript carries word timings.
    timestamps: () => ["word"],
    request(input, ctx) {
      const form = formOf({
        model_id: input.model,
        file: input.audio,
        language_code: languageCode(input.language),
      });
      return multipart(`${ctx.urls.api}/v1/speech-to-text`, headers(ctx.key), form);
    },
    parse(body) {
      const text = transcriptText(body?.text);
      const words = Array.isArray(body.words) ? body.words.filter((w: any) => w.type !== "spacing") : [];
      return {
        text,
        // ElevenLabs bills the audio's length. Without audio_duration_secs it reported none: the gateway then
        // charges the measured length (API.md §6) — never the last word's end, which leaves out trailing silence.
        durationSeconds: secondsOf(body.audio_duration_secs),
        language: body.language_code,
        words: wordsOf(words, "text"),
      };
    },
  },
  verify: (ctx) => ({
    upstream: get(`${ctx.urls.api}/v1/user`, headers(ctx.key)),
    // A valid key without the user_read permission answers 401 missing_permissions: still valid.
    valid: (status, body) => (status >= 200 && status < 300) || (status === 401 && body.includes("missing_permissions")),
  }),
  errorMessage: (_status, body) => errorText(body, (p) => (typeof p?.detail === "string" ? p.detail : p?.detail?.message)),
};
