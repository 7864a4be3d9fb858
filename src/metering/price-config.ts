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
// or prefix (a new prefix adds a model family). A tts/stt key may be a provider's alias (`fish-audio`) and
// is stored under its id, which is what requests are priced by; a key that names no provider, or one that
// does not offer that operation, or two keys for the same provider (or the same LLM prefix up to case)
// are refused — each would otherwise be an entry that silently prices nothing.
import { z } from "zod";
import { ConfigError } from "../config";
import type { Env } from "../env";
import { findProvider, offers, PROVIDER_IDS } from "../providers/registry";
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

/** Prices by provider for one operation: keys (ids or aliases) resolved to the provider's id. */
const pricesByProvider = (op: "tts" | "stt") =>
  z.record(providerId, credits).transform((prices, ctx) => {
    const out: Record<string, number> = {};
    const seen = new Map<string, string>();
    for (const [name, price] of Object.entries(prices)) {
      const refuse = (message: string) => ctx.addIssue({ code: "custom", path: [name], message });
      const p = findProvider(name);
      if (!p) refuse(`no such provider (one of ${PROVIDER_IDS.join(", ")})`);
      else if (!offers(p, op)) refuse(`${p.id} offers no ${op.toUpperCase()}`);
      else if (seen.has(p.id)) refuse(`the same provider as "${seen.get(p.id)}"`);
      else {
        seen.set(p.id, name);
        out[p.id] = price;
      }
    }
    return out;
  });

// Prefixes match trimmed and case-insensitively, so " GPT-4.1" and "gpt-4.1" are one entry: refuse the
// pair (checked on the keys as written, before trimming merges them) rather than silently keep one.
const LlmPrices = z
  .record(z.string(), z.unknown())
  .superRefine((prices, ctx) => {
    const seen = new Map<string, string>();
    for (const prefix of Object.keys(prices)) {
      const key = prefix.trim().toLowerCase();
      const other = seen.get(key);
      if (other !== undefined) ctx.addIssue({ code: "custom", path: [prefix], message: `the same prefix as "${other}"` });
      else seen.set(key, prefix);
    }
  })
  .pipe(z.record(z.string().trim().min(1).max(200), z.strictObject({ input: credits, output: credits })));

export const PricesOverride = z.strictObject({
  plans: z.partialRecord(z.enum(PLAN_IDS), PlanOverride).optional(),
  tts: pricesByProvider("tts").optional(),
  stt: pricesByProvider("stt").optional(),
  llm: LlmPrices.optional(),
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
