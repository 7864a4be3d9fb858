// Groq: OpenAI-compatible chat and Whisper transcription. Auth: Authorization: Bearer.
// GROQ_BASE_URL already ends in /openai/v1, so paths below are the OpenAI ones.
import { bearer, openAiChat, openAiErrorMessage } from "./openai-compatible";
import { get, multipart, type ProviderAdapter } from "./types";

export const groq: ProviderAdapter = {
  id: "groq",
  name: "Groq",
  llm: openAiChat({
    defaultModel: "meta-llama/llama-4-scout-17b-16e-instruct",
    baseUrl: (ctx) => ctx.config.GROQ_BASE_URL,
    maxTokensField: "max_completion_tokens",
    // Groq's spec has no stream_options; stream usage arrives in the last chunk's x_groq.usage.
    streamOptions: false,
  }),
  stt: {
    defaultModel: "whisper-large-v3-turbo",
    // Groq fetches a `url` field itself, so the gateway need not download the audio.
    acceptsUrl: true,
    request(input, ctx) {
      const form = new FormData();
      if (input.audio) form.append("file", input.audio.data, input.audio.filename);
      else form.append("url", input.audioUrl!);
      form.append("model", input.model);
      if (input.language) form.append("language", input.language);
      // Plain json has no duration, which billing needs.
      form.append("response_format", "verbose_json");
      return multipart(`${ctx.config.GROQ_BASE_URL}/audio/transcriptions`, bearer(ctx.key), form);
    },
    parse(body) {
      return {
        text: String(body.text ?? ""),
        durationSeconds: Number(body.duration ?? 0),
        language: body.language,
        words: Array.isArray(body.words) ? body.words.map((w: any) => ({ word: w.word, start: w.start, end: w.end })) : undefined,
      };
    },
  },
  verify: (ctx) => ({ upstream: get(`${ctx.config.GROQ_BASE_URL}/models`, bearer(ctx.key)), valid: (s) => s >= 200 && s < 300 }),
  errorMessage: openAiErrorMessage,
};
