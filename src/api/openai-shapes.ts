// OpenAI's wire format for the OpenAI-compatible surface (routes/openai-compat.ts): its error shape, the
// chat.completion object and chunks, transcription bodies, and `<provider>/<model>` model naming.
// Only the shapes differ from the native routes; every request still runs through the gateway pipeline.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { type ChatEvent, sseEvent } from "../gateway/decoders";
import { concat } from "../gateway/relay";
import { ApiError } from "../http/errors";
import type { Prices } from "../metering/prices";
import { upstreamIdProblem } from "../providers/ids";
import { findProvider, PROVIDERS } from "../providers/registry";
import type { ChatResult, SttResult } from "../providers/types";

export const OPENAI_COMPAT_PATHS = new Set(["/v1/chat/completions", "/v1/audio/speech", "/v1/audio/transcriptions", "/v1/models"]);

/** An OpenAI-compatible path, or one under it (GET /v1/models/{model}; a 404 under /v1/chat/completions/…). */
export function isOpenAiCompatPath(path: string): boolean {
  if (OPENAI_COMPAT_PATHS.has(path)) return true;
  for (const p of OPENAI_COMPAT_PATHS) if (path.startsWith(`${p}/`)) return true;
  return false;
}

// ---- errors ------------------------------------------------------------------------------------------

/** OpenAI's error `type` for each status the gateway answers with (the SDK picks its error class by status). */
const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "insufficient_quota",
  403: "permission_error",
  404: "not_found_error",
  429: "rate_limit_error",
  500: "server_error",
};
/**
 * Where OpenAI has a well-known `code` for a status, clients look for it; elsewhere Voxgate's code says more.
 * Not for 402 (OpenAI answers no 402; its `insufficient_quota` is a 429): there Voxgate's code tells an
 * exhausted account (`insufficient_credits`) from a key's spent monthly limit (`key_credit_limit_reached`).
 */
const ERROR_CODES: Record<number, string> = { 401: "invalid_api_key", 429: "rate_limit_exceeded" };
/** Failures that come from the model name (its provider part) or the audio format. */
const ERROR_PARAMS: Record<string, string> = {
  unknown_provider: "model",
  unsupported_operation: "model",
  model_not_priced: "model",
  provider_key_missing: "model",
  unsupported_format: "response_format",
};

export interface OpenAiError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function openAiError(status: number, error: { code: string; message: string; fields?: { path: string }[] }): OpenAiError {
  return {
    error: {
      message: error.message,
      type: ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error"),
      param: error.fields?.[0]?.path ?? ERROR_PARAMS[error.code] ?? null,
      code: ERROR_CODES[status] ?? error.code,
    },
  };
}

/**
 * The one place errors on the OpenAI-compatible paths change shape: it runs outside the envelope
 * checks, authentication and the routes, and rewrites the Voxgate error JSON they answered with
 * (thrown ApiErrors, validation failures) into OpenAI's `error` object, kept in Voxgate's envelope
 * (`success: false`, `requestId`, which OpenAI's clients ignore) — same status, same headers
 * (X-Request-Id, Retry-After, X-RateLimit-*), so the official SDK raises its typed errors.
 */
export const openAiErrorShape: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!isOpenAiCompatPath(c.req.path)) return next();
  await next();
  const res = c.res;
  if (res.status < 400 || !(res.headers.get("content-type") ?? "").includes("application/json")) return;
  let body: { success?: unknown; error?: { code?: unknown; message?: unknown; fields?: { path: string }[] } };
  try {
    body = await res.clone().json();
  } catch {
    return;
  }
  const error = body?.error;
  if (body?.success !== false || typeof error?.code !== "string") return;
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  // OpenAI's `error` object (what the SDK reads), inside Voxgate's envelope (API.md §8: `success` and `requestId`).
  const shaped = openAiError(res.status, { code: error.code, message: String(error.message ?? ""), fields: error.fields });
  c.res = new Response(JSON.stringify({ success: false, ...shaped, requestId: c.get("requestId") }), { status: res.status, headers });
};

// ---- model naming ------------------------------------------------------------------------------------

/**
 * `<provider>/<model>`, split at the first slash only when what precedes it is a provider id or alias
 * (Hugging Face and Groq model ids contain slashes themselves); a bare `claude-…` is Anthropic's (no other
 * provider serves that name: sent to OpenAI it could only fail); anything else is an OpenAI model.
 */
export function parseModel(name: string, field = "model"): { provider: string; model: string } {
  const slash = name.indexOf("/");
  const adapter = slash > 0 ? findProvider(name.slice(0, slash)) : undefined;
  const model = adapter ? name.slice(slash + 1) : name;
  if (adapter && !model) {
    throw new ApiError(
      "validation_failed",
      `Invalid request: ${field}: name a model after the provider, e.g. 'anthropic/claude-sonnet-4'.`,
      {
        fields: [{ path: field, message: "name a model after the provider" }],
      },
    );
  }
  // The model part goes to the provider: the same rule as every other model id (API.md §4.1).
  const problem = upstreamIdProblem(model, true);
  if (problem)
    throw new ApiError("validation_failed", `Invalid request: ${field}: ${problem}.`, { fields: [{ path: field, message: problem }] });
  return { provider: adapter?.id ?? (model.startsWith("claude-") ? "anthropic" : "openai"), model };
}

export interface ListedModel {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

/** Per price table (one per env), so the list is built once. */
const listed = new WeakMap<Prices, ListedModel[]>();

/**
 * Every `<provider>/<model>` the deployment serves by name: each provider's default model per
 * operation, plus the priced LLM model prefixes. Prices are keyed by model id, not provider, so a
 * prefix is listed under each LLM provider whose default model is of its family (gpt…, claude…,
 * meta-llama/…). A provider without a model choice is listed as `<provider>/default` (any name works).
 */
export function servableModels(prices: Prices): ListedModel[] {
  const cached = listed.get(prices);
  if (cached) return cached;
  const family = (model: string) => model.toLowerCase().split(/[-/]/)[0];
  const ids = new Map<string, string>();
  const add = (provider: string, model: string) => ids.set(`${provider}/${model || "default"}`, provider);
  for (const p of PROVIDERS) {
    for (const op of ["llm", "tts", "stt"] as const) if (p[op]) add(p.id, p[op]?.defaultModel);
  }
  for (const { prefix } of prices.llm) {
    for (const p of PROVIDERS) if (p.llm && family(p.llm.defaultModel) === family(prefix)) add(p.id, prefix);
  }
  // No creation dates are known for upstream models: 0 rather than an invented date.
  const models = [...ids].map(([id, owner]) => ({ id, object: "model" as const, created: 0, owned_by: owner }));
  listed.set(prices, models);
  return models;
}

/**
 * One servable model by id (models.retrieve): `<provider>/<model>` as listed, a provider alias, or a bare
 * OpenAI model name; undefined for anything else (an id that is no model name at all included).
 */
export function servableModel(prices: Prices, id: string): ListedModel | undefined {
  let canonical: string;
  try {
    const { provider, model } = parseModel(id);
    canonical = `${provider}/${model}`;
  } catch {
    return undefined;
  }
  return servableModels(prices).find((m) => m.id === canonical);
}

// ---- chat --------------------------------------------------------------------------------------------

const nowSeconds = () => Math.floor(Date.now() / 1000);
const completionId = () => `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`;

/** A complete answer as OpenAI's chat.completion (`model` as the caller named it, provider prefix included). */
export function chatCompletion(model: string, result: ChatResult) {
  return {
    id: completionId(),
    object: "chat.completion" as const,
    created: nowSeconds(),
    model,
    choices: [
      {
        index: 0,
        // A refusal is OpenAI's `refusal` with content null, as the provider answered it.
        message: result.refusal
          ? { role: "assistant" as const, content: null, refusal: result.content }
          : { role: "assistant" as const, content: result.content, refusal: null },
        logprobs: null,
        finish_reason: result.finishReason ?? "stop",
      },
    ],
    usage: {
      prompt_tokens: result.usage.inputTokens,
      completion_tokens: result.usage.outputTokens,
      total_tokens: result.usage.inputTokens + result.usage.outputTokens,
    },
  };
}

const DONE = new TextEncoder().encode("data: [DONE]\n\n");

/**
 * Renders the pipeline's chat events as OpenAI `chat.completion.chunk` events (for chatStep's `emit`):
 * the first delta carries the role; the end is a finish_reason chunk, then — only when the caller
 * asked with stream_options.include_usage — a usage chunk with no choices, then `data: [DONE]`.
 */
export function completionChunks(model: string, includeUsage: boolean): (event: ChatEvent) => Uint8Array | undefined {
  const id = completionId();
  const created = nowSeconds();
  let roleSent = false;
  const chunk = (choices: unknown[], usage: unknown = null) =>
    sseEvent({ id, object: "chat.completion.chunk", created, model, choices, ...(includeUsage ? { usage } : {}) });
  const choice = (delta: Record<string, string>, finish: string | null) => {
    const d = roleSent ? delta : { role: "assistant", ...delta };
    roleSent = true;
    return { index: 0, delta: d, logprobs: null, finish_reason: finish };
  };
  return (event) => {
    if (event.type === "delta") return chunk([choice({ content: event.text }, null)]);
    if (event.type === "done") {
      const u = event.usage;
      const usage = { prompt_tokens: u.inputTokens, completion_tokens: u.outputTokens, total_tokens: u.inputTokens + u.outputTokens };
      const finish = event.finish ?? "stop";
      return concat([chunk([choice(roleSent ? {} : { content: "" }, finish)]), ...(includeUsage ? [chunk([], usage)] : []), DONE]);
    }
    // The SDK raises an APIError for a data event carrying `error`.
    return sseEvent(openAiError(502, event.error));
  };
}

// ---- transcription -----------------------------------------------------------------------------------

/** The native transcription (also what an idempotent replay holds) in OpenAI's json or verbose_json. */
export function transcriptionBody(result: SttResult, format: "json" | "verbose_json", language?: string) {
  if (format === "json") return { text: result.text, usage: { type: "duration" as const, seconds: result.durationSeconds } };
  return {
    task: "transcribe" as const,
    language: result.language ?? language ?? "unknown",
    duration: result.durationSeconds,
    text: result.text,
    ...(result.words ? { words: result.words } : {}),
    // Whisper's segments where the provider gave them (the timings and text; no token-level details).
    segments: (result.segments ?? []).map((s, id) => ({ id, start: s.start, end: s.end, text: s.text })),
    usage: { type: "duration" as const, seconds: result.durationSeconds },
  };
}
