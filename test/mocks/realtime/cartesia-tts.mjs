// Cartesia streaming speech, GET /tts/websocket?cartesia_version=<date>
//
// Confirmed against cartesia-js (src/internal/lib/tts/ws.ts, src/resources/tts.ts WebsocketResponse /
// GenerationRequest / CancelContextRequest, src/internal/client-identity.ts) and providers.md:
// - auth: Node SDK sends `Authorization: Bearer <key>` + `cartesia-version` headers; browsers send the
//   query `api_key` (or `access_token`) + `cartesia_version`; older clients the `X-API-Key` header;
// - client: generation requests {model_id, transcript, voice:{mode:"id",id}, output_format:{container,
//   encoding, sample_rate}, context_id, continue?, flush?, add_timestamps?, language?}; cancel
//   {context_id, cancel:true};
// - server: {type:"chunk", data (base64), done:false, status_code:206, step_time, context_id, flush_id?},
//   {type:"flush_done", context_id, done:false, flush_done:true, flush_id, status_code:206},
//   {type:"timestamps", context_id, word_timestamps:{words,start,end}}, {type:"done", context_id,
//   done:true, status_code:200}, {type:"error", status_code, title, message, error_code?, request_id?,
//   context_id?, done?}.
// Unconfirmed: that a bad key is refused at the handshake (the mock answers 401 in the HTTP error
// shape for the version) and the close code after an error (the mock: 1011).
//
// Generation is deterministic: a context's transcripts are buffered and spoken on `flush: true`
// (chunks, then flush_done) and when a request has no `continue: true` (chunks, then done):
// mockAudio(buffer, output_format.container or "raw") in 4 chunks. Characters = transcript lengths.

import { bytesToBase64, mockAudio, mockWordTimings, splitBytes, splitWords } from "../audio.mjs";
import { isInvalidKey, mockId } from "../lib/respond.mjs";

const ERRORS = {
  400: ["invalid_request", "Invalid request"],
  401: ["unauthorized", "Unauthorized"],
  402: ["payment_required", "Payment required"],
  429: ["rate_limited", "Too many requests"],
  500: ["internal_error", "Internal server error"],
  503: ["service_unavailable", "Service unavailable"],
};

/** Version from the header or the query; the key from X-API-Key, Bearer, `api_key` or `access_token`. */
export function cartesiaAccept(ctx) {
  const version = ctx.headers["cartesia-version"] ?? ctx.query.cartesia_version;
  const bearer = /^Bearer\s+(.+)$/i.exec((ctx.headers.authorization || "").trim())?.[1];
  const [key, keySource] =
    ctx.headers["x-api-key"] !== undefined
      ? [ctx.headers["x-api-key"], "header"]
      : bearer !== undefined
        ? [bearer, "header"]
        : ctx.query.api_key !== undefined
          ? [ctx.query.api_key, "query"]
          : ctx.query.access_token !== undefined
            ? [ctx.query.access_token, "query"]
            : [null, null];
  // provider.error picks JSON or plain text from the version header, which may have come in the query
  const err = (status, message) => ctx.error(status, message, {}, { ...ctx, headers: { ...ctx.headers, "cartesia-version": version } });
  if (!key) return { key, keySource, refuse: err(401, "Missing API key (X-API-Key / Authorization: Bearer / api_key)") };
  if (isInvalidKey(key)) return { key, keySource, refuse: err(401, "Invalid API key") };
  if (!version) return { key, keySource, refuse: err(400, "Cartesia-Version header or cartesia_version query parameter is required") };
  return { key, keySource };
}

/** Cartesia's in-band error message. */
export function cartesiaError(session, status, message, extra = {}) {
  const [error_code, title] = ERRORS[status] || ["error", "Error"];
  session.sendJson({
    type: "error",
    status_code: status,
    title,
    message,
    error_code,
    request_id: session.ctx.requestId,
    done: true,
    ...extra,
  });
}

function speak(session, contextId, c, flushId) {
  if (!c.text) return;
  const common = { done: false, status_code: 206, step_time: 1.5, context_id: contextId, ...(flushId ? { flush_id: flushId } : {}) };
  for (const piece of splitBytes(mockAudio(c.text, c.container), 4)) {
    session.audioOut(piece.length);
    session.sendJson({ type: "chunk", data: bytesToBase64(piece), ...common });
  }
  if (c.timestamps) {
    const words = mockWordTimings(c.text, splitWords(c.text).length * 0.3);
    session.sendJson({
      type: "timestamps",
      done: false,
      status_code: 206,
      context_id: contextId,
      word_timestamps: { words: words.map((w) => w.word), start: words.map((w) => w.start), end: words.map((w) => w.end) },
    });
  }
  c.text = "";
}

export default {
  name: "cartesia-tts",
  provider: "cartesia",
  path: "/tts/websocket",
  accept: cartesiaAccept,
  open(session) {
    session.state.contexts = new Map();
  },
  message(session, data, isBinary) {
    const { state } = session;
    if (isBinary) return session.protocolError("binary frame on /tts/websocket");
    let msg;
    try {
      msg = JSON.parse(data.toString("utf8"));
    } catch {
      return session.protocolError("text frame is not JSON");
    }
    if (msg.cancel) return void state.contexts.delete(msg.context_id);
    const contextId = msg.context_id ?? mockId("ctx_");
    for (const f of ["model_id", "transcript", "voice", "output_format"]) {
      if (msg[f] === undefined) return cartesiaError(session, 400, `${f} is required`, { context_id: contextId });
    }
    if (!state.contexts.has(contextId)) state.contexts.set(contextId, { text: "", flushes: 0 });
    const c = state.contexts.get(contextId);
    c.container = msg.output_format.container || "raw";
    c.timestamps = Boolean(msg.add_timestamps);
    c.text += String(msg.transcript);
    session.characters(String(msg.transcript).length);
    if (msg.flush) {
      c.flushes += 1;
      speak(session, contextId, c, c.flushes);
      session.sendJson({ type: "flush_done", context_id: contextId, done: false, flush_done: true, flush_id: c.flushes, status_code: 206 });
    }
    if (msg.continue !== true) {
      speak(session, contextId, c);
      state.contexts.delete(contextId);
      session.sendJson({ type: "done", context_id: contextId, done: true, status_code: 200 });
    }
  },
  fail(session, status, message) {
    cartesiaError(session, status, message);
    session.close(1011, message.slice(0, 120));
  },
};
