// ElevenLabs input-streaming speech:
//   GET /v1/text-to-speech/{voice_id}/stream-input?model_id=&output_format=        (one context)
//   GET /v1/text-to-speech/{voice_id}/multi-stream-input?model_id=&output_format=  (contexts by id)
//
// Confirmed against elevenlabs-python (realtime_tts.py; types initialize_connection, send_text,
// close_connection, audio_output, final_output, normalized_alignment, *_multi, close_context,
// keep_context_alive) and elevenlabs-docs fern/apis/api/asyncapi.yml:
// - auth: header `xi-api-key`, or `xi_api_key` / `xi-api-key` / `authorization` in the first message;
// - first message {"text":" ", voice_settings?, generation_config?}; then {"text", flush?,
//   try_trigger_generation?}; {"text":""} ends the stream (single context);
// - server {"audio": base64, "isFinal": null, "normalizedAlignment": {chars, charStartTimesMs,
//   charDurationsMs}, "alignment": {…}}, finally {"isFinal": true}; then the server closes;
// - multi: {"text", "context_id", "flush"?}, {"context_id", "close_context": true},
//   {"text": "", "context_id"} keeps a context alive, {"close_socket": true}; server messages carry
//   `contextId`, and {"isFinal": true, "contextId"} ends a context;
// - errors (bad key, timeouts, bad settings) arrive as a close frame 1008 with the reason as text
//   (issue threads: pipecat-ai/pipecat#1006, #1426, #4541; elevenlabs-docs#426).
// Unconfirmed: whether a bad *header* key is refused at the handshake instead (the mock accepts and
// closes 1008 "Invalid API key", as it must for keys sent in the first message), the exact reasons,
// and what close_context does with unflushed text (the mock speaks it, then sends isFinal).
//
// Generation is deterministic: text is buffered and spoken only on `flush: true`, on {"text":""}
// (single) or close_context (multi): mockAudio(buffer, output_format or "mp3_44100_128") in 4 messages.
// Characters billed = the length (UTF-16 units) of every text after the initial " ".

import { bytesToBase64, mockAudio, splitBytes } from "../audio.mjs";
import { isInvalidKey } from "../lib/respond.mjs";

const CHAR_MS = 50;
const bearer = (v) => /^Bearer\s+(.+)$/i.exec(String(v || "").trim())?.[1];

function alignment(chars) {
  return { chars, charStartTimesMs: chars.map((_, i) => i * CHAR_MS), charDurationsMs: chars.map(() => CHAR_MS) };
}

/** Speak a context's buffer: 4 audio messages, the characters shared out over them. */
function speak(session, contextId) {
  const { state, ctx } = session;
  const c = state.contexts.get(contextId);
  if (!c?.text) return;
  const pieces = splitBytes(mockAudio(c.text, ctx.query.output_format || "mp3_44100_128"), 4);
  const chars = [...c.text];
  const per = Math.ceil(chars.length / pieces.length);
  pieces.forEach((piece, i) => {
    const slice = chars.slice(i * per, (i + 1) * per);
    const align = slice.length ? alignment(slice) : null;
    session.audioOut(piece.length);
    session.sendJson({
      audio: bytesToBase64(piece),
      isFinal: null,
      normalizedAlignment: align,
      alignment: align,
      ...(state.multi ? { contextId } : {}),
    });
  });
  c.text = "";
}

function accept(ctx) {
  const header = ctx.headers["xi-api-key"] ?? bearer(ctx.headers.authorization);
  if (header === undefined) return { key: null, keySource: null }; // the key may come in the first message
  if (isInvalidKey(header)) return { key: header, keySource: "header", reject: (s) => s.close(1008, "Invalid API key") };
  return { key: header, keySource: "header" };
}

function firstMessage(session, msg, contextId) {
  const { state, record } = session;
  state.initialized = true;
  state.contexts.get(contextId).started = true; // the opening " " is not text to speak
  if (!record.key) {
    const key = msg["xi-api-key"] ?? msg.xi_api_key ?? bearer(msg.authorization);
    if (key !== undefined) session.setKey(key, "message");
  }
  if (!record.key)
    return session.close(1008, "You must be authenticated to use this endpoint. Provide xi-api-key in the header or the first message.");
  if (isInvalidKey(record.key)) return session.close(1008, "Invalid API key");
  if (msg.text !== " ") session.protocolError(`first message text must be " ", got ${JSON.stringify(msg.text)}`);
  return true;
}

function message(session, data, isBinary) {
  const { state } = session;
  if (isBinary) return session.protocolError("binary frame on a text-to-speech socket");
  let msg;
  try {
    msg = JSON.parse(data.toString("utf8"));
  } catch {
    return session.protocolError("text frame is not JSON");
  }
  const contextId = state.multi ? (msg.context_id ?? msg.contextId ?? "default") : "default";
  if (!state.contexts.has(contextId)) state.contexts.set(contextId, { text: "" });
  if (!state.initialized) return void firstMessage(session, msg, contextId);
  if (state.multi && msg.close_socket) return session.close(1000, "");
  if (state.multi && msg.close_context) {
    speak(session, contextId);
    state.contexts.delete(contextId);
    return session.sendJson({ isFinal: true, contextId });
  }
  if (typeof msg.text !== "string") return session.protocolError("message without text");
  if (msg.text === "" && !state.multi) {
    speak(session, contextId);
    session.sendJson({ isFinal: true });
    return session.close(1000, "");
  }
  const c = state.contexts.get(contextId);
  if (msg.text === " " && !c.started) {
    c.started = true; // a new context's opening " " (multi) is not text to speak
    return;
  }
  c.started = true;
  c.text += msg.text;
  session.characters(msg.text.length);
  if (msg.flush) speak(session, contextId);
}

function variant(path, multi) {
  return {
    name: multi ? "elevenlabs-tts-multi" : "elevenlabs-tts",
    provider: "elevenlabs",
    path,
    accept,
    open(session) {
      Object.assign(session.state, { multi, contexts: new Map(), initialized: false });
    },
    message,
    fail(session, status, message) {
      session.close(1008, status >= 500 ? "We are sorry, something went wrong. You are not charged for this request." : message);
    },
  };
}

export const streamInput = variant("/v1/text-to-speech/{voice_id}/stream-input", false);
export const multiStreamInput = variant("/v1/text-to-speech/{voice_id}/multi-stream-input", true);
