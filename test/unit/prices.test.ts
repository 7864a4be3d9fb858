// PRICES (API.md §6): the operator's JSON over the default plans and prices, validated once per env; the
// worker prices requests and the Account object limits plans from the same effective table.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config";
import worker from "../../src/index";
import { applyPrices, parsePrices, pricesFor } from "../../src/metering/price-config";
import { DEFAULT_PRICES, llmCostMc, planLimitMc, sttCostMc, ttsCostMc } from "../../src/metering/prices";
import { PROVIDERS } from "../../src/providers/registry";
import { BASE, bearer, createKey, jwtFor, newUser, uniqueSub } from "../helpers/api";
import { env } from "../helpers/env";
import { inAccount } from "../helpers/reliability";

/** The real worker with this env's variables plus `vars` (a new env object: its config and prices are parsed afresh). */
async function callWith(vars: Record<string, string>, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${BASE}${path}`, init), { ...env, ...vars } as any, ctx);
  await res.clone().arrayBuffer();
  await waitOnExecutionContext(ctx);
  return res;
}

describe("the PRICES variable", () => {
  it("absent or empty: the defaults of API.md §6", () => {
    expect(parsePrices(undefined)).toBe(DEFAULT_PRICES);
    expect(parsePrices("  ")).toBe(DEFAULT_PRICES);
    expect(DEFAULT_PRICES.plans).toEqual({
      free: { monthlyCredits: 2_500, requestsPerMinute: 30 },
      starter: { monthlyCredits: 50_000, requestsPerMinute: 60 },
      pro: { monthlyCredits: 200_000, requestsPerMinute: 300 },
      scale: { monthlyCredits: 1_000_000, requestsPerMinute: 1_000 },
    });
    expect(DEFAULT_PRICES.tts).toMatchObject({ openai: 15, huggingface: 4, elevenlabs: 166 });
    expect(DEFAULT_PRICES.stt).toMatchObject({ inworld: 8, huggingface: 3 });
  });

  it("merges over the defaults: a plan field by field, a price per provider, a new or changed model prefix", () => {
    const p = parsePrices(
      JSON.stringify({
        plans: { pro: { requestsPerMinute: 600 } },
        tts: { elevenlabs: 150 },
        stt: { deepgram: 7.5 },
        llm: { "gpt-4.1": { input: 3, output: 12 }, "My-Model": { input: 0.5, output: 0.25 } },
      }),
    );
    expect(p.plans.pro).toEqual({ monthlyCredits: 200_000, requestsPerMinute: 600 });
    expect(p.plans.free).toEqual(DEFAULT_PRICES.plans.free);
    expect(ttsCostMc("elevenlabs", 100, false, p)).toBe(15_000);
    expect(ttsCostMc("cartesia", 100, false, p)).toBe(7_800);
    expect(sttCostMc("deepgram", 60, p)).toBe(7_500);
    expect(llmCostMc("gpt-4.1-2025-04-14", 1000, 1000, p)).toBe(15_000);
    // Longest prefix still wins: gpt-4.1-mini keeps its own default price.
    expect(llmCostMc("gpt-4.1-mini", 1000, 1000, p)).toBe(4_000);
    // A new prefix (matched case-insensitively); fractional credits stay exact in millicredits.
    expect(llmCostMc("my-model-7b", 3, 3, p)).toBe(3);
    expect(llmCostMc("my-model-7b", 1000, 2000, p)).toBe(1_000);
  });

  it("fractional prices are charged exactly: thousandths of a credit, rounded up once", () => {
    const p = applyPrices({ tts: { elevenlabs: 16.6 }, stt: { groq: 0.001 } });
    // 16.6 credits per 1,000 characters = 16.6 mc a character: 10 characters are 166 mc (not 167 from 16.6 × 10 in floats).
    expect(ttsCostMc("elevenlabs", 10, false, p)).toBe(166);
    expect(ttsCostMc("elevenlabs", 3, false, p)).toBe(50); // 49.8 → 50
    expect(ttsCostMc("elevenlabs", 10, true, p)).toBe(150); // 149.4 → 150
    expect(sttCostMc("groq", 60, p)).toBe(1);
    expect(planLimitMc("pro", applyPrices({ plans: { pro: { monthlyCredits: 0.125 } } }))).toBe(125);
  });

  it("a bad value is a ConfigError naming PRICES and the field", () => {
    const bad = (v: unknown) => {
      try {
        parsePrices(typeof v === "string" ? v : JSON.stringify(v));
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    expect(bad("{not json")).toMatch(/PRICES: not valid JSON/);
    expect(bad({ plans: { gold: { monthlyCredits: 1 } } })).toMatch(/PRICES\.plans: .*"gold"/);
    expect(bad({ plans: { pro: { requestsPerMinute: 0 } } })).toMatch(/PRICES\.plans\.pro\.requestsPerMinute/);
    expect(bad({ plans: { pro: { monthlyCredits: 1, paid: false } } })).toMatch(/PRICES\.plans\.pro: .*"paid"/);
    expect(bad({ tts: { elevenlabs: -1 } })).toMatch(/PRICES\.tts\.elevenlabs/);
    expect(bad({ tts: { elevenlabs: 0.0001 } })).toMatch(/PRICES\.tts\.elevenlabs: at most three decimals/);
    expect(bad({ llm: { "gpt-4.1": { input: 1 } } })).toMatch(/PRICES\.llm\.gpt-4\.1\.output/);
    expect(bad({ voices: {} })).toMatch(/PRICES/);
    expect(bad([])).toMatch(/PRICES/);
  });

  it("a tts/stt key may be a provider's alias: it prices that provider (requests are priced by id)", () => {
    const p = parsePrices('{"tts":{"fish-audio":5},"stt":{"fish-audio":2.5}}');
    expect([p.tts.fishaudio, p.stt.fishaudio, p.tts["fish-audio"]]).toEqual([5, 2.5, undefined]);
    expect(ttsCostMc("fishaudio", 1000, false, p)).toBe(5_000);
  });

  it("an unknown provider id, an operation the provider lacks or two keys for one entry are refused", () => {
    const bad = (v: unknown) => {
      try {
        parsePrices(JSON.stringify(v));
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error(`accepted ${JSON.stringify(v)}`);
    };
    expect(bad({ tts: { elevenlab: 5 } })).toMatch(/PRICES\.tts\.elevenlab: no such provider/);
    expect(bad({ tts: { anthropic: 5 } })).toMatch(/PRICES\.tts\.anthropic: anthropic offers no TTS/);
    expect(bad({ stt: { anthropic: 5 } })).toMatch(/PRICES\.stt\.anthropic: anthropic offers no STT/);
    expect(bad({ tts: { fishaudio: 5, "fish-audio": 6 } })).toMatch(/PRICES\.tts\.fish-audio: the same provider as "fishaudio"/);
    // LLM prices are by model prefix (any prefix is a model family), but two spellings of one prefix are one entry.
    const price = { input: 1, output: 1 };
    expect(bad({ llm: { "GPT-4.1": price, " gpt-4.1": price } })).toMatch(/PRICES\.llm\. gpt-4\.1: the same prefix as "GPT-4\.1"/);
  });

  it("every default price names a provider that offers the operation (what PRICES itself must name)", () => {
    const ids = (op: "tts" | "stt") => Object.keys(DEFAULT_PRICES[op]).map((id) => PROVIDERS.find((p) => p.id === id && p[op])?.id);
    expect(ids("tts")).toEqual(Object.keys(DEFAULT_PRICES.tts));
    expect(ids("stt")).toEqual(Object.keys(DEFAULT_PRICES.stt));
  });

  it("is parsed once per env object", () => {
    const e = { PRICES: '{"tts":{"openai":20}}' } as any;
    const first = pricesFor(e);
    expect(pricesFor(e)).toBe(first);
    expect(first.tts.openai).toBe(20);
  });
});

describe("the worker with PRICES", () => {
  it("a bad PRICES answers 500 misconfigured naming PRICES — never a price from the defaults", async () => {
    const res = await callWith({ PRICES: '{"tts":{"elevenlabs":"cheap"}}' }, "/v1/me", { headers: bearer(await jwtFor(uniqueSub())) });
    expect(res.status).toBe(500);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("misconfigured");
    expect(body.error.message).toContain("PRICES.tts.elevenlabs");
  });

  it("an alias in PRICES prices its provider: /v1/providers and a request on fishaudio use it", async () => {
    const u = await newUser({ plan: "pro" });
    const vars = { PRICES: '{"tts":{"fish-audio":5}}' };
    const res = await callWith(vars, "/v1/providers", { headers: bearer(u.jwt) });
    const fish = ((await res.json()) as any).providers.find((p: any) => p.id === "fishaudio");
    expect(fish.operations.tts.price.creditsPer1000Characters).toBe(5);
    const speak = await callWith(vars, "/v1/synthesize", {
      method: "POST",
      headers: { ...bearer(u.jwt), "content-type": "application/json" },
      body: JSON.stringify({ provider: "fishaudio", text: "a".repeat(100) }),
    });
    expect([speak.status, speak.headers.get("x-usage-cost")]).toEqual([200, "0.5"]);
  });

  it("speech is priced from PRICES: 100 characters at 50 credits per 1,000 cost 5 credits (4.5 with an API key)", async () => {
    const u = await newUser({ plan: "pro" });
    const { key } = await createKey(u.jwt);
    const vars = { PRICES: '{"tts":{"elevenlabs":50}}' };
    const speak = (auth: string) =>
      callWith(vars, "/v1/synthesize", {
        method: "POST",
        headers: { ...bearer(auth), "content-type": "application/json" },
        body: JSON.stringify({ provider: "elevenlabs", text: "a".repeat(100) }),
      });
    expect((await speak(u.jwt)).headers.get("x-usage-cost")).toBe("5");
    expect((await speak(key)).headers.get("x-usage-cost")).toBe("4.5");
  });

  it("the Account object limits plans from PRICES (credits and requests per minute)", async () => {
    const u = await newUser({ plan: "starter" });
    const vars = { PRICES: JSON.stringify({ plans: { starter: { monthlyCredits: 12_345, requestsPerMinute: 7 } } }) };
    // The Account object reads its own env: give it the same PRICES as the worker for this test.
    const original = await inAccount(u.id, (instance) => {
      const before = instance.env;
      instance.env = { ...before, ...vars };
      return before;
    });
    try {
      const res = await callWith(vars, "/v1/usage", { headers: bearer(u.jwt) });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-ratelimit-limit")).toBe("7");
      expect(((await res.json()) as any).credits.limit).toBe(12_345);
    } finally {
      await inAccount(u.id, (instance) => {
        instance.env = original;
      });
    }
    // Without PRICES the same user is back on the default starter plan.
    const res = await callWith({}, "/v1/usage", { headers: bearer(u.jwt) });
    expect(res.headers.get("x-ratelimit-limit")).toBe("60");
  });

  it("a key's requestsPerMinute is bounded by the plan's rate from PRICES, not the default's", async () => {
    const u = await newUser({ plan: "pro" });
    const vars = { PRICES: JSON.stringify({ plans: { pro: { requestsPerMinute: 600 }, starter: { requestsPerMinute: 20 } } }) };
    const original = await inAccount(u.id, (instance) => {
      const before = instance.env;
      instance.env = { ...before, ...vars };
      return before;
    });
    const create = (json: unknown) =>
      callWith(vars, "/v1/keys", {
        method: "POST",
        headers: { ...bearer(u.jwt), "content-type": "application/json" },
        body: JSON.stringify(json),
      });
    try {
      // pro is 600 a minute here: 500 is within it (was: 400, "at most 300", the default's).
      const within = await create({ requestsPerMinute: 500 });
      expect(within.status).toBe(201);
      expect(((await within.json()) as any).apiKey.requestsPerMinute).toBe(500);
      const over = await create({ requestsPerMinute: 601 });
      expect(over.status).toBe(400);
      expect(((await over.json()) as any).error.fields[0].path).toBe("requestsPerMinute");
    } finally {
      await inAccount(u.id, (instance) => {
        instance.env = original;
      });
    }
  });
});
