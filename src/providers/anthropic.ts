// Anthropic Messages API. Auth: x-api-key + anthropic-version. Stream: named SSE events;
// input tokens arrive in message_start, output tokens in message_delta (cumulative: the last wins).
import { refuseNoTurn, refuseOptions } from "./chat-options";
import type { ChatStreamEvent, FinishReason, ProviderAdapter } from "./types";
import { errorText, get, is2xx, json } from "./wire";

const ANTHROPIC_VERSION = "2023-06-01";
/** Anthropic requires max_tokens; used when the caller names none (also what credits reserve). */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4_096;

const headers = (key: string) => ({ "x-api-key": key, "anthropic-version": ANTHROPIC_VERSION });

export const anthropic: ProviderAdapter = {
  id: "anthropic",
  name: "Anthropic",
  baseUrls: { api: "https://api.anthropic.com" },
  llm: {
    defaultModel: "claude-sonnet-4-20250514",
    // The Messages API has stop_sequences and top_p; no seed, penalties or JSON response format.
    refuse: (input) =>
      refuseNoTurn("Anthropic", input) ??
      // Anthropic's range is 0–1 (its API answers 400 past it): refused, never clamped to another value.
      (input.temperature !== undefined && input.temperature > 1
        ? { field: "temperature", message: "Anthropic takes a temperature from 0 to 1." }
        : refuseOptions("Anthropic", input.options, { stop: true, topP: true })),
    request(input, ctx) {
      // Anthropic takes the system prompt apart from the turns; system turns in messages join it.
      const system = [input.system, ...input.messages.filter((m) => m.role === "system").map((m) => m.content)]
        .filter(Boolean)
        .join("\n\n");
      const body: Record<string, unknown> = {
        model: input.model,
        max_tokens: input.maxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
        messages: input.messages.filter((m) => m.role !== "system").map((m) => ({ role: m.role, content: m.content })),
      };
      if (system) body.system = system;
      if (input.temperature !== undefined) body.temperature = input.temperature;
      if (input.options?.stop?.length) body.stop_sequences = input.options.stop;
      if (input.options?.topP !== undefined) body.top_p = input.options.topP;
      if (input.stream) body.stream = true;
      return json(`${ctx.urls.api}/v1/messages`, headers(ctx.key), body);
    },
    parse(body) {
      const content = Array.isArray(body?.content)
        ? body.content
            .filter((b: any) => b.type === "text")
            .map((b: any) => b.text)
            .join("")
        : undefined;
      if (typeof content !== "string") throw new Error("the provider's answer had no content");
      return {
        content,
        usage: { inputTokens: body.usage?.input_tokens ?? 0, outputTokens: body.usage?.output_tokens ?? 0 },
        finishReason: stopReasonOf(body.stop_reason),
      };
    },
    readStreamEvent(event, data): ChatStreamEvent {
      const payload = JSON.parse(data);
      switch (event ?? payload.type) {
        case "message_start": {
          const u = payload.message?.usage ?? {};
          return { usage: { inputTokens: u.input_tokens, outputTokens: u.output_tokens } };
        }
        case "content_block_delta":
          return { delta: payload.delta?.type === "text_delta" ? payload.delta.text : undefined };
        case "message_delta":
          return { usage: { outputTokens: payload.usage?.output_tokens }, finish: stopReasonOf(payload.delta?.stop_reason) };
        case "message_stop":
          return { done: true };
        case "error":
          return { error: payload.error?.message ?? "stream error" };
        default:
          return {};
      }
    },
  },
  verify: (ctx) => ({
    upstream: get(`${ctx.urls.api}/v1/models`, headers(ctx.key)),
    // A key Anthropic knows but restricts answers 403 permission_error: still valid (a bad key is 401).
    valid: (status, body) => is2xx(status) || (status === 403 && body.includes("permission_error")),
  }),
  errorMessage: (_status, body) => errorText(body, (p) => p?.error?.message),
};

/** Anthropic's stop_reason in OpenAI's words: max_tokens is "length", a refusal "content_filter", the rest "stop". */
function stopReasonOf(reason: unknown): FinishReason | undefined {
  if (reason === "max_tokens") return "length";
  if (reason === "refusal") return "content_filter";
  return typeof reason === "string" ? "stop" : undefined;
}
