// OpenAI: chat, speech (raw audio), transcription (multipart). Auth: Authorization: Bearer.
import { bearer, openAiChat, openAiErrorMessage } from "./openai-compatible";
import { formOf, get, is2xx, json, multipart, transcriptOf, type AudioFormat, type ProviderAdapter } from "./types";

const FORMAT: Partial<Record<AudioFormat, string>> = { mp3: "mp3", wav: "wav", pcm: "pcm", opus: "opus" };
/** OpenAI speech has one output rate: 24 kHz (pcm is 24 kHz 16-bit mono). */
const SPEECH_SAMPLE_RATE = 24_000;

export const openai: ProviderAdapter = {
  id: "openai",
  name: "OpenAI",
  llm: openAiChat({
    defaultModel: "gpt-4.1-mini",
    baseUrl: (ctx) => ctx.config.OPENAI_BASE_URL,
    maxTokensField: "max_completion_tokens",
    streamOptions: true,
  }),
  tts: {
    defaultVoice: "alloy",
    defaultModel: "gpt-4o-mini-tts",
    supports: (format, sampleRate) => format in FORMAT && (sampleRate === undefined || sampleRate === SPEECH_SAMPLE_RATE),
    request(input, ctx) {
      return {
        upstream: json(`${ctx.config.OPENAI_BASE_URL}/audio/speech`, bearer(ctx.key), {
          model: input.model,
          input: input.text,
          voice: input.voiceId,
          response_format: FORMAT[input.format],
        }),
        envelope: { kind: "raw" },
      };
    },
  },
  stt: {
    defaultModel: "whisper-1",
    acceptsUrl: false,
    request(input, ctx) {
      const form = formOf({
        file: input.audio!,
        model: input.model,
        language: input.language,
        // verbose_json carries the audio duration (billing); newer models only answer json with usage.seconds.
        response_format: input.model.startsWith("whisper") ? "verbose_json" : "json",
      });
      return multipart(`${ctx.config.OPENAI_BASE_URL}/audio/transcriptions`, bearer(ctx.key), form);
    },
    parse: transcriptOf,
  },
  verify: (ctx) => ({ upstream: get(`${ctx.config.OPENAI_BASE_URL}/models`, bearer(ctx.key)), valid: is2xx }),
  errorMessage: openAiErrorMessage,
};
