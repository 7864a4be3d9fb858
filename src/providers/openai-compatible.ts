// Chat in OpenAI's wire format, shared by OpenAI, Groq and Hugging Face (all OpenAI-compatible).
import { refuseOptions } from "./chat-options";
import type {
  ChatInput,
  ChatOptions,
  ChatResult,
  ChatStreamEvent,
  FinishReason,
  LlmAdapter,
  UpstreamContext,
  UpstreamRequest,
} from "./types";
import { errorText, json } from "./wire";

export interface OpenAiChatOptions {
  defaultModel: string;
  baseUrl(ctx: UpstreamContext): string;
  /** Field name for the output-token cap ("max_completion_tokens" for OpenAI and Groq, "max_tokens" for TGI). */
  maxTokensField: "max_tokens" | "max_completion_tokens";
  /** Whether the provider takes `stream_options.include_usage` (Groq reports usage in `x_groq` instead). */
  streamOptions: boolean;
  /** The provider's name, for refusals. */
  name: string;
  /**
   * "openai": OpenAI's request fields (OpenAI, Groq). "tgi": Hugging Face's router speaks TGI's schema:
   * response_format is a grammar ({type:"json", value: schema} or {type:"json_schema", value:{name, schema}})
   * and seed is unsigned.
   */
  dialect: "openai" | "tgi";
}

/** The options' fields in OpenAI's (or TGI's) request body. */
function optionFields(options: ChatOptions | undefined, dialect: OpenAiChatOptions["dialect"]): Record<string, unknown> {
  if (!options) return {};
  const body: Record<string, unknown> = {};
  if (options.stop?.length) body.stop = options.stop;
  if (options.seed !== undefined) body.seed = options.seed;
  if (options.topP !== undefined) body.top_p = options.topP;
  if (options.presencePenalty !== undefined) body.presence_penalty = options.presencePenalty;
  if (options.frequencyPenalty !== undefined) body.frequency_penalty = options.frequencyPenalty;
  const format = options.responseFormat;
  if (format && dialect === "openai") {
    body.response_format =
      format.type === "json_object"
        ? { type: "json_object" }
        : {
            type: "json_schema",
            json_schema: {
              name: format.name,
              ...(format.description !== undefined ? { description: format.description } : {}),
              ...(format.schema !== undefined ? { schema: format.schema } : {}),
              ...(format.strict !== undefined ? { strict: format.strict } : {}),
            },
          };
  } else if (format) {
    // TGI's "json" grammar constrains the output to a JSON schema: any object for JSON mode.
    body.response_format =
      format.type === "json_object"
        ? { type: "json", value: { type: "object" } }
        : { type: "json_schema", value: { name: format.name, schema: format.schema ?? { type: "object" } } };
  }
  return body;
}

export function openAiMessages(input: ChatInput) {
  const messages = input.system ? [{ role: "system", content: input.system }, ...input.messages] : input.messages;
  return messages.map((m) => ({ role: m.role, content: m.content }));
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

export function openAiChat(options: OpenAiChatOptions): LlmAdapter {
  return {
    defaultModel: options.defaultModel,
    refuse: (input) =>
      refuseOptions(options.name, input.options, {
        stop: true,
        seed: options.dialect === "tgi" ? (seed) => (seed < 0 ? "must be 0 or more" : undefined) : true,
        topP: true,
        presencePenalty: true,
        frequencyPenalty: true,
        responseFormat: true,
      }),
    request(input: ChatInput, ctx: UpstreamContext): UpstreamRequest {
      const body: Record<string, unknown> = { model: input.model, messages: openAiMessages(input) };
      if (input.temperature !== undefined) body.temperature = input.temperature;
      Object.assign(body, optionFields(input.options, options.dialect));
      if (input.maxTokens !== undefined) body[options.maxTokensField] = input.maxTokens;
      if (input.stream) {
        body.stream = true;
        if (options.streamOptions) body.stream_options = { include_usage: true };
      }
      return json(`${options.baseUrl(ctx)}/chat/completions`, bearer(ctx.key), body);
    },
    parse(body: any): ChatResult {
      const message = body?.choices?.[0]?.message;
      // A refusal (structured outputs) answers content null and the refusal's text: an answer, never a
      // provider failure (which would fail over and count against the provider's circuit breaker).
      const content = message?.content ?? message?.refusal;
      if (typeof content !== "string") throw new Error("the provider's answer had no message content");
      return {
        content,
        usage: { inputTokens: body.usage?.prompt_tokens ?? 0, outputTokens: body.usage?.completion_tokens ?? 0 },
        finishReason: finishReasonOf(body.choices?.[0]?.finish_reason),
        refusal: typeof message?.content !== "string" && typeof message?.refusal === "string",
      };
    },
    readStreamEvent(event: string | undefined, data: string): ChatStreamEvent {
      if (data.trim() === "[DONE]") return { done: true };
      const chunk = JSON.parse(data);
      // OpenAI's {"error":{message}}; TGI (Hugging Face's router) sends {"error": "…", "error_type"}.
      if (event === "error" || chunk.error) {
        const message = typeof chunk.error === "string" ? chunk.error : (chunk.error?.message ?? chunk.message);
        return { error: typeof message === "string" && message ? message : "stream error" };
      }
      const usage = chunk.usage ?? chunk.x_groq?.usage;
      // A refusal streams as `refusal` deltas instead of `content`: passed on as the answer's text, as parse() does.
      const delta = chunk.choices?.[0]?.delta?.content || chunk.choices?.[0]?.delta?.refusal;
      return {
        delta: typeof delta === "string" && delta.length ? delta : undefined,
        usage: usage ? { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens } : undefined,
        finish: finishReasonOf(chunk.choices?.[0]?.finish_reason),
      };
    },
  };
}

/** The message of an OpenAI-style error body `{"error":{"message"}}`. */
export function openAiErrorMessage(_status: number, body: string): string | undefined {
  return errorText(body, (p) => p?.error?.message ?? p?.error);
}

/** OpenAI's finish_reason as ours: `length` and `content_filter` kept, anything else (stop, tool calls) "stop". */
function finishReasonOf(reason: unknown): FinishReason | undefined {
  if (reason === "length" || reason === "content_filter") return reason;
  return typeof reason === "string" ? "stop" : undefined;
}
