// The chat options beyond temperature (types.ts ChatOptions): which ones an adapter takes, and the
// refusal for the first it does not. The request field names are OpenAI's (the only surface that
// carries these options), so a refusal names what the caller sent.
import type { ChatInput, ChatOptions, ChatRefusal } from "./types";

export type ChatOption = keyof ChatOptions;

/** Each option's name in the request (OpenAI's). */
export const CHAT_OPTION_FIELDS: Record<ChatOption, string> = {
  stop: "stop",
  seed: "seed",
  topP: "top_p",
  presencePenalty: "presence_penalty",
  frequencyPenalty: "frequency_penalty",
  responseFormat: "response_format",
};

/**
 * The refusal for the first option set in `options` that `accepts` says no to (an option missing from
 * `accepts` is not offered; a function checks the value), or undefined when the provider takes them all.
 */
export function refuseOptions(
  provider: string,
  options: ChatOptions | undefined,
  accepts: { [K in ChatOption]?: true | ((value: NonNullable<ChatOptions[K]>) => string | undefined) },
): ChatRefusal | undefined {
  for (const key of Object.keys(CHAT_OPTION_FIELDS) as ChatOption[]) {
    const value = options?.[key];
    if (value === undefined) continue;
    const rule = accepts[key] as true | ((v: unknown) => string | undefined) | undefined;
    const field = CHAT_OPTION_FIELDS[key];
    if (!rule) return { field, message: `${provider} does not support ${field}.` };
    const problem = rule === true ? undefined : rule(value);
    if (problem) return { field, message: `${provider}: ${field} ${problem}.` };
  }
  return undefined;
}

/** A request with no user or assistant turn: a provider that answers turns only (Anthropic) cannot take it. */
export function refuseNoTurn(provider: string, input: Pick<ChatInput, "messages">): ChatRefusal | undefined {
  if (input.messages.some((m) => m.role !== "system")) return undefined;
  return { field: "messages", message: `${provider} needs at least one user or assistant message besides system messages.` };
}

/**
 * The text the options add to what the provider reads (stop sequences, a JSON schema): part of the
 * input the gateway reserves for, like the messages.
 */
export function optionsPromptText(options: ChatOptions | undefined): string {
  if (!options) return "";
  const parts = [...(options.stop ?? [])];
  if (options.responseFormat?.type === "json_schema") parts.push(JSON.stringify(options.responseFormat));
  return parts.join("\n");
}
