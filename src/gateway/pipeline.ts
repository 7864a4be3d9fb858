// The gateway's request path, shared by the native routes, the agent routes and the OpenAI-compatible
// surface: choose provider → choose provider key → admit (rate limit + reserve credits, one Durable
// Object round trip) → call the provider (streaming) → settle the credits after the response.
import type { Ctx } from "../context";
import { open } from "../crypto/provider-key-vault";
import { ApiError } from "../http/errors";
import type { IdempotentResult } from "../metering/account";
import { admit, type Admitted } from "../metering/admit";
import {
  LLM_DEFAULT_RESERVE_OUTPUT_TOKENS,
  llmCostMc,
  STT_RESERVE_SECONDS,
  sttCostMc,
  ttsCostMc,
  type UsageKind,
} from "../metering/plans";
import { byokHeader, findProvider, platformKeyVar } from "../providers/registry";
import {
  AUDIO_CONTENT_TYPES,
  type AudioEnvelope,
  type AudioFormat,
  type ChatInput,
  type ChatResult,
  type Operation,
  type ProviderAdapter,
  type SttInput,
  type SttResult,
} from "../providers/types";
import { audioStep, chatStep } from "./steps";
import { bytesToBase64 } from "../base64";
import { relay, type StreamOutcome, type StreamStep } from "./stream";
import { callUpstream, providerFailure, redact } from "./upstream";

/** Assumed lowest audio bitrate when estimating an upload's duration for the STT reservation. */
const STT_ESTIMATE_BYTES_PER_SECOND = 2_000;
const STT_URL_RESERVE_SECONDS = 60;

// ---- choosing the provider and its key -------------------------------------------------------------

export function chooseProvider(c: Ctx, op: Operation, requested: string | undefined): ProviderAdapter {
  const config = c.var.config;
  const name =
    requested ?? (op === "tts" ? config.DEFAULT_TTS_PROVIDER : op === "stt" ? config.DEFAULT_STT_PROVIDER : config.DEFAULT_LLM_PROVIDER);
  const adapter = findProvider(name);
  if (!adapter) throw new ApiError("unknown_provider", `Unknown provider '${name}'.`, { provider: name });
  if (!adapter[op]) {
    const what = op === "tts" ? "speech synthesis" : op === "stt" ? "transcription" : "chat";
    throw new ApiError("unsupported_operation", `${adapter.name} does not offer ${what}.`, { provider: adapter.id, operation: op });
  }
  return adapter;
}

interface Metered {
  adapter: ProviderAdapter;
  kind: UsageKind;
  estimateMc: number | null;
  /** The estimate is the exact cost: charged at admission instead of reserved. */
  exact?: boolean;
  idempotency?: { key: string; fingerprint: string };
}

/** Admit the request and resolve the provider key it runs with (BYOK > stored > platform). */
async function admitWithKey(c: Ctx, m: Metered): Promise<{ admission: Admitted; key: string }> {
  const byok = c.req.header(byokHeader(m.adapter))?.trim() || undefined;
  const platformKey = c.env[platformKeyVar(m.adapter)];
  const platform = typeof platformKey === "string" && platformKey.length > 0 ? platformKey : undefined;
  const admission = await admit(
    c,
    { provider: m.adapter.id, kind: m.kind, byok: byok !== undefined, platformKeyAvailable: platform !== undefined, estimateMc: m.estimateMc, exact: m.exact },
    m.idempotency,
  );
  c.set("providerUsed", m.adapter.id);
  c.set("usageBypassed", admission.keySource !== "platform");
  let key: string | undefined;
  if (admission.keySource === "byok") key = byok;
  else if (admission.keySource === "platform") key = platform;
  else if (admission.storedKey) {
    key = (await open(c.var.config, c.var.principal.userId, m.adapter.id, admission.storedKey)) ?? undefined;
    if (key === undefined) {
      settleLater(c, admission, m.kind, null); // nothing ran: an Idempotency-Key stays free for the retry
      throw new ApiError("provider_key_missing", `The stored ${m.adapter.name} key cannot be decrypted; store it again.`);
    }
  }
  return { admission, key: key! };
}

/**
 * Settle after the response: refund (null) or charge the real cost. Bypassed requests have nothing to
 * settle; a request charged at admission (exact cost) needs a call only to be refunded.
 */
function settleLater(c: Ctx, admission: Admitted, kind: UsageKind, actualMc: Promise<number | null> | number | null, result?: () => IdempotentResult | undefined) {
  const idem = c.var.idempotencyKey;
  if (!admission.reservationId && !admission.charge && !idem) return;
  const p = c.var.principal;
  // After the response (waitUntil): not a blocking round trip, so not counted as one.
  const account = c.env.ACCOUNT.getByName(p.userId);
  const receipt = admission.charge;
  c.executionCtx.waitUntil(
    Promise.resolve(actualMc)
      .catch(() => null)
      .then((mc) => {
        if (receipt) return mc === null ? account.refund(p.userId, receipt) : undefined;
        return account.settle(p.userId, admission.reservationId, kind, mc, idem ? { key: idem, result: mc === null ? undefined : result?.() } : undefined);
      })
      .catch((e) => console.error(`[${c.var.requestId}] settle failed: ${String(e)}`)),
  );
}

async function upstreamOk(c: Ctx, adapter: ProviderAdapter, admission: Admitted, kind: UsageKind, key: string, res: Response) {
  if (res.ok) return;
  settleLater(c, admission, kind, null);
  throw await providerFailure(adapter, res, key);
}

function call(c: Ctx, adapter: ProviderAdapter, admission: Admitted, kind: UsageKind, key: string, req: Parameters<typeof callUpstream>[1]) {
  return callUpstream(adapter, req, c.var.config.PROVIDER_TIMEOUT_MS, key).catch((e) => {
    settleLater(c, admission, kind, null);
    throw e;
  });
}

function invalidAnswer(adapter: ProviderAdapter, what: string) {
  return new ApiError("provider_error", `${adapter.name} answered with ${what}.`, { provider: adapter.id });
}

// ---- speech ------------------------------------------------------------------------------------------

export interface SynthesizeInput {
  provider?: string;
  text: string;
  voiceId?: string;
  model?: string;
  format?: AudioFormat;
  sampleRate?: number;
}

export async function synthesize(c: Ctx, input: SynthesizeInput, idempotency?: Metered["idempotency"]): Promise<Response> {
  const adapter = chooseProvider(c, "tts", input.provider);
  const tts = adapter.tts!;
  const format = input.format ?? "mp3";
  if (!tts.supports(format, input.sampleRate)) {
    throw new ApiError(
      "unsupported_format",
      `${adapter.name} cannot produce ${format}${input.sampleRate ? ` at ${input.sampleRate} Hz` : ""}.`,
      { provider: adapter.id, format },
    );
  }
  const characters = [...input.text].length;
  const costMc = ttsCostMc(adapter.id, characters, c.var.principal.kind === "api_key");
  const { admission, key } = await admitWithKey(c, { adapter, kind: "tts", estimateMc: costMc, exact: true, idempotency });
  const { upstream, envelope } = tts.request(
    { text: input.text, voiceId: input.voiceId ?? tts.defaultVoice, model: input.model ?? tts.defaultModel, format, sampleRate: input.sampleRate },
    { config: c.var.config, key },
  );
  const res = await call(c, adapter, admission, "tts", key, upstream);
  await upstreamOk(c, adapter, admission, "tts", key, res);
  if (!res.body || !audioTypeFits(envelope, res.headers.get("content-type"))) {
    settleLater(c, admission, "tts", null);
    res.body?.cancel().catch(() => {});
    throw invalidAnswer(adapter, `an unexpected content type (${res.headers.get("content-type") ?? "none"})`);
  }
  const contentType = AUDIO_CONTENT_TYPES[format];
  const audio = await firstAudio(res.body, c.var.config.PROVIDER_TIMEOUT_MS, idempotency ? IDEMPOTENT_AUDIO_MAX_BYTES : 0, audioStep(envelope));
  // The provider is paid for the characters whether or not the client listened to the end; a provider
  // that failed (or went silent) before any audio is refunded.
  settleLater(
    c,
    admission,
    "tts",
    audio.ended.then((end) => (audio.failure || end === "upstream_error" ? null : (costMc ?? 0))),
    () => {
      const bytes = audio.kept();
      return bytes && { status: 200, contentType, headers: { "x-provider-used": adapter.id }, bodyBase64: bytesToBase64(bytes) };
    },
  );
  if (audio.failure === "timeout") {
    throw new ApiError("provider_timeout", `${adapter.name} sent no audio within ${c.var.config.PROVIDER_TIMEOUT_MS} ms.`, { provider: adapter.id });
  }
  if (audio.failure) throw invalidAnswer(adapter, `audio that could not be read (${redact(audio.failure.message, key)})`);
  return new Response(audio.stream, { status: 200, headers: { "content-type": contentType, "cache-control": "no-store" } });
}

/**
 * Audio kept for an idempotent retry (replayed byte for byte): at most this much, base64 in the Account
 * object's SQLite (1 MiB → 1.4 MB, under its 2 MB row limit). Longer audio is not kept (the retry gets 409).
 */
export const IDEMPOTENT_AUDIO_MAX_BYTES = 1024 * 1024;

export interface FirstAudio {
  /** The client's stream: the first chunk, then the rest as it arrives. */
  stream: ReadableStream<Uint8Array>;
  /** Why no audio could be sent: the answer failed or stayed silent before its first chunk. */
  failure?: Error | "timeout";
  /** How the client's stream ended. */
  ended: Promise<StreamOutcome>;
  /** What the client got, when it got all of it and it fits the limit. */
  kept(): Uint8Array | undefined;
}

/**
 * Waits for the first decoded audio chunk before answering, within the time-to-first-byte limit: an
 * answer that fails before any audio (a body that is not what it claims, an error event, a cut, silence)
 * becomes a 502/504 instead of a 200 whose body breaks. From then on chunks are passed on as they arrive.
 * Up to `keepMax` bytes of what the client gets are kept for an idempotent retry.
 */
export async function firstAudio(
  source: ReadableStream<Uint8Array>,
  timeoutMs: number,
  keepMax: number,
  step: StreamStep = { chunk: (b) => b, end: () => undefined },
): Promise<FirstAudio> {
  const r = relay(source, step, keepMax);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failure = await Promise.race([
    r.first.then(
      () => undefined,
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    ),
    new Promise<"timeout">((ok) => (timer = setTimeout(() => ok("timeout"), timeoutMs))),
  ]);
  if (timer !== undefined) clearTimeout(timer);
  if (failure === "timeout") r.body.cancel(new Error("no audio in time")).catch(() => {});
  return { stream: r.body, failure, ended: r.outcome, kept: r.kept };
}

function audioTypeFits(envelope: AudioEnvelope, contentType: string | null): boolean {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (envelope.kind === "raw") return !(type.startsWith("text/") || type === "application/json");
  if (envelope.kind === "sse") return type === "text/event-stream";
  return !type.startsWith("text/html");
}

// ---- transcription -----------------------------------------------------------------------------------

export interface TranscribeInput extends SttInput {
  provider?: string;
}

export async function transcribe(c: Ctx, input: TranscribeInput, idempotency?: Metered["idempotency"]) {
  const adapter = chooseProvider(c, "stt", input.provider);
  const stt = adapter.stt!;
  const model = input.model ?? stt.defaultModel;
  const estimateSeconds = input.audio
    ? Math.min(STT_RESERVE_SECONDS, Math.max(1, input.audio.data.size / STT_ESTIMATE_BYTES_PER_SECOND))
    : STT_URL_RESERVE_SECONDS;
  const { admission, key } = await admitWithKey(c, { adapter, kind: "stt", estimateMc: sttCostMc(adapter.id, estimateSeconds), idempotency });
  let sttInput: SttInput & { model: string } = { ...input, model };
  if (!input.audio && !stt.acceptsUrl) sttInput = { ...sttInput, audio: await download(c, admission, input.audioUrl!) };
  const res = await call(c, adapter, admission, "stt", key, await stt.request(sttInput, { config: c.var.config, key }));
  await upstreamOk(c, adapter, admission, "stt", key, res);
  let result: SttResult;
  try {
    result = stt.parse(await res.json(), sttInput);
  } catch {
    settleLater(c, admission, "stt", null);
    throw invalidAnswer(adapter, "a transcription that is not valid JSON");
  }
  const body = {
    success: true as const,
    text: result.text,
    durationSeconds: result.durationSeconds,
    language: result.language,
    provider: adapter.id,
    model,
    words: result.words,
  };
  settleLater(c, admission, "stt", sttCostMc(adapter.id, result.durationSeconds), () => jsonResult(body));
  return body;
}

/** Fetch an audioUrl for a provider that only takes uploads. */
async function download(c: Ctx, admission: Admitted, url: string): Promise<NonNullable<SttInput["audio"]>> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(c.var.config.PROVIDER_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const data = await res.blob();
    return { data, filename: new URL(url).pathname.split("/").pop() || "audio", contentType: res.headers.get("content-type") ?? "application/octet-stream" };
  } catch (e) {
    settleLater(c, admission, "stt", null);
    throw new ApiError("bad_request", `Could not download audioUrl: ${(e as Error).message}`);
  }
}

// ---- chat --------------------------------------------------------------------------------------------

export interface ChatRequestInput extends Omit<ChatInput, "stream"> {
  provider?: string;
  stream?: boolean;
}

export type ChatOutcome =
  | { kind: "json"; provider: string; model: string; result: ChatResult }
  | { kind: "stream"; provider: string; model: string; body: ReadableStream<Uint8Array> };

function llmEstimateMc(input: ChatRequestInput): { estimateMc: number | null; inputTokens: number } {
  // A token is practically never shorter than one character: characters bound the input tokens.
  const inputTokens = input.messages.reduce((n, m) => n + m.content.length, input.system?.length ?? 0);
  const outputTokens = input.maxTokens ?? LLM_DEFAULT_RESERVE_OUTPUT_TOKENS;
  return { estimateMc: llmCostMc(input.model, inputTokens, outputTokens), inputTokens };
}

/** `emit` renders the normalized stream events (Voxgate's SSE by default; OpenAI chunks on /v1/chat/completions). */
export async function chat(
  c: Ctx,
  input: ChatRequestInput,
  idempotency?: Metered["idempotency"],
  emit?: Parameters<typeof chatStep>[1],
): Promise<ChatOutcome> {
  const adapter = chooseProvider(c, "llm", input.provider);
  const llm = adapter.llm!;
  const { estimateMc, inputTokens: inputBound } = llmEstimateMc(input);
  const { admission, key } = await admitWithKey(c, { adapter, kind: "llm", estimateMc, idempotency });
  const stream = input.stream === true;
  const chatInput: ChatInput = { ...input, stream };
  const res = await call(c, adapter, admission, "llm", key, llm.request(chatInput, { config: c.var.config, key }));
  await upstreamOk(c, adapter, admission, "llm", key, res);

  if (!stream) {
    let result: ChatResult;
    try {
      result = llm.parse(await res.json());
    } catch {
      settleLater(c, admission, "llm", null);
      throw invalidAnswer(adapter, "an answer that is not valid JSON");
    }
    return { kind: "json", provider: adapter.id, model: input.model, result };
  }
  const type = (res.headers.get("content-type") ?? "").toLowerCase();
  if (!res.body || !type.includes("text/event-stream")) {
    settleLater(c, admission, "llm", null);
    res.body?.cancel().catch(() => {});
    throw invalidAnswer(adapter, `an unexpected content type for a stream (${type || "none"})`);
  }
  const step = chatStep(llm, emit);
  const { body, outcome } = relay(res.body, step);
  settleLater(
    c,
    admission,
    "llm",
    outcome.then((o) => {
      if (o === "upstream_error") return null;
      // Complete: the provider's own final usage. Abandoned: what was used until then.
      const u = step.usage();
      return llmCostMc(input.model, u.inputTokens ?? inputBound, u.outputTokens ?? step.approxOutputTokens()) ?? 0;
    }),
  );
  return { kind: "stream", provider: adapter.id, model: input.model, body };
}

/** Charge a non-streamed chat answer (called by the route once it has the body it will send). */
export function settleChat(c: Ctx, model: string, result: ChatResult, body?: unknown) {
  const mc = llmCostMc(model, result.usage.inputTokens, result.usage.outputTokens) ?? 0;
  settleLater(c, c.var.admission!, "llm", mc, body === undefined ? undefined : () => jsonResult(body));
}

export function jsonResult(body: unknown): IdempotentResult {
  return { status: 200, contentType: "application/json", headers: {}, bodyBase64: bytesToBase64(new TextEncoder().encode(JSON.stringify(body))) };
}
