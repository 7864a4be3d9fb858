// Prices (API.md §6), in credits, and what a request costs in millicredits. The defaults are here; the
// effective table is these defaults with the operator's PRICES variable applied (price-config.ts), read
// once per env by the worker and by the Account object alike: every caller in src/ passes the effective
// table (c.get("prices"), pricesFor(env)); the defaults are the fallback for tests and tools. Adding a
// provider adds a line here for each operation it offers.
import { PLANS, type PlanId } from "./plans";

export interface PlanLimits {
  monthlyCredits: number;
  requestsPerMinute: number;
}

export interface LlmPrice {
  /** A model id prefix, lower case; the longest matching prefix wins. */
  prefix: string;
  /** Credits per 1,000 input tokens (= millicredits per token). */
  input: number;
  /** Credits per 1,000 output tokens. */
  output: number;
}

/**
 * One effective price table. Prices are credits with at most three decimals (a millicredit per 1,000
 * units), so every cost below is computed exactly in integers.
 */
export interface Prices {
  plans: Record<PlanId, PlanLimits>;
  /** TTS: credits per 1,000 characters, by provider id. */
  tts: Record<string, number>;
  /** STT: credits per minute of audio, by provider id. */
  stt: Record<string, number>;
  /** LLM: by model id prefix, longest first. */
  llm: readonly LlmPrice[];
}

export const DEFAULT_TTS_PRICES: Record<string, number> = {
  cartesia: 78,
  elevenlabs: 166,
  deepgram: 30,
  fishaudio: 10,
  resembleai: 120,
  inworld: 80,
  openai: 15,
  huggingface: 4,
};

export const DEFAULT_STT_PRICES: Record<string, number> = {
  openai: 12,
  deepgram: 9,
  elevenlabs: 6,
  fishaudio: 8,
  cartesia: 10,
  groq: 2,
  inworld: 8,
  huggingface: 3,
};

export const DEFAULT_LLM_PRICES: readonly LlmPrice[] = [
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
];

/** Longest prefix first, so the first match is the longest. */
export const byLongestPrefix = (list: readonly LlmPrice[]): LlmPrice[] => [...list].sort((a, b) => b.prefix.length - a.prefix.length);

export const DEFAULT_PRICES: Prices = {
  plans: Object.fromEntries(
    Object.entries(PLANS).map(([id, p]) => [id, { monthlyCredits: p.monthlyCredits, requestsPerMinute: p.requestsPerMinute }]),
  ) as Record<PlanId, PlanLimits>,
  tts: DEFAULT_TTS_PRICES,
  stt: DEFAULT_STT_PRICES,
  llm: byLongestPrefix(DEFAULT_LLM_PRICES),
};

/** API-key ("developer") requests pay 90% of the TTS price. */
export const API_KEY_TTS_DISCOUNT_PERCENT = 10;

/** A price in credits as integer thousandths (prices have at most three decimals: price-config.ts). */
const milli = (credits: number) => Math.round(credits * 1000);

/** A plan's monthly credits in millicredits. */
export function planLimitMc(plan: PlanId, prices: Prices = DEFAULT_PRICES): number {
  return milli(prices.plans[plan].monthlyCredits);
}

export function ttsCostMc(provider: string, characters: number, viaApiKey: boolean, prices: Prices = DEFAULT_PRICES): number | null {
  const per1000 = prices.tts[provider];
  if (per1000 === undefined) return null;
  // credits/1,000 chars × chars = mc; in thousandths of a mc, then × (100 − discount)%, rounded up once.
  const percent = viaApiKey ? 100 - API_KEY_TTS_DISCOUNT_PERCENT : 100;
  return Math.ceil((milli(per1000) * characters * percent) / 100_000);
}

export function sttCostMc(provider: string, seconds: number, prices: Prices = DEFAULT_PRICES): number | null {
  const perMinute = prices.stt[provider];
  if (perMinute === undefined) return null;
  // credits/min × seconds / 60 × 1000 mc; computed on whole milliseconds, rounded up.
  const ms = Math.ceil(seconds * 1000);
  return Math.ceil((milli(perMinute) * ms) / 60_000);
}

export function llmPrice(model: string, prices: Prices = DEFAULT_PRICES): LlmPrice | null {
  const m = model.toLowerCase();
  return prices.llm.find((p) => m.startsWith(p.prefix)) ?? null;
}

export function llmCostMc(model: string, inputTokens: number, outputTokens: number, prices: Prices = DEFAULT_PRICES): number | null {
  const price = llmPrice(model, prices);
  if (!price) return null;
  return Math.ceil((milli(price.input) * inputTokens + milli(price.output) * outputTokens) / 1000);
}
