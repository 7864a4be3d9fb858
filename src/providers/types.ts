// The one small interface every provider adapter implements. An adapter knows its provider's wire
// format and nothing about Voxgate's auth, credits or HTTP layer: it declares where the provider is
// reached and what it offers, builds upstream requests and reads upstream responses.
// Adding a provider: see "Adding a provider" in docs/ARCHITECTURE.md.
import type { NativeOutput, SpeechFormat } from "../audio/plan";
import type { TextLimit } from "./text-limit";

export type { NativeOutput } from "../audio/plan";

export type Operation = "tts" | "stt" | "llm";
/** Speech formats (API.md §4.1), in the order the API lists them. */
export const AUDIO_FORMATS = ["mp3", "wav", "pcm", "opus", "ulaw", "alaw", "flac", "aac"] as const satisfies readonly SpeechFormat[];
export type AudioFormat = SpeechFormat;

/** Content-Type of each format as a provider produces it natively (µ-law off 8 kHz: see speech-output.ts). */
export const AUDIO_CONTENT_TYPES: Record<AudioFormat, string> = {
  mp3: "audio/mpeg",
  wav: "audio/wav",
  pcm: "audio/pcm",
  opus: "audio/ogg",
  ulaw: "audio/basic",
  alaw: "audio/x-alaw-basic",
  flac: "audio/flac",
  aac: "audio/aac",
};

/**
 * Where a provider is reached, by default. `api` is overridden by the variable `<ID>_BASE_URL`; any
 * other entry `name` by `<ID>_<NAME>_BASE_URL` (e.g. Resemble's management host), so tests and
 * self-hosted proxies can stand in for every call the provider gets.
 */
export type BaseUrls = { api: string } & Record<string, string>;

/** What an adapter needs to address its provider. */
export interface UpstreamContext {
  /** This provider's base URLs, as configured (no trailing slash). */
  urls: BaseUrls;
  /** The provider key to authenticate with (BYOK, stored or platform). */
  key: string;
}

export interface UpstreamRequest {
  url: string;
  init: RequestInit & { method: string; headers: Record<string, string> };
}

export interface TtsInput {
  text: string;
  /** The caller's voice, or the adapter's default voice. */
  voiceId: string;
  /** The caller's model, or the adapter's default model. */
  model: string;
  /** A format of the adapter's `outputs` (the gateway converts from it when the caller asked for another). */
  format: AudioFormat;
  /** One of that output's sample rates, or undefined for the provider's default. */
  sampleRate?: number;
  /** A speaking rate other than 1, within the adapter's `speed` range (the gateway checked it); undefined: send none. */
  speed?: number;
  /** How to speak (OpenAI's `instructions`), only for an adapter with `instructions` for this model. */
  instructions?: string;
}

/**
 * A speech option some providers take (TtsAdapter.speed, .instructions): where it goes in the provider's
 * request, for which models, and where that comes from. A request asking for it of a provider or model
 * without it is the caller's 400 before anything is reserved or sent (src/providers/speech-options.ts).
 */
export interface SpeechKnob {
  /** The provider's own field, for people and refusals (e.g. "generation_config.speed"). */
  field: string;
  /** Model id prefixes (of the model the provider runs) that take it; absent: every model. */
  models?: readonly string[];
  /** Model id prefixes that do not. */
  notModels?: readonly string[];
  /** Where the field and its range come from (a spec schema, a documentation page). */
  source: string;
}

/** The speaking rates a provider takes (1 = its normal pace), inclusive. */
export interface SpeedRange extends SpeechKnob {
  min: number;
  max: number;
}

/**
 * How the upstream TTS body carries the audio:
 * - raw: the body is the audio bytes;
 * - sse: server-sent events, `audioOf(event data JSON)` gives base64 audio (or null to skip);
 * - ndjson: one JSON object a line, `audioOf(object)` gives base64 audio;
 * - json: one JSON object with base64 audio (the provider offers nothing incremental for this format).
 */
export type AudioEnvelope =
  | { kind: "raw" }
  | {
      kind: "sse" | "ndjson" | "json";
      audioOf(payload: any): string | null | undefined;
      errorOf?(payload: any): string | undefined;
      /** The provider's end-of-answer event, where it sends one: the answer is complete there (not waited past). */
      endOf?(payload: any): boolean;
    };

export interface TtsAdapter {
  defaultVoice: string;
  /** Voice names the provider documents (where it has a fixed set); others may still exist. */
  voices?: readonly string[];
  defaultModel: string;
  /**
   * Throws UnsafeUpstreamValue (wire.ts) for a model id this provider cannot be asked for (Hugging Face's go into
   * its URL path as `org/name`): checked for every entry of a request's chain before anything runs.
   */
  checkModel?(model: string, field: string): void;
  /**
   * What the provider produces itself: each format with the sample rates it can be asked for (an empty
   * list: only at its own default rate). The gateway plans every request from this (src/audio/plan.ts):
   * served natively, converted at the edge from the provider's pcm or wav, or refused.
   */
  outputs: readonly NativeOutput[];
  /**
   * The model decides the format of its audio (Hugging Face): a request naming no format gets it as it
   * comes, with its content type; a format is converted from the model's audio when that is WAV or FLAC.
   */
  modelChoosesFormat?: boolean;
  /**
   * The longest text the provider takes in one request, with a comment citing where the figure comes from
   * (src/providers/text-limit.ts). Longer text is the caller's 400 before anything is reserved or sent.
   */
  maxText: TextLimit;
  /** Its speaking-rate knob (TtsInput.speed), where it has one: a speed other than 1 elsewhere is refused. */
  speed?: SpeedRange;
  /** Whether it takes instructions on how to speak (TtsInput.instructions): elsewhere they are refused. */
  instructions?: SpeechKnob;
  /** The model the provider runs for this model and voice, where the voice can name it (Deepgram); else the model. */
  upstreamModel?(model: string, voiceId: string): string;
  request(input: TtsInput, ctx: UpstreamContext): { upstream: UpstreamRequest; envelope: AudioEnvelope };
}

/** A recording to transcribe: always bytes (an audioUrl is fetched and measured by the gateway first). */
export interface SttInput {
  audio: { data: Blob; filename: string; contentType: string };
  model: string;
  language?: string;
  /** Timestamp granularities the caller asked for (only sent to an adapter whose `timestamps` lists them). */
  timestamps?: readonly TimestampGranularity[];
  /** Text to guide the transcript (OpenAI's `prompt`), and sampling temperature 0–1: only for adapters that take them. */
  prompt?: string;
  temperature?: number;
}

/** Transcription options only some providers take (SttAdapter.takes); elsewhere a request with one is refused. */
export type SttOption = "prompt" | "temperature";

export type TimestampGranularity = "word" | "segment";

/** A Whisper segment: its timings and text, and what Whisper reports of its decoding (OpenAI, Groq) where given. */
export interface SttSegment {
  start: number;
  end: number;
  text: string;
  seek?: number;
  tokens?: number[];
  temperature?: number;
  avg_logprob?: number;
  compression_ratio?: number;
  no_speech_prob?: number;
}

export interface SttResult {
  text: string;
  /** The audio's length as the provider reports it (it bills by it); undefined when it says nothing. */
  durationSeconds?: number;
  /** Tokens, for a token-billed model. */
  usage?: TokenUsage;
  language?: string;
  words?: { word: string; start: number; end: number }[];
  /** Whisper-style segments (verbose_json), where the provider gives them, with Whisper's decoding details where it gives those. */
  segments?: SttSegment[];
}

export interface SttAdapter {
  defaultModel: string;
  /**
   * Throws UnsafeUpstreamValue (wire.ts) for a model id this provider cannot be asked for (Hugging Face's go into
   * its URL path as `org/name`): checked for every entry of a request's chain before anything runs.
   */
  checkModel?(model: string, field: string): void;
  /**
   * Timestamps the provider gives for `model`: asked for with SttInput.timestamps (Whisper's
   * timestamp_granularities) or always present in its transcript. None listed: it gives none.
   */
  timestamps?(model: string): readonly TimestampGranularity[];
  /** Models billed in tokens rather than by the minute (OpenAI's gpt-4o-transcribe family). */
  tokenBilled?(model: string): boolean;
  /** The options of SttInput it passes on (none listed: it takes none). */
  takes?: readonly SttOption[];
  /**
   * The only models the provider transcribes with, where its API names none it could be asked for (the
   * first is `defaultModel`): another is refused (400 naming `model`), never reported as if it were used.
   * Undefined: any model id is passed on.
   */
  models?: readonly string[];
  /** false: its API has no language hint — a request naming one is refused (400 naming `language`), not dropped. */
  takesLanguage?: boolean;
  request(input: SttInput, ctx: UpstreamContext): Promise<UpstreamRequest> | UpstreamRequest;
  parse(body: any, input: SttInput): SttResult;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/**
 * Options that shape the output beyond temperature (the OpenAI-compatible surface's). An adapter passes
 * on those it declares (LlmAdapter.refuse names the first it cannot take); none can raise the output cap.
 */
export interface ChatOptions {
  stop?: string[];
  seed?: number;
  topP?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseFormat?: ChatResponseFormat;
}

export type ChatResponseFormat =
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema?: Record<string, unknown>; strict?: boolean; description?: string };

export interface ChatInput {
  model: string;
  messages: ChatMessage[];
  system?: string;
  temperature?: number;
  maxTokens?: number;
  stream: boolean;
  options?: ChatOptions;
}

/** Why a provider cannot take a chat request as asked: the request field at fault and why. */
export interface ChatRefusal {
  field: string;
  message: string;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** Why the answer ended, in OpenAI's words (finish_reason): done, cut at the output-token cap, or filtered. */
export type FinishReason = "stop" | "length" | "content_filter";

export interface ChatResult {
  content: string;
  usage: TokenUsage;
  /** Absent: "stop". */
  finishReason?: FinishReason;
  /** `content` is the model's refusal (OpenAI's `refusal`, content null), not an answer. */
  refusal?: boolean;
}

/** What one upstream stream event means, normalized. */
export interface ChatStreamEvent {
  delta?: string;
  /** Usage as far as known; later steps override earlier ones field by field. */
  usage?: Partial<TokenUsage>;
  /** The provider reported an error inside the stream. */
  error?: string;
  /** The provider said the stream is complete. */
  done?: boolean;
  /** Why the answer ended, when the provider says (before or with its end). */
  finish?: FinishReason;
}

export interface LlmAdapter {
  defaultModel: string;
  /**
   * Checked for every provider of the chain before anything is reserved or sent: a request this provider
   * cannot take as asked (an option it does not offer, no turn to answer) is the caller's 400.
   */
  refuse(input: Omit<ChatInput, "stream">): ChatRefusal | undefined;
  request(input: ChatInput, ctx: UpstreamContext): UpstreamRequest;
  parse(body: any): ChatResult;
  /** Read one SSE event (`event` name may be undefined; `data` is the raw data string). */
  readStreamEvent(event: string | undefined, data: string): ChatStreamEvent;
}

export interface ProviderAdapter {
  /** Lower-case id, also the prefix of its variables: <ID>_API_KEY, <ID>_BASE_URL. */
  id: string;
  /** Display name, also the BYOK header's suffix: X-Provider-Key-<name>. */
  name: string;
  aliases?: string[];
  baseUrls: BaseUrls;
  tts?: TtsAdapter;
  stt?: SttAdapter;
  llm?: LlmAdapter;
  /** The cheapest authenticated call the provider offers, and how to read its answer. */
  verify(ctx: UpstreamContext): { upstream: UpstreamRequest; valid(status: number, body: string): boolean };
  /** The person-readable message in an upstream error body, read the provider's way (the gateway redacts keys). */
  errorMessage(status: number, body: string): string | undefined;
}
