// Plans and prices: the one place operators change them (API.md §6).
// Credits are kept as integer millicredits (mc): 1 credit = 1,000 mc, so pro-rated prices stay exact.

export const MC_PER_CREDIT = 1_000;

export const PLANS = {
  free: { monthlyCredits: 2_500, requestsPerMinute: 30, paid: false },
  starter: { monthlyCredits: 50_000, requestsPerMinute: 60, paid: true },
  pro: { monthlyCredits: 200_000, requestsPerMinute: 300, paid: true },
  scale: { monthlyCredits: 1_000_000, requestsPerMinute: 1_000, paid: true },
} as const;

export type PlanId = keyof typeof PLANS;
export const PLAN_IDS = Object.keys(PLANS) as [PlanId, ...PlanId[]];

/** Rate-limit window: limits above are per minute. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/** TTS: credits per 1,000 characters, i.e. millicredits per character. */
export const TTS_MC_PER_CHAR: Record<string, number> = {
  cartesia: 78,
  elevenlabs: 166,
  deepgram: 30,
  fishaudio: 10,
  resembleai: 120,
  inworld: 80,
};

/** STT: credits per minute of audio. */
export const STT_CREDITS_PER_MINUTE: Record<string, number> = {
  openai: 12,
  deepgram: 9,
  elevenlabs: 6,
  fishaudio: 8,
  cartesia: 10,
  groq: 2,
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
].sort((a, b) => b.prefix.length - a.prefix.length);

/** API-key ("developer") requests pay 90% of the TTS price. */
export const API_KEY_TTS_DISCOUNT_PERCENT = 10;

/** Reserved for an STT request before its duration is known: billed minutes are settled after. */
export const STT_RESERVE_SECONDS = 600;
/** Output tokens reserved for a chat request that names no maxTokens. */
export const LLM_DEFAULT_RESERVE_OUTPUT_TOKENS = 4_096;

export type UsageKind = "tts" | "stt" | "llm";

export function effectivePlan(plan: string, planExpiresAt: number | null, now: number): PlanId {
  if (!(plan in PLANS)) return "free";
  if (plan !== "free" && planExpiresAt !== null && planExpiresAt <= now) return "free";
  return plan as PlanId;
}

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

export function toCredits(mc: number): number {
  return mc / MC_PER_CREDIT;
}

/** Calendar month in UTC, e.g. "2026-11". */
export function billingPeriod(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}
