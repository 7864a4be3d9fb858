// What a metered request reserves before the provider is called (API.md §6): an upper bound on what it
// can cost, settled to the real usage afterwards.
import type { ChatMessage } from "../providers/types";
import { llmCostMc, sttCostMc } from "./prices";

/** Reserved for an STT request before its duration is known: billed minutes are settled after. */
export const STT_RESERVE_SECONDS = 600;
/** Assumed lowest audio bitrate when estimating an upload's duration for the STT reservation. */
const STT_ESTIMATE_BYTES_PER_SECOND = 2_000;
const STT_URL_RESERVE_SECONDS = 60;
/** Output tokens reserved for a chat request that names no maxTokens. */
export const LLM_DEFAULT_RESERVE_OUTPUT_TOKENS = 4_096;

export function sttEstimateMc(provider: string, uploadBytes: number | undefined): number | null {
  const seconds =
    uploadBytes === undefined
      ? STT_URL_RESERVE_SECONDS
      : Math.min(STT_RESERVE_SECONDS, Math.max(1, uploadBytes / STT_ESTIMATE_BYTES_PER_SECOND));
  return sttCostMc(provider, seconds);
}

export interface ChatBound {
  estimateMc: number | null;
  /** Input tokens the estimate assumed: a bound for a stream that ends without reporting usage. */
  inputTokens: number;
}

export function chatEstimate(model: string, messages: ChatMessage[], system: string | undefined, maxTokens: number | undefined): ChatBound {
  // A token is practically never shorter than one character: characters bound the input tokens.
  const inputTokens = messages.reduce((n, m) => n + m.content.length, system?.length ?? 0);
  const outputTokens = maxTokens ?? LLM_DEFAULT_RESERVE_OUTPUT_TOKENS;
  return { estimateMc: llmCostMc(model, inputTokens, outputTokens), inputTokens };
}
