// Groq: OpenAI-compatible chat and Whisper transcription. Auth: Authorization: Bearer.
// GROQ_BASE_URL already ends in /openai/v1, so paths below are the OpenAI ones.
import { bearer, openAiChat, openAiErrorMessage } from "./openai-compatible";
import type { ProviderAdapter } from "./types";
import { formOf, get, is2xx, languageCode, multipart, transcriptOf, WHISPER_TIMESTAMPS, withTimestamps } from "./wire";

export const groq: ProviderAdapter = {
  id: "groq",
  name: "Groq",
  baseUrls: { api: "https://api.groq.com/openai/v1" },
  llm: openAiChat({
    name: "Groq",
    dialect: "openai",
    defaultModel: "meta-llama/llama-4-scout-17b-16e-instruct",
    baseUrl: (ctx) => ctx.urls.api,
    maxTokensField: "max_completion_tokens",
    // Groq's spec has no stream_options; stream usage arrives in the last chunk's x_groq.usage.
    streamOptions: false,
  }),
  stt: {
    defaultModel: "whisper-large-v3-turbo",
    timestamps: () => WHISPER_TIMESTAMPS,
    takes: ["prompt", "temperature"],
    request(input, ctx) {
      const form = formOf({
        file: input.audio,
        model: input.model,
        language: languageCode(input.language),
        prompt: input.prompt,
        temperature: input.temperature === undefined ? undefined : String(input.temperature),
        // Plain json has no duration, which billing needs.
        response_format: "verbose_json",
      });
      withTimestamps(form, input);
      return multipart(`${ctx.urls.api}/audio/transcriptions`, bearer(ctx.key), form);
    },
    parse: transcriptOf,
  },
  verify: (ctx) => ({ upstream: get(`${ctx.urls.api}/models`, bearer(ctx.key)), valid: is2xx }),
  errorMessage: openAiErrorMessage,
};
