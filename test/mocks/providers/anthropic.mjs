// Anthropic: POST /v1/messages (non-stream and named-event SSE), GET /v1/models.
// Auth `x-api-key` + `anthropic-version` (missing version → 400 invalid_request_error).
//
// Stream: message_start (usage.input_tokens, output_tokens: 1 as the real API sends),
// content_block_start, ping, one content_block_delta (text_delta) per word, content_block_stop,
// an intermediate message_delta (stop_reason null, output_tokens = half the words), the final
// message_delta (stop_reason "end_turn", output_tokens = all) and message_stop.
// output_tokens is cumulative: the last message_delta is the total, never sum them.

import { mockChat, splitWords } from "../audio.mjs";
import { json, mockId, sse } from "../lib/respond.mjs";

const ERROR_TYPES = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

function error(status, message, opts = {}) {
  const type = opts.type ?? ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
  return json({ type: "error", error: { type, message }, request_id: opts.requestId ?? mockId("req_") }, status);
}

function auth(ctx) {
  const key = ctx.headers["x-api-key"];
  if (!key) return error(401, "x-api-key header is required", { requestId: ctx.requestId });
  if (key.startsWith("invalid")) return error(401, "invalid x-api-key", { requestId: ctx.requestId });
  if (!ctx.headers["anthropic-version"]) return error(400, "anthropic-version: header is required", { requestId: ctx.requestId });
  return null;
}

function messages(ctx) {
  const b = ctx.json;
  if (!b || typeof b !== "object") return error(400, "Request body must be a JSON object", { requestId: ctx.requestId });
  if (typeof b.model !== "string") return error(400, "model: Field required", { requestId: ctx.requestId });
  if (b.max_tokens === undefined) return error(400, "max_tokens: Field required", { requestId: ctx.requestId });
  if (!Array.isArray(b.messages) || b.messages.length === 0) return error(400, "messages: Field required", { requestId: ctx.requestId });

  const { reply, promptTokens, completionTokens } = mockChat(b.messages, b.system);
  // A last message containing "mock-finish-length" ends as one cut at the cap would: stop_reason "max_tokens".
  const stopReason = JSON.stringify(b.messages.at(-1)?.content ?? "").includes("mock-finish-length") ? "max_tokens" : "end_turn";
  const id = mockId("msg_");
  const baseUsage = {
    input_tokens: promptTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: null,
    inference_geo: null,
    server_tool_use: null,
  };

  if (b.stream !== true) {
    return json({
      id,
      type: "message",
      role: "assistant",
      content: [{ type: "text", text: reply, citations: null }],
      model: b.model,
      stop_reason: stopReason,
      stop_sequence: null,
      stop_details: null,
      container: null,
      usage: { ...baseUsage, output_tokens: completionTokens, service_tier: "standard" },
    });
  }

  const ev = (event, data) => ({ event, data: { type: event, ...data } });
  const words = splitWords(reply);
  const events = [
    ev("message_start", {
      message: {
        id,
        type: "message",
        role: "assistant",
        content: [],
        model: b.model,
        stop_reason: null,
        stop_sequence: null,
        usage: { ...baseUsage, output_tokens: 1 },
      },
    }),
    ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    ev("ping", {}),
    ...words.map((w, i) => ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: (i ? " " : "") + w } })),
    ev("content_block_stop", { index: 0 }),
    ev("message_delta", {
      delta: { stop_reason: null, stop_sequence: null },
      usage: { output_tokens: Math.max(1, Math.floor(completionTokens / 2)) },
    }),
    ev("message_delta", { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: completionTokens } }),
    ev("message_stop", {}),
  ];
  return sse(events);
}

const MODELS = [
  ["claude-sonnet-4-5-20250929", "Claude Sonnet 4.5"],
  ["claude-haiku-4-5-20251001", "Claude Haiku 4.5"],
];

export default {
  id: "anthropic",
  specId: "anthropic",
  bases: [{ name: "anthropic", prefix: "/anthropic", env: { ANTHROPIC_BASE_URL: "" } }],
  requestIdHeader: "request-id",
  auth,
  error,
  routes: [
    ["POST", "/v1/messages", messages],
    [
      "GET",
      "/v1/models",
      () =>
        json({
          data: MODELS.map(([id, display_name]) => ({
            type: "model",
            id,
            display_name,
            created_at: "2025-09-29T00:00:00Z",
            capabilities: null,
            max_input_tokens: 200000,
            max_tokens: 64000,
          })),
          has_more: false,
          first_id: MODELS[0][0],
          last_id: MODELS[MODELS.length - 1][0],
        }),
    ],
  ],
};
