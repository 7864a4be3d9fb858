// OpenAI Realtime (GA protocol), GET /v1/realtime?model=gpt-realtime
//
// Confirmed against openai-node 6.30.1 (node_modules/openai/src/realtime/ws.ts, internal-base.ts,
// websocket.ts; src/resources/realtime/realtime.ts):
// - OpenAIRealtimeWS connects to baseURL + "/realtime?model=…" with the scheme forced to wss: (so a
//   plain-http mock needs `options.createConnection`, see README), header `Authorization: Bearer <key>`,
//   no subprotocol; the browser client offers ["realtime", "openai-insecure-api-key.<key>"];
// - event names and fields used below (session.created/updated with session.type "realtime",
//   input_audio_buffer.*, conversation.item.added/done, response.created, response.output_item.*,
//   response.content_part.*, response.output_audio.delta/done, response.output_audio_transcript.*,
//   response.output_text.*, response.done with response.usage {input_tokens, output_tokens,
//   total_tokens, input_token_details{text_tokens, audio_tokens, image_tokens, cached_tokens,
//   cached_tokens_details}, output_token_details{text_tokens, audio_tokens}}, error{type, code,
//   message, param, event_id}).
// - A bad key is not refused at the handshake: an `error` event, then close 3000
//   "invalid_request_error.invalid_api_key" (openai/openai-realtime-api-beta#2,
//   twilio-samples/speech-assistant-openai-realtime-api-python#4).
// Unconfirmed: the exact order of events inside a response, the close codes after mock faults, the
// text of the short-commit error. The mock has no VAD: it reports turn_detection null, and answers
// only `response.create` (after `input_audio_buffer.commit` or `conversation.item.create`).
//
// Reply = mockReply(text of the last user item; an audio item counts as mockTranscriptFor(bytes)).
// Output audio = mockAudio(reply, session.audio.output.format.type), in 4 deltas. Usage: mockRealtimeUsage.
// Input audio transcription (session.audio.input.transcription {model}): each committed buffer is answered
// with conversation.item.input_audio_transcription.completed {item_id, content_index, transcript, usage}
// (openai-python types/realtime/conversation_item_input_audio_transcription_completed_event.py), usage by
// mockTranscriptionUsage: whisper-1 {type:"duration", seconds}, any other model {type:"tokens", …}.

import { base64ToBytes, bytesToBase64, countTokens, mockAudio, mockReply, mockTranscriptFor, splitBytes, splitWords } from "../audio.mjs";
import { isInvalidKey, mockId, nowSeconds } from "../lib/respond.mjs";

/**
 * Usage of one response (deterministic; tests can call it to predict a bill):
 *   input text  = words of the instructions + of every text in the conversation so far (user/system
 *                 input_text, earlier assistant replies);
 *   input audio = Σ over user audio items of ceil(bytes / (bytes per second / 10))  (1 token / 100 ms);
 *   output text = words of the reply;  output audio = ceil(audio bytes / (bytes per second / 20)).
 */
export function mockRealtimeUsage({ instructions = "", items = [], reply = "", outputAudioBytes = 0, outputBytesPerSecond = 48000 }) {
  const inText = countTokens(instructions) + items.reduce((n, it) => n + countTokens(it.text || ""), 0);
  const inAudio = items.reduce((n, it) => n + (it.audioBytes ? Math.ceil(it.audioBytes / (it.bytesPerSecond / 10)) : 0), 0);
  const outText = countTokens(reply);
  const outAudio = outputAudioBytes ? Math.ceil(outputAudioBytes / (outputBytesPerSecond / 20)) : 0;
  return {
    total_tokens: inText + inAudio + outText + outAudio,
    input_tokens: inText + inAudio,
    output_tokens: outText + outAudio,
    input_token_details: {
      text_tokens: inText,
      audio_tokens: inAudio,
      image_tokens: 0,
      cached_tokens: 0,
      cached_tokens_details: { text_tokens: 0, audio_tokens: 0, image_tokens: 0 },
    },
    output_token_details: { text_tokens: outText, audio_tokens: outAudio },
  };
}

/**
 * Usage of one input audio transcription (deterministic): whisper-1 by duration (the audio's seconds);
 * other models in tokens — input = 1 audio token per 100 ms, output = words of the transcript.
 */
export function mockTranscriptionUsage(model, audioBytes, bytesPerSecond) {
  if (model === "whisper-1") return { type: "duration", seconds: audioBytes / bytesPerSecond };
  const audio = Math.ceil(audioBytes / (bytesPerSecond / 10));
  const output = countTokens(mockTranscriptFor(audioBytes));
  return {
    type: "tokens",
    input_tokens: audio,
    output_tokens: output,
    total_tokens: audio + output,
    input_token_details: { text_tokens: 0, audio_tokens: audio },
  };
}

/** bytes/s of a GA audio format object ({type:"audio/pcm", rate:24000} → 48000; pcmu/pcma → 8000). */
export const bytesPerSecondOf = (format) =>
  format?.type === "audio/pcmu" || format?.type === "audio/pcma" ? 8000 : 2 * (format?.rate || 24000);

const ev = (type, fields = {}) => ({ type, event_id: mockId("event_"), ...fields });
const isObject = (v) => v && typeof v === "object" && !Array.isArray(v);
function merge(target, patch) {
  for (const [k, v] of Object.entries(patch)) target[k] = isObject(v) && isObject(target[k]) ? merge({ ...target[k] }, v) : v;
  return target;
}

function defaultSession(model) {
  const pcm = { type: "audio/pcm", rate: 24000 };
  return {
    type: "realtime",
    object: "realtime.session",
    id: mockId("sess_"),
    model,
    output_modalities: ["audio"],
    instructions: "",
    tools: [],
    tool_choice: "auto",
    max_output_tokens: "inf",
    tracing: null,
    truncation: "auto",
    prompt: null,
    include: null,
    expires_at: nowSeconds() + 3600,
    audio: {
      input: { format: pcm, transcription: null, noise_reduction: null, turn_detection: null },
      output: { format: pcm, voice: "alloy", speed: 1 },
    },
  };
}

function sendError(session, type, code, message, extra = {}) {
  session.sendJson(ev("error", { error: { type, code, message, param: extra.param ?? null, event_id: extra.eventId ?? null } }));
}

function fail(session, status, message) {
  const type = status >= 500 ? "server_error" : "invalid_request_error";
  const code = { 401: "invalid_api_key", 429: "rate_limit_exceeded" }[status] ?? null;
  sendError(session, type, code, message);
  session.close(status >= 500 ? 1011 : 3000, code ? `${type}.${code}` : type);
}

/** Add an item to the conversation and announce it (conversation.item.added, then .done). */
function addItem(session, { id = mockId("item_"), role, text = "", audioBytes = 0, bytesPerSecond = 48000, content }) {
  const { state } = session;
  const item = { id, type: "message", object: "realtime.item", status: "completed", role, content };
  const previous_item_id = state.lastItemId;
  state.items.push({ id: item.id, role, text, audioBytes, bytesPerSecond });
  state.lastItemId = item.id;
  session.sendJson(ev("conversation.item.added", { previous_item_id, item }));
  session.sendJson(ev("conversation.item.done", { previous_item_id, item }));
  return { item, previous_item_id };
}

function respond(session, opts) {
  const { state, record } = session;
  const s = state.session;
  const modalities = opts.output_modalities ?? s.output_modalities ?? ["audio"];
  const withAudio = modalities.includes("audio");
  const lastUser = [...state.items].reverse().find((it) => it.role === "user");
  const reply = mockReply(!lastUser ? "" : lastUser.text || (lastUser.audioBytes ? mockTranscriptFor(lastUser.audioBytes) : ""));
  const format = s.audio.output.format;
  const audio = withAudio ? mockAudio(reply, format.type || "audio/pcm") : null;
  const usage = mockRealtimeUsage({
    instructions: opts.instructions ?? s.instructions,
    items: state.items,
    reply,
    outputAudioBytes: audio?.length ?? 0,
    outputBytesPerSecond: bytesPerSecondOf(format),
  });

  const response = {
    object: "realtime.response",
    id: mockId("resp_"),
    status: "in_progress",
    status_details: null,
    output: [],
    conversation_id: state.conversationId,
    output_modalities: modalities,
    max_output_tokens: opts.max_output_tokens ?? s.max_output_tokens,
    audio: { output: { format, voice: s.audio.output.voice } },
    usage: null,
    metadata: opts.metadata ?? null,
  };
  const ids = { response_id: response.id, item_id: mockId("item_"), output_index: 0, content_index: 0 };
  const item = { id: ids.item_id, type: "message", object: "realtime.item", status: "in_progress", role: "assistant", content: [] };
  session.sendJson(ev("response.created", { response }));
  session.sendJson(ev("response.output_item.added", { response_id: response.id, output_index: 0, item }));
  session.sendJson(ev("conversation.item.added", { previous_item_id: state.lastItemId, item }));
  const kind = withAudio ? "audio" : "text";
  session.sendJson(
    ev("response.content_part.added", { ...ids, part: withAudio ? { type: "audio", transcript: "" } : { type: "text", text: "" } }),
  );
  const words = splitWords(reply).map((w, i) => (i ? ` ${w}` : w));
  const textEvent = withAudio ? "response.output_audio_transcript" : "response.output_text";
  for (const delta of words) session.sendJson(ev(`${textEvent}.delta`, { ...ids, delta }));
  if (withAudio) {
    for (const piece of splitBytes(audio, 4)) {
      session.audioOut(piece.length);
      session.sendJson(ev("response.output_audio.delta", { ...ids, delta: bytesToBase64(piece) }));
    }
    session.sendJson(ev("response.output_audio.done", ids));
  }
  session.sendJson(ev(`${textEvent}.done`, { ...ids, ...(withAudio ? { transcript: reply } : { text: reply }) }));
  const part = withAudio ? { type: "audio", transcript: reply } : { type: "text", text: reply };
  session.sendJson(ev("response.content_part.done", { ...ids, part }));
  const done = {
    ...item,
    status: "completed",
    content: [withAudio ? { type: "output_audio", transcript: reply } : { type: "output_text", text: reply }],
  };
  session.sendJson(ev("response.output_item.done", { response_id: response.id, output_index: 0, item: done }));
  if (opts.conversation !== "none") {
    state.items.push({ id: done.id, role: "assistant", text: reply, audioBytes: 0 });
    session.sendJson(ev("conversation.item.done", { previous_item_id: state.lastItemId, item: done }));
    state.lastItemId = done.id;
  }
  session.sendJson(ev("response.done", { response: { ...response, status: "completed", output: [done], usage } }));
  record.reported.responses.push({ response_id: response.id, modality: kind, reply, usage });
  for (const k of ["input_tokens", "output_tokens", "total_tokens"]) record.reported.usage[k] += usage[k];
}

const HANDLERS = {
  "session.update"(session, msg) {
    if (!isObject(msg.session) || msg.session.type !== "realtime") {
      return sendError(session, "invalid_request_error", "missing_required_parameter", "Missing required parameter: 'session.type'.", {
        param: "session.type",
        eventId: msg.event_id,
      });
    }
    merge(session.state.session, msg.session);
    session.sendJson(ev("session.updated", { session: session.state.session }));
  },
  "input_audio_buffer.append"(session, msg) {
    const n = base64ToBytes(String(msg.audio ?? "")).length;
    session.audioIn(n);
    session.state.buffer += n;
  },
  "input_audio_buffer.clear"(session) {
    session.state.buffer = 0;
    session.sendJson(ev("input_audio_buffer.cleared"));
  },
  "input_audio_buffer.commit"(session, msg) {
    const { state, record } = session;
    const bps = bytesPerSecondOf(state.session.audio.input.format);
    if (state.buffer < bps / 10) {
      const msText = ((state.buffer / bps) * 1000).toFixed(2);
      return sendError(
        session,
        "invalid_request_error",
        "input_audio_buffer_commit_empty",
        `Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has ${msText}ms of audio.`,
        { eventId: msg.event_id },
      );
    }
    const previous_item_id = state.lastItemId;
    const itemId = mockId("item_");
    session.sendJson(ev("input_audio_buffer.committed", { previous_item_id, item_id: itemId }));
    addItem(session, {
      id: itemId,
      role: "user",
      audioBytes: state.buffer,
      bytesPerSecond: bps,
      content: [{ type: "input_audio", transcript: null }],
    });
    const model = state.session.audio.input.transcription?.model;
    if (model) {
      const usage = mockTranscriptionUsage(model, state.buffer, bps);
      const transcript = mockTranscriptFor(state.buffer);
      session.sendJson(
        ev("conversation.item.input_audio_transcription.completed", { item_id: itemId, content_index: 0, transcript, usage }),
      );
      record.reported.transcriptions.push({ item_id: itemId, model, usage });
    }
    state.buffer = 0;
  },
  "conversation.item.create"(session, msg) {
    const item = msg.item;
    if (
      !isObject(item) ||
      item.type !== "message" ||
      !["user", "system", "assistant"].includes(item.role) ||
      !Array.isArray(item.content)
    ) {
      return sendError(
        session,
        "invalid_request_error",
        "invalid_value",
        "The mock accepts message items with role user, system or assistant and a content array.",
        { param: "item", eventId: msg.event_id },
      );
    }
    const text = item.content
      .map((p) => p?.text ?? p?.transcript ?? "")
      .filter(Boolean)
      .join(" ");
    const audioBytes = item.content.reduce((n, p) => n + (typeof p?.audio === "string" ? base64ToBytes(p.audio).length : 0), 0);
    session.characters(text.length);
    session.audioIn(audioBytes);
    addItem(session, {
      role: item.role,
      text,
      audioBytes,
      bytesPerSecond: bytesPerSecondOf(session.state.session.audio.input.format),
      content: item.content,
    });
  },
  "response.create"(session, msg) {
    const opts = isObject(msg.response) ? msg.response : {};
    // openai-node (RealtimeResponseCreateParams.max_output_tokens): "an integer between 1 and 4096 … or
    // `inf`". A bad value is refused with an error event and no response (the error's wording: unconfirmed).
    const max = opts.max_output_tokens;
    if (max !== undefined && max !== "inf" && !(Number.isInteger(max) && max >= 1 && max <= 4096)) {
      return sendError(session, "invalid_request_error", "invalid_value", `Invalid 'response.max_output_tokens': ${JSON.stringify(max)}.`, {
        param: "response.max_output_tokens",
        eventId: msg.event_id,
      });
    }
    respond(session, opts);
  },
  "response.cancel"(session, msg) {
    sendError(session, "invalid_request_error", "response_cancel_not_active", "Cancellation failed: no active response found.", {
      eventId: msg.event_id,
    });
  },
};

export default {
  name: "openai-realtime",
  provider: "openai",
  path: "/v1/realtime",
  subprotocol: (offered) => (offered.includes("realtime") ? "realtime" : offered[0]),
  accept(ctx) {
    const bearer = /^Bearer\s+(.+)$/i.exec((ctx.headers.authorization || "").trim())?.[1];
    const insecure = ctx.subprotocols.find((p) => p.startsWith("openai-insecure-api-key."));
    const [key, keySource] = bearer
      ? [bearer, "header"]
      : insecure
        ? [insecure.slice("openai-insecure-api-key.".length), "subprotocol"]
        : [null, null];
    if (!key) return { key, keySource, reject: (s) => fail(s, 400, "You must provide an API key (Authorization: Bearer).") };
    if (isInvalidKey(key)) return { key, keySource, reject: (s) => fail(s, 401, `Incorrect API key provided: ${key.slice(0, 7)}****.`) };
    return { key, keySource };
  },
  open(session) {
    const { ctx, state, record } = session;
    if (!ctx.query.model) session.protocolError("model query parameter missing");
    Object.assign(state, {
      session: defaultSession(ctx.query.model || "gpt-realtime"),
      buffer: 0,
      items: [],
      lastItemId: null,
      conversationId: mockId("conv_"),
    });
    record.reported = { responses: [], transcriptions: [], usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 } };
    session.sendJson(ev("session.created", { session: state.session }));
  },
  message(session, data, isBinary) {
    if (isBinary) return session.protocolError("binary frame: the Realtime API takes JSON events");
    let msg;
    try {
      msg = JSON.parse(data.toString("utf8"));
    } catch {
      session.protocolError("text frame is not JSON");
      return sendError(session, "invalid_request_error", "invalid_json", "The event is not valid JSON.");
    }
    const handler = HANDLERS[msg?.type];
    if (handler) return handler(session, msg);
    session.protocolError(`unsupported client event ${JSON.stringify(msg?.type)}`);
    sendError(
      session,
      "invalid_request_error",
      "invalid_value",
      `Invalid value: '${msg?.type}'. The mock supports ${Object.keys(HANDLERS).join(", ")}.`,
      { param: "type", eventId: msg?.event_id },
    );
  },
  fail,
};
