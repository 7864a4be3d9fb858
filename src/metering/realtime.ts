// What realtime sessions cost and how far ahead they reserve (API.md §4.3; docs/ARCHITECTURE.md,
// "Realtime sessions"). A session is charged exactly what flowed — seconds of audio streamed (listen),
// characters sent (speak), the tokens OpenAI reports (realtime) — at the plan's prices, once, at its end.
// While it runs it holds a reservation from the ledger, taken in slices and topped up as audio or text
// flows; it never forwards work its reservation does not cover. Every price here is the effective one
// (PRICES applied: the request's `prices`), as for HTTP requests.
import type { RealtimeOperation } from "./contract";
import type { PlanId, UsageKind } from "./plans";
import { DEFAULT_PRICES, llmCostMc, llmPrice, type Prices, sttCostMc, ttsCostMc } from "./prices";

export const REALTIME_KIND: Record<RealtimeOperation, UsageKind> = { listen: "stt", speak: "tts", realtime: "llm" };

/** Concurrent realtime sessions per plan (API.md §4.3): one more is refused at upgrade with 429. */
export const REALTIME_SESSIONS_PER_PLAN: Record<PlanId, number> = { free: 1, starter: 2, pro: 10, scale: 50 };

/**
 * A slice is what a session reserves at a time. Small enough that a session holds little of a small balance
 * (and, for OpenAI, whose cost is known only after the fact, overshoots by less than one); large enough that
 * at real-time speed a session asks for more only about every 30 s — the order of its lease renewals, so
 * top-ups add few round trips to the Account object.
 * - listen: 30 s of audio (Deepgram: 4.5 credits);
 * - speak: 250 characters, about two spoken sentences (ElevenLabs: 41.5 credits);
 * - realtime: 1,000 tokens at the model's output price, about 50 s of assistant audio (gpt-realtime: 64 credits).
 */
export const SLICE_LISTEN_SECONDS = 30;
export const SLICE_SPEAK_CHARACTERS = 250;
export const SLICE_REALTIME_TOKENS = 1_000;

export interface SlicePrice {
  /** One slice in millicredits; null when the model has no price (a metered session is refused). */
  sliceMc: number | null;
  /** The least a session can do anything with: one second, one character, one output token. */
  minimumMc: number;
}

export function listenSlice(provider: string, prices: Prices = DEFAULT_PRICES): SlicePrice {
  return { sliceMc: sttCostMc(provider, SLICE_LISTEN_SECONDS, prices), minimumMc: sttCostMc(provider, 1, prices) ?? 0 };
}

/** At the full price (the API-key discount is applied to the charge, when the credential is known). */
export function speakSlice(provider: string, prices: Prices = DEFAULT_PRICES): SlicePrice {
  return {
    sliceMc: ttsCostMc(provider, SLICE_SPEAK_CHARACTERS, false, prices),
    minimumMc: ttsCostMc(provider, 1, false, prices) ?? 0,
  };
}

export function realtimeSlice(model: string, prices: Prices = DEFAULT_PRICES): SlicePrice {
  const price = llmPrice(model, prices);
  return { sliceMc: price ? price.output * SLICE_REALTIME_TOKENS : null, minimumMc: price?.output ?? 0 };
}

/** Listen: the audio's exact length from its bytes (whole milliseconds, rounded up), at the provider's price per minute. */
export function listenCostMc(provider: string, audioBytes: number, bytesPerSecond: number, prices: Prices = DEFAULT_PRICES): number {
  if (audioBytes <= 0) return 0;
  const ms = Math.ceil((audioBytes * 1000) / bytesPerSecond);
  return sttCostMc(provider, ms / 1000, prices) ?? 0;
}

/** Speak: per character sent (code points, as /v1/synthesize), 10% less for API-key ("developer") sessions. */
export function speakCostMc(provider: string, characters: number, viaApiKey: boolean, prices: Prices = DEFAULT_PRICES): number {
  return characters > 0 ? (ttsCostMc(provider, characters, viaApiKey, prices) ?? 0) : 0;
}

/** Realtime: text and audio tokens alike, at the model's input/output price. */
export function realtimeCostMc(model: string, inputTokens: number, outputTokens: number, prices: Prices = DEFAULT_PRICES): number {
  return llmCostMc(model, inputTokens, outputTokens, prices) ?? 0;
}
