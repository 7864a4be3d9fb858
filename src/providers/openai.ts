// OpenAI: chat, speech (raw audio), transcription (multipart). Auth: Authorization: Bearer.
import { bearer, openAiChat, openAiErrorMessage } from "./openai-compatible";
import type { TextLimit } from "./text-limit";
import type { NativeOutput, ProviderAdapter, SpeechKnob, SpeedRange } from "./types";
import { formOf, get, is2xx, json, languageCode, multipart, transcriptOf, WHISPER_TIMESTAMPS, withTimestamps } from "./wire";

/** The voices OpenAI speech documents (SDK code written for OpenAI names one of these). */
export const OPENAI_VOICES = [
  "alloy",
  "ash",
  "ballad",
  "coral",
  "echo",
  "fable",
  "nova",
  "onyx",
  "sage",
  "shimmer",
  "verse",
  "marin",
  "cedar",
] as const;
/** OpenAI speech has one output rate: 24 kHz (pcm is 24 kHz 16-bit mono, wav the same framed). */
const SPEECH_SAMPLE_RATE = 24_000;
/** response_format values (the spec's enum); μ-law and A-law are converted from its pcm. */
const OUTPUTS: NativeOutput[] = (["mp3", "opus", "aac", "flac", "wav", "pcm"] as const).map((format) => ({
  format,
  sampleRates: [SPEECH_SAMPLE_RATE],
}));
/** `input` of POST /audio/speech: "The maximum length is 4096 characters" (the spec's CreateSpeechRequest, maxLength 4096). */
const SPEECH_TEXT: TextLimit = { chars: 4096, source: "OpenAI's spec (CreateSpeechRequest.input)" };
/** `speed`: "Select a value from 0.25 to 4.0" (the spec's CreateSpeechRequest.speed, minimum 0.25, maximum 4). */
const SPEED: SpeedRange = { field: "speed", min: 0.25, max: 4, source: "OpenAI's spec (CreateSpeechRequest.speed)" };
/** `instructions`: "Does not work with tts-1 or tts-1-hd" (the spec's CreateSpeechRequest.instructions, maxLength 4096). */
const INSTRUCTIONS: SpeechKnob = {
  field: "instructions",
  notModels: ["tts-1"],
  source: "OpenAI's spec (CreateSpeechRequest.instructions)",
};

export const openai: ProviderAdapter = {
  id: "openai",
  name: "OpenAI",
  baseUrls: { api: "https://api.openai.com/v1" },
  llm: openAiChat({
    name: "OpenAI",
    dialect: "openai",
    defaultModel: "gpt-4.1-mini",
    baseUrl: (ctx) => ctx.urls.api,
    maxTokensField: "max_completion_tokens",
    streamOptions: true,
  }),
  tts: {
    defaultVoice: "alloy",
    voices: OPENAI_VOICES,
    defaultModel: "gpt-4o-mini-tts",
    outputs: OUTPUTS,
    maxText: SPEECH_TEXT,
    speed: SPEED,
    instructions: INSTRUCTIONS,
    request(input, ctx) {
      const body: Record<string, unknown> = { model: input.model, input: input.text, voice: input.voiceId, response_format: input.format };
      if (input.instructions !== undefined) body.instructions = input.instructions;
      if (input.speed !== undefined) body.speed = input.speed;
      return {
        upstream: json(`${ctx.urls.api}/audio/speech`, bearer(ctx.key), body),
        envelope: { kind: "raw" },
      };
    },
  },
  stt: {
    defaultModel: "whisper-1",
    tokenBilled: (model) => model.startsWith("gpt-4o"),
    takes: ["prompt", "temperature"],
    // Timestamps come with verbose_json, which only the whisper models answer.
    timestamps: (model) => (model.startsWith("whisper") ? WHISPER_TIMESTAMPS : []),
    request(input, ctx) {
      const form = formOf({
        file: input.audio,
        model: input.model,
        language: languageCode(input.language),
        prompt: input.prompt,
        temperature: input.temperature === undefined ? undefined : String(input.temperature),
        // verbose_json carries the audio duration (billing); newer models only answer json with usage.seconds.
        response_format: input.model.startsWith("whisper") ? "verbose_json" : "json",
      });
      withTimestamps(form, input);
      return multipart(`${ctx.urls.api}/audio/transcriptions`, bearer(ctx.key), form);
    },
    parse: transcriptOf,
  },
  verify: (ctx) => ({
    upstream: get(`${ctx.urls.api}/models`, bearer(ctx.key)),
    // A restricted key without the Models read scope answers 401 "… Missing scopes: api.model.read": still valid.
    valid: (status, body) => is2xx(status) || (status === 401 && body.includes("Missing scopes")),
  }),
  errorMessage: openAiErrorMessage,
};
