// Prices (API.md §6), in credits, and what a request costs in millicredits. Adding a provider adds a
// line here for each operation it offers.

/** TTS: credits per 1,000 characters, i.e. millicredits per character. */
export const TTS_MC_PER_CHAR: Record<string, number> = {
  cartesia: 78,
  elevenlabs: 166,
  deepgram: 30,
  fishaudio: 10,
  resembleai: 120,
  inworld: 80,
  openai: 15,
  huggingface: 4,
};

/** STT: credits per minute of audio. */
export const STT_CREDITS_PER_MINUTE: Record<string, number> = {
  openai: 12,
  deepgram: 9,
  elevenlabs: 6,
  fishaudio: 8,
  cartesia: 10,
  groq: 2,
  inworld: 8,
  huggingface: 3,
};

/** LLM: credits per 1,000 tokens (= mc per token), by model id prefix; the longest prefix wins. */
export const LLM_MC_PER_TOKEN: { prefix: string; input: number; output: number }[] = [
  { prefix: "gpt-4.1", input: 4, output: 16 },
  { prefix: "gpt-4.1-mini", input: 1, output: 3 },
  { prefix: "gpt-4.1-nano", input: 1, output: 1 },
  { prefix: "claude-sonnet-4", input: 6, output: 30 },
  { prefix: "claude-3-5-haiku", input: 2, output: 8 },
  { prefix: "meta-llama/llama-4-maverick", input: 1, output: 2 },
  { prefix: "meta-llama/llama-4-scout", input: 1, output: 1 },
  { prefix: "gpt-4o", input: 5, output: 20 },
  { prefix: "gpt-4o-mini", input: 1, output: 1 },
  { prefix: "llama-3.3-70b", input: 1, output: 1 },
  { prefix: "llama-3.1-8b", input: 1, output: 1 },
  { prefix: "claude-haiku-4-5", input: 2, output: 10 },
  // OpenAI Realtime: text and audio tokens alike.
  { prefix: "gpt-realtime", input: 32, output: 64 },
].sort((a, b) => b.prefix.length - a.prefix.length);

/** API-key ("developer") requests pay 90% of the TTS price. */
export const API_KEY_TTS_DISCOUNT_PERCENT = 10;

export function ttsCostMc(provider: string, characters: number, viaApiKey: boolean): number | null {
  const perChar = TTS_MC_PER_CHAR[provider];
  if (perChar === undefined) return null;
  const full = perChar * characters;
  // Exact: 90% of an integer mc amount, rounded up to a whole millicredit only when it is fractional.
  return viaApiKey ? Math.ceil((full * (100 - API_KEY_TTS_DISCOUNT_PERCENT)) / 100) : full;
}

export function sttCostMc(provider: string, seconds: number): number | null {
  const perMinute = STT_CREDITS_PER_MINUTE[provider];
  if (perMinute === undefined) return null;
  // credits/min × seconds / 60 × 1000 mc; computed on whole milliseconds, rounded up.
  const ms = Math.ceil(seconds * 1000);
  return Math.ceil((perMinute * ms) / 60);
}

export function llmPrice(model: string): { input: number; output: number } | null {
  const m = model.toLowerCase();
  return LLM_MC_PER_TOKEN.find((p) => m.startsWith(p.prefix)) ?? null;
}

export function llmCostMc(model: string, inputTokens: number, outputTokens: number): number | null {
  const price = llmPrice(model);
  if (!price) return null;
  return price.input * inputTokens + price.output * outputTokens;
}
