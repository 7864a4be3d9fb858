// What a metered request reserves, and what it is charged (API.md §6, "A reservation bounds the work").
// A reservation is an upper bound on what the request can cost, and the gateway makes the provider stay
// inside it: chat sends the provider an output cap equal to the output tokens reserved; transcription
// reserves the audio's measured duration. Where a provider reports no usage, the bound is charged; where it
// reports more than was reserved, that is charged (the excess as debt: API.md §6, never dropped).
import type { ChatMessage, TokenUsage } from "../providers/types";
import { DEFAULT_PRICES, llmCostMc, type Prices, sttCostMc } from "./prices";

/** Output tokens reserved (and sent to the provider as its cap) for a chat that names no maxTokens. */
export const LLM_DEFAULT_RESERVE_OUTPUT_TOKENS = 4_096;
/**
 * Input tokens are bounded by the prompt's UTF-8 bytes (a byte-level BPE token covers at least one byte),
 * plus what chat formats add around the text: role markers per message and the reply's priming.
 */
const CHAT_TOKENS_PER_MESSAGE = 8;
const CHAT_TOKENS_PER_REQUEST = 16;
/**
 * Token-billed transcription (OpenAI's gpt-4o-transcribe family): audio tokens per second of input
 * (OpenAI's published rate is ~17/s: $0.006 a minute at $6 per million) and text tokens per second of
 * speech (a fast talker says ~4 words, ~5 tokens, a second), each rounded up generously.
 */
const STT_AUDIO_TOKENS_PER_SECOND = 20;
const STT_TEXT_TOKENS_PER_SECOND = 10;
const STT_TOKENS_PER_REQUEST = 64;
/**
 * How far a realtime turn's reported duration may run past the audio measured for it and still be charged
 * (plausibleSeconds): providers round up (to the second, to a billing minimum). A report beyond that within a
 * live session describes something else (an item no commit announced). An HTTP transcription's report is
 * charged whatever it says (API.md §6: an excess over the reservation is debt, never dropped).
 */
export const REPORTED_SECONDS_MAX_FACTOR = 1.5;
export const REPORTED_SECONDS_MAX_EXTRA = 1;

export interface ChatBound {
  /** null when the model has no price. */
  estimateMc: number | null;
  inputTokens: number;
  /** The output cap sent to the provider. */
  outputTokens: number;
}

const utf8 = new TextEncoder();

export function chatBound(
  model: string,
  messages: ChatMessage[],
  system: string | undefined,
  maxTokens: number | undefined,
  prices: Prices = DEFAULT_PRICES,
): ChatBound {
  let bytes = system ? utf8.encode(system).byteLength : 0;
  for (const m of messages) bytes += utf8.encode(m.content).byteLength;
  const inputTokens = bytes + CHAT_TOKENS_PER_MESSAGE * (messages.length + (system ? 1 : 0)) + CHAT_TOKENS_PER_REQUEST;
  const outputTokens = maxTokens ?? LLM_DEFAULT_RESERVE_OUTPUT_TOKENS;
  return { estimateMc: llmCostMc(model, inputTokens, outputTokens, prices), inputTokens, outputTokens };
}

/**
 * What a chat is charged. A complete answer: the usage the provider reported, each missing figure at its
 * bound. An answer cut short (the provider failed, or the client left) after some output: the input as
 * reported (else its bound — the provider read all of it) and the output tokens seen so far — or the
 * provider's own running count, if higher (Anthropic reports one in message_start and in any intermediate
 * message_delta: a partial figure, never less than was delivered).
 */
export function chatCostMc(
  model: string,
  bound: ChatBound,
  reported: Partial<TokenUsage>,
  complete: boolean,
  outputTokensSeen: number,
  prices: Prices = DEFAULT_PRICES,
): number {
  const input = reported.inputTokens ?? bound.inputTokens;
  const output = complete ? (reported.outputTokens ?? bound.outputTokens) : Math.max(reported.outputTokens ?? 0, outputTokensSeen);
  return llmCostMc(model, input, output, prices) ?? 0;
}

/** The bound of a transcription of `seconds` of audio: by the minute, or in tokens for a token-billed model. */
export function sttBoundMc(
  provider: string,
  model: string,
  seconds: number,
  tokenBilled: boolean,
  prices: Prices = DEFAULT_PRICES,
): number | null {
  if (!tokenBilled) return sttCostMc(provider, seconds, prices);
  const { input, output } = sttTokenBound(seconds);
  return llmCostMc(model, input, output, prices);
}

function sttTokenBound(seconds: number) {
  return {
    input: Math.ceil(seconds * STT_AUDIO_TOKENS_PER_SECOND) + STT_TOKENS_PER_REQUEST,
    output: Math.ceil(seconds * STT_TEXT_TOKENS_PER_SECOND) + STT_TOKENS_PER_REQUEST,
  };
}

/** A reported duration that is a figure at all (finite, above 0); else undefined: not reported. */
export function secondsFigure(reported: number | undefined): number | undefined {
  return reported !== undefined && Number.isFinite(reported) && reported > 0 ? reported : undefined;
}

/** A reported duration, if it is one the audio measured can have (see REPORTED_SECONDS_MAX_FACTOR); else undefined. */
export function plausibleSeconds(reported: number | undefined, measuredSeconds: number): number | undefined {
  const seconds = secondsFigure(reported);
  return seconds !== undefined && seconds <= measuredSeconds * REPORTED_SECONDS_MAX_FACTOR + REPORTED_SECONDS_MAX_EXTRA
    ? seconds
    : undefined;
}

/**
 * What a transcription is charged: the tokens a token-billed model reported, else the seconds the
 * provider reported (more than was reserved too: the excess becomes debt), else the bound from the
 * measured duration. (A realtime turn vets its report with plausibleSeconds first.)
 */
export function sttChargeMc(
  provider: string,
  model: string,
  tokenBilled: boolean,
  measuredSeconds: number,
  reported: { seconds?: number; usage?: TokenUsage },
  prices: Prices = DEFAULT_PRICES,
): number {
  if (tokenBilled && reported.usage) return llmCostMc(model, reported.usage.inputTokens, reported.usage.outputTokens, prices) ?? 0;
  const seconds = secondsFigure(reported.seconds);
  if (!tokenBilled && seconds !== undefined) return sttCostMc(provider, seconds, prices) ?? 0;
  return sttBoundMc(provider, model, measuredSeconds, tokenBilled, prices) ?? 0;
}
