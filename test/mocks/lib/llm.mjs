// OpenAI-compatible chat completions, shared by the OpenAI, Groq and Hugging Face mocks.
// Reply and token counts come from mockChat() in ../audio.mjs. max_tokens is not applied (the
// reply is never cut), n is ignored (one choice). A last message containing "mock-finish-length" is
// answered with finish_reason "length" (as one cut at the cap); "mock-refusal" (OpenAI, not streamed) with
// content null and the reply as `refusal`, finish_reason "content_filter".
//
// Streaming differences:
//   openai       usage chunk (choices: [], usage) only when stream_options.include_usage is true;
//                every other chunk then carries `usage: null`, as the real API does;
//   groq         no usage chunk; the first chunk has x_groq: {id}, the last (finish_reason) chunk
//                has x_groq: {id, usage} with Groq's timing fields;
//   huggingface  always a final usage chunk (choices: [], usage).

import { mockChat, splitWords } from "../audio.mjs";
import { json, mockId, nowSeconds, sse } from "./respond.mjs";

export function openaiCompatibleChat(ctx, flavor) {
  const b = ctx.json;
  if (!b || typeof b !== "object" || Array.isArray(b))
    return ctx.error(400, "We could not parse the JSON body of your request.", { param: null });
  if (typeof b.model !== "string" && flavor !== "huggingface")
    return ctx.error(400, "you must provide a model parameter", { param: "model" });
  if (!Array.isArray(b.messages) || b.messages.length === 0)
    return ctx.error(400, "'messages' must be a non-empty array", { param: "messages" });

  const { reply, promptTokens, completionTokens, totalTokens } = mockChat(b.messages);
  const id = mockId("chatcmpl-");
  const created = nowSeconds();
  const model = b.model ?? "tgi";
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: totalTokens };
  if (flavor === "groq") Object.assign(usage, { queue_time: 0.01, prompt_time: 0.001, completion_time: 0.002, total_time: 0.003 });
  const groqId = flavor === "groq" ? mockId("req_") : null;
  const fingerprint = flavor === "huggingface" ? "3.3.6-sha-mock" : "fp_mock";

  const asked = JSON.stringify(b.messages.at(-1)?.content ?? "");
  const finish = asked.includes("mock-finish-length") ? "length" : "stop";
  const refusal = flavor === "openai" && asked.includes("mock-refusal");
  if (b.stream !== true) {
    const message = { role: "assistant", content: refusal ? null : reply };
    if (flavor === "openai") Object.assign(message, { refusal: refusal ? reply : null, annotations: [] });
    const body = {
      id,
      object: "chat.completion",
      created,
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: refusal ? "content_filter" : finish }],
      usage,
      system_fingerprint: fingerprint,
    };
    if (flavor === "openai") body.service_tier = "default";
    if (flavor === "groq") body.x_groq = { id: groqId };
    return json(body);
  }

  const includeUsage = flavor === "huggingface" || (flavor === "openai" && b.stream_options?.include_usage === true);
  const chunk = (choices, extra = {}) => {
    const c = { id, object: "chat.completion.chunk", created, model, system_fingerprint: fingerprint, choices, ...extra };
    if (flavor === "openai" && includeUsage && !("usage" in c)) c.usage = null;
    return { data: c };
  };
  const choice = (delta, finish_reason = null) => ({ index: 0, delta, logprobs: null, finish_reason });
  const events = [];
  events.push(chunk([choice({ role: "assistant", content: "" })], flavor === "groq" ? { x_groq: { id: groqId } } : {}));
  for (const [i, w] of splitWords(reply).entries()) events.push(chunk([choice({ content: (i ? " " : "") + w })]));
  events.push(chunk([choice({}, finish)], flavor === "groq" ? { x_groq: { id: groqId, usage } } : {}));
  if (includeUsage) events.push(chunk([], { usage }));
  events.push({ data: "[DONE]" });
  return sse(events);
}

export function openaiModelList(ids, ownedBy) {
  return json({ object: "list", data: ids.map((id) => ({ id, object: "model", created: 1700000000, owned_by: ownedBy })) });
}
