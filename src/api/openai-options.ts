// The one place a chat.completions request becomes the gateway's chat input: messages, the output cap,
// failover models and the options that shape the output (types.ts ChatOptions). Which provider takes
// which option is the adapters' to say (LlmAdapter.refuse, checked for the whole chain before any call).
import type { z } from "@hono/zod-openapi";
import type { ChatRequestInput } from "../gateway/chat";
import type { ChatMessage, ChatOptions } from "../providers/types";
import { type ChatCompletionBody, messageText } from "./openai-schemas";
import { parseModel } from "./openai-shapes";

type Body = z.infer<typeof ChatCompletionBody>;

/** The output-shaping options the caller set (null, like absent, asks for nothing). */
export function chatOptions(body: Body): ChatOptions | undefined {
  const options: ChatOptions = {};
  const stop = typeof body.stop === "string" ? [body.stop] : body.stop;
  if (stop?.length) options.stop = stop;
  if (body.seed != null) options.seed = body.seed;
  if (body.top_p != null) options.topP = body.top_p;
  if (body.presence_penalty != null) options.presencePenalty = body.presence_penalty;
  if (body.frequency_penalty != null) options.frequencyPenalty = body.frequency_penalty;
  const format = body.response_format;
  if (format?.type === "json_object") options.responseFormat = { type: "json_object" };
  if (format?.type === "json_schema") {
    const { name, description, schema, strict } = format.json_schema;
    options.responseFormat = { type: "json_schema", name, description, schema, strict: strict ?? undefined };
  }
  // {type:"text"} is the default answer: nothing to ask for.
  return Object.keys(options).length ? options : undefined;
}

/** The gateway's chat input for a chat.completions body (`model` already split into provider and model). */
export function chatInput(body: Body, first: { provider: string; model: string }): ChatRequestInput {
  const messages: ChatMessage[] = body.messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: messageText(m.content),
  }));
  return {
    ...first,
    messages,
    temperature: body.temperature ?? undefined,
    // The cap asked for, else the gateway's default: what is reserved is what the provider is told.
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
    stream: body.stream === true,
    options: chatOptions(body),
    fallback: (body.models ?? []).filter((m) => m !== body.model).map((m) => parseModel(m, "models")),
  };
}
