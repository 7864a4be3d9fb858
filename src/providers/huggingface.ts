// Hugging Face Inference Providers: chat through the OpenAI-compatible router. Auth: Bearer hf_….
// No TTS/STT: the router's task endpoints have neither a spec nor a price here.
import { bearer, openAiChat } from "./openai-compatible";
import type { ProviderAdapter } from "./types";
import { errorText, get, is2xx } from "./wire";

export const huggingface: ProviderAdapter = {
  id: "huggingface",
  name: "HuggingFace",
  baseUrls: { api: "https://router.huggingface.co", hub: "https://huggingface.co" },
  llm: openAiChat({
    defaultModel: "meta-llama/Llama-4-Scout-17B-16E-Instruct",
    baseUrl: (ctx) => `${ctx.urls.api}/v1`,
    // The router speaks TGI's schema: max_tokens, and stream_options.include_usage for stream usage.
    maxTokensField: "max_tokens",
    streamOptions: true,
  }),
  verify: (ctx) => ({
    // The token check lives on the Hub host, not on the router.
    upstream: get(`${ctx.urls.hub}/api/whoami-v2`, bearer(ctx.key)),
    valid: is2xx,
  }),
  // Seen shapes: {error: "…"}, {error: {message}}, {message}, {detail}.
  errorMessage: (_status, body) =>
    errorText(body, (p) => (typeof p?.error === "string" ? p.error : (p?.error?.message ?? p?.message ?? p?.detail))),
};
