// The PRICES variable (API.md §6): JSON overriding any plan, TTS/STT price or LLM model price without a
// code change. Validated with zod the first time an env is seen (a bad value is a ConfigError naming
// PRICES → 500 misconfigured) and kept per env object, so neither the worker nor the Account object
// parses it again per request.
//
//   {"plans": {"pro": {"monthlyCredits": 250000, "requestsPerMinute": 600}},
//    "tts":   {"elevenlabs": 150},                    credits per 1,000 characters
//    "stt":   {"deepgram": 8},                        credits per minute of audio
//    "llm":   {"gpt-4.1": {"input": 3, "output": 12}, credits per 1,000 tokens, by model id prefix
//              "my-model": {"input": 1, "output": 2}}}
//
// Every part is optional and merges over the defaults: a plan's fields one by one, a price per provider
// or prefix (a new prefix adds a model family).
import { z } from "zod";
import { ConfigError } from "../config";
import type { Env } from "../env";
import { PLAN_IDS, type PlanId } from "./plans";
import { byLongestPrefix, DEFAULT_PRICES, type Prices } from "./prices";

/** Credits with at most three decimals: a millicredit is the smallest unit Voxgate counts. */
const credits = z
  .number()
  .finite()
  .nonnegative()
  .max(1e9)
  .refine((v) => Math.abs(v * 1000 - Math.round(v * 1000)) < 1e-6, "at most three decimals (a millicredit)");

const PlanOverride = z.strictObject({
  monthlyCredits: credits.optional(),
  requestsPerMinute: z.number().int().min(1).max(1_000_000).optional(),
});

const providerId = z.string().regex(/^[a-z0-9-]{1,64}$/, "a provider id");

export const PricesOverride = z.strictObject({
  plans: z.partialRecord(z.enum(PLAN_IDS), PlanOverride).optional(),
  tts: z.record(providerId, credits).optional(),
  stt: z.record(providerId, credits).optional(),
  llm: z.record(z.string().trim().min(1).max(200), z.strictObject({ input: credits, output: credits })).optional(),
});

export type PricesOverride = z.infer<typeof PricesOverride>;

/** The defaults with `override` applied. */
export function applyPrices(override: PricesOverride, base: Prices = DEFAULT_PRICES): Prices {
  const plans = { ...base.plans };
  for (const [id, o] of Object.entries(override.plans ?? {}) as [PlanId, z.infer<typeof PlanOverride>][]) {
    plans[id] = { ...plans[id], ...o };
  }
  const llm = new Map(base.llm.map((p) => [p.prefix, p]));
  for (const [prefix, p] of Object.entries(override.llm ?? {})) {
    const key = prefix.toLowerCase();
    llm.set(key, { prefix: key, input: p.input, output: p.output });
  }
  return {
    plans,
    tts: { ...base.tts, ...override.tts },
    stt: { ...base.stt, ...override.stt },
    llm: byLongestPrefix([...llm.values()]),
  };
}

/** Parse a PRICES value: the effective table, or a ConfigError that names PRICES and what is wrong. */
export function parsePrices(raw: unknown): Prices {
  if (raw === undefined || raw === null || (typeof raw === "string" && raw.trim() === "")) return DEFAULT_PRICES;
  let json: unknown = raw;
  if (typeof raw === "string") {
    try {
      json = JSON.parse(raw);
    } catch {
      throw new ConfigError("Invalid configuration: PRICES: not valid JSON");
    }
  }
  const parsed = PricesOverride.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${["PRICES", ...i.path].join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`Invalid configuration: ${issues}`);
  }
  return applyPrices(parsed.data);
}

const cache = new WeakMap<object, Prices>();

/** The effective prices for an env, parsed once per env object (the worker's and the Account object's alike). */
export function pricesFor(env: Env): Prices {
  let prices = cache.get(env);
  if (!prices) {
    prices = parsePrices(env.PRICES);
    cache.set(env, prices);
  }
  return prices;
}
