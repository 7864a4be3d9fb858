// GET /v1/providers (API.md §4.1, §6): every provider with its operations, defaults, speech formats
// (native or converted, at which rates), the effective prices (PRICES applied) and its health. Built from
// the registry, the planner and the price table — the same data the gateway acts on.
import { z } from "@hono/zod-openapi";
import { breakerView } from "../gateway/breaker";
import { type FormatOffer, speechFormats } from "../gateway/speech-output";
import { API_KEY_TTS_DISCOUNT_PERCENT, llmPrice, type Prices } from "../metering/prices";
import { byokHeader, PROVIDERS, platformKeyVar } from "../providers/registry";
import { SPEECH_TEXT_MAX_CHARS } from "../providers/text-limit";
import { AUDIO_FORMATS, type ProviderAdapter } from "../providers/types";
import { listenProvider, OPENAI_REALTIME_PROVIDER, speakProvider } from "../realtime/providers/registry";
import { IsoDate, iso } from "./schemas";

const Rates = z.array(z.number().int()).openapi({ example: [8000, 16000] });

const FormatSchema = z.object({
  format: z.enum(AUDIO_FORMATS),
  native: Rates.openapi({ description: "Sample rates the provider produces this format at (relayed untouched)" }),
  converted: Rates.openapi({ description: "Sample rates Voxgate converts to at the edge, from the provider's pcm or wav" }),
  byDefault: z
    .object({ delivery: z.enum(["native", "converted"]), sampleRate: z.number().int().nullable() })
    .openapi({ description: "Without a sampleRate: how it is served, and at which rate (null: the provider's own default)" }),
  condition: z
    .string()
    .nullable()
    .openapi({ description: "A limit on the conversion, e.g. Hugging Face: from what the model answers, when that is WAV or FLAC" }),
});

const TextLimitSchema = z
  .object({
    characters: z.number().int().openapi({ description: "For any model and format that no entry of `when` names" }),
    when: z
      .array(
        z.object({
          model: z.string().nullable().openapi({ description: "A model id prefix" }),
          format: z.enum(AUDIO_FORMATS).nullable().openapi({ description: "The format asked of the provider" }),
          characters: z.number().int(),
        }),
      )
      .openapi({ description: "Other limits, the first that matches wins" }),
  })
  .openapi({
    description: `Most characters of text one request takes (longer: 400 validation_failed, and a fallback that cannot take it is skipped); never above ${SPEECH_TEXT_MAX_CHARS}`,
  });

const LlmPriceSchema = z.object({
  modelPrefix: z.string(),
  inputCreditsPer1000Tokens: z.number(),
  outputCreditsPer1000Tokens: z.number(),
});

/**
 * A provider's health as the failover circuit breaker sees it (API.md §4.2): `closed` (served), `open`
 * (skipped until `retryAt`), `half_open` (a trial request decides) — as the isolate that answers sees it.
 */
const HealthSchema = z
  .object({
    state: z.enum(["unknown", "closed", "open", "half_open"]),
    since: IsoDate,
    retryAt: IsoDate,
  })
  .openapi("ProviderHealth");

export const ProviderSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    aliases: z.array(z.string()),
    byokHeader: z.string().openapi({ example: "X-Provider-Key-ElevenLabs" }),
    platformKey: z.boolean().openapi({ description: "This deployment has a platform key: metered requests need no key of yours" }),
    health: HealthSchema,
    operations: z.object({
      tts: z
        .object({
          defaultModel: z.string(),
          defaultVoice: z.string(),
          voices: z.array(z.string()).nullable(),
          defaultFormat: z
            .string()
            .openapi({ description: "What a request naming no format gets: mp3, or `model` (the model's own audio)" }),
          formats: z.array(FormatSchema),
          maxText: TextLimitSchema,
          price: z.object({ creditsPer1000Characters: z.number(), apiKeyDiscountPercent: z.number() }).nullable(),
        })
        .nullable(),
      stt: z.object({ defaultModel: z.string(), price: z.object({ creditsPerMinute: z.number() }).nullable() }).nullable(),
      llm: z
        .object({
          defaultModel: z.string(),
          price: LlmPriceSchema.nullable().openapi({ description: "The default model's price; others by model id prefix in llmPrices" }),
        })
        .nullable(),
      realtime: z
        .object({
          listen: z.object({ defaultModel: z.string() }).nullable().openapi({ description: "GET /v1/realtime/listen" }),
          speak: z
            .object({ defaultModel: z.string(), defaultVoice: z.string() })
            .nullable()
            .openapi({ description: "GET /v1/realtime/speak" }),
          openaiRealtime: z.boolean().openapi({ description: "GET /v1/realtime?model=openai/<model> (OpenAI's protocol)" }),
        })
        .nullable()
        .openapi({ description: "Realtime voice over WebSockets (API.md §4.3); null: none" }),
    }),
  })
  .openapi("Provider");

export const ProviderList = z
  .object({
    success: z.literal(true),
    providers: z.array(ProviderSchema),
    llmPrices: z.array(LlmPriceSchema).openapi({ description: "LLM prices by model id prefix (the longest matching prefix wins)" }),
  })
  .openapi("ProviderList");

type ProviderView = z.infer<typeof ProviderSchema>;

const llmView = (p: { prefix: string; input: number; output: number }) => ({
  modelPrefix: p.prefix,
  inputCreditsPer1000Tokens: p.input,
  outputCreditsPer1000Tokens: p.output,
});

/** Formats per adapter: the planner's answer does not change between requests. */
const formatsByAdapter = new WeakMap<object, FormatOffer[]>();
function formatsOf(tts: NonNullable<ProviderAdapter["tts"]>): FormatOffer[] {
  let formats = formatsByAdapter.get(tts);
  if (!formats) {
    formats = speechFormats(tts);
    formatsByAdapter.set(tts, formats);
  }
  return formats;
}

export function providerView(p: ProviderAdapter, prices: Prices, platformKey: boolean, now = Date.now()): ProviderView {
  const tts = p.tts;
  const ttsPrice = prices.tts[p.id];
  const sttPrice = prices.stt[p.id];
  const llmDefault = p.llm && llmPrice(p.llm.defaultModel, prices);
  return {
    id: p.id,
    name: p.name,
    aliases: p.aliases ?? [],
    byokHeader: byokHeader(p),
    platformKey,
    // The failover circuit breaker as this isolate sees it (API.md §4.2).
    health: healthView(p.id, now),
    operations: {
      tts: tts
        ? {
            defaultModel: tts.defaultModel,
            defaultVoice: tts.defaultVoice,
            voices: tts.voices ? [...tts.voices] : null,
            defaultFormat: tts.modelChoosesFormat ? "model" : "mp3",
            formats: formatsOf(tts),
            maxText: textLimitView(tts),
            price:
              ttsPrice === undefined ? null : { creditsPer1000Characters: ttsPrice, apiKeyDiscountPercent: API_KEY_TTS_DISCOUNT_PERCENT },
          }
        : null,
      stt: p.stt ? { defaultModel: p.stt.defaultModel, price: sttPrice === undefined ? null : { creditsPerMinute: sttPrice } } : null,
      llm: p.llm ? { defaultModel: p.llm.defaultModel, price: llmDefault ? llmView(llmDefault) : null } : null,
      realtime: realtimeView(p.id),
    },
  };
}

function textLimitView(tts: NonNullable<ProviderAdapter["tts"]>): z.infer<typeof TextLimitSchema> {
  return {
    characters: Math.min(tts.maxText.chars, SPEECH_TEXT_MAX_CHARS),
    when: (tts.maxText.when ?? []).map((r) => ({
      model: r.model ?? null,
      format: r.format ?? null,
      characters: Math.min(r.chars, SPEECH_TEXT_MAX_CHARS),
    })),
  };
}

function realtimeView(provider: string): ProviderView["operations"]["realtime"] {
  const listen = listenProvider(provider);
  const speak = speakProvider(provider);
  const openaiRealtime = provider === OPENAI_REALTIME_PROVIDER;
  if (!listen && !speak && !openaiRealtime) return null;
  return {
    listen: listen ? { defaultModel: listen.defaultModel } : null,
    speak: speak ? { defaultModel: speak.defaultModel, defaultVoice: speak.defaultVoice } : null,
    openaiRealtime,
  };
}

function healthView(provider: string, now: number): z.infer<typeof HealthSchema> {
  const b = breakerView(provider, now);
  return { state: b.state, since: b.since === null ? null : iso(b.since), retryAt: b.retryAt === null ? null : iso(b.retryAt) };
}

/** Every provider, as this deployment serves it (`env` says which platform keys exist). */
export function providerList(prices: Prices, env: Record<string, unknown>): z.infer<typeof ProviderList> {
  return {
    success: true,
    providers: PROVIDERS.map((p) => {
      const key = env[platformKeyVar(p)];
      return providerView(p, prices, typeof key === "string" && key.length > 0);
    }),
    llmPrices: prices.llm.map(llmView),
  };
}
