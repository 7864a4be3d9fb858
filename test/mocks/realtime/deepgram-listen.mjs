// Deepgram live transcription, GET /v1/listen (wss://api.deepgram.com/v1/listen).
//
// Confirmed against deepgram-js-sdk (src/api/resources/listen/resources/v1/types/*, src/CustomClient.ts)
// and developers.deepgram.com:
// - auth: header `Authorization: Token <key>` (a JWT as `Bearer`), or, for browsers, the subprotocols
//   ["token", <key>] / ["bearer", <jwt>] (the server answers with the scheme one);
// - client: binary audio; text {"type":"KeepAlive"|"Finalize"|"CloseStream"};
// - server: `Results` {type, channel_index, duration, start, is_final, speech_final, from_finalize,
//   channel.alternatives[{transcript, confidence, words[{word,start,end,confidence,punctuated_word}]}],
//   metadata{request_id, model_info, model_uuid}}; after CloseStream the remaining results, then
//   `Metadata` {type, transaction_key, request_id, sha256, created, duration, channels}, then close 1000;
// - interim results only with `interim_results=true`;
// - a refused handshake is an HTTP 4xx/5xx carrying `dg-error` and `dg-request-id` headers;
// - errors mid-stream are close frames: 1011 "NET-0000"/"NET-0001", DATA-0000 for undecodable audio.
// - a stream that gets neither audio nor a KeepAlive for 10 s is closed with 1011 "NET-0001"
//   (developers.deepgram.com/docs/audio-keep-alive: "send a KeepAlive message every 3-5 seconds to
//   prevent the 10-second timeout that triggers a NET-0001 error and closes the connection").
// Unconfirmed: the exact `dg-error` value (the mock puts the JSON error body there), 1008 for DATA-0000
// (older docs say 1002), and that an empty binary frame ends the stream like CloseStream.

import { isInvalidKey } from "../lib/respond.mjs";
import { bytesPerSecondFor, FALLBACK_BYTES_PER_SECOND, ListenMeter } from "./listen.mjs";

const MODEL_UUID = "00000000-0000-4000-8000-000000000000";

/** Deepgram closes a stream that received neither audio nor a KeepAlive for this long. */
export const IDLE_TIMEOUT_MS = 10_000;

/** (Re)start the idle timer: any frame from the client counts as activity. */
function armIdle(session) {
  clearTimeout(session.state.idle);
  session.state.idle = setTimeout(() => !session.state.ended && session.close(1011, "NET-0001"), IDLE_TIMEOUT_MS);
}

/** Deepgram refusals carry the error in a `dg-error` header too. */
export function refusal(desc) {
  return { ...desc, headers: { ...desc.headers, "dg-error": String(desc.chunks?.[0] ?? "") } };
}

/** Key from `Authorization: Token|Bearer` or the ["token"|"bearer", key] subprotocols. */
export function deepgramAccept(ctx) {
  let key = null;
  let keySource = null;
  const m = /^(?:Token|Bearer)\s+(.+)$/i.exec((ctx.headers.authorization || "").trim());
  const i = ctx.subprotocols.findIndex((p) => /^(token|bearer)$/i.test(p));
  if (m) [key, keySource] = [m[1].trim(), "header"];
  else if (i >= 0 && ctx.subprotocols[i + 1]) [key, keySource] = [ctx.subprotocols[i + 1], "subprotocol"];
  if (!key || isInvalidKey(key)) return { key, keySource, refuse: refusal(ctx.error(401, "Invalid credentials.")) };
  return { key, keySource };
}

export const deepgramSubprotocol = (offered) => offered.find((p) => /^(token|bearer)$/i.test(p)) ?? offered[0];

/** Mid-stream failure: Deepgram reports it in the close frame only. */
export function deepgramFail(session, status) {
  session.close(status >= 500 ? 1011 : 1008, status >= 500 ? "NET-0000" : "DATA-0000");
}

function results(session, seg, fromFinalize) {
  const { ctx } = session;
  const model = ctx.query.model || "base-general";
  session.sendJson({
    type: "Results",
    channel_index: [0, 1],
    duration: seg.duration,
    start: seg.start,
    is_final: seg.isFinal,
    speech_final: seg.isFinal,
    from_finalize: fromFinalize,
    channel: {
      alternatives: [
        { transcript: seg.text, confidence: 0.99, words: seg.words.map((w) => ({ ...w, confidence: 0.99, punctuated_word: w.word })) },
      ],
    },
    metadata: {
      request_id: ctx.requestId,
      model_info: { name: model, version: "mock", arch: model.split("-")[0] },
      model_uuid: MODEL_UUID,
    },
  });
}

function closeStream(session) {
  const { state, ctx, record } = session;
  state.ended = true;
  const seg = state.meter.flush();
  if (seg) results(session, seg, false);
  const duration = state.meter.seconds;
  record.reported.duration = duration;
  session.sendJson({
    type: "Metadata",
    transaction_key: "deprecated",
    request_id: ctx.requestId,
    sha256: "0".repeat(64),
    created: new Date().toISOString(),
    duration,
    channels: Number(ctx.query.channels) || 1,
  });
  session.close(1000, "");
}

export default {
  name: "deepgram-listen",
  provider: "deepgram",
  path: "/v1/listen",
  subprotocol: deepgramSubprotocol,
  refusal,
  accept(ctx) {
    const verdict = deepgramAccept(ctx);
    if (verdict.refuse) return verdict;
    const { encoding, sample_rate: rate } = ctx.query;
    if (encoding && !rate) return { ...verdict, refuse: refusal(ctx.error(400, "sample_rate is required when encoding is set.")) };
    return verdict;
  },
  open(session) {
    const { query } = session.ctx;
    const bps = bytesPerSecondFor(query.encoding, query.sample_rate, query.channels) ?? FALLBACK_BYTES_PER_SECOND;
    session.state.meter = new ListenMeter(bps);
    session.state.interim = query.interim_results === "true";
    session.record.audioSeconds = 0;
    armIdle(session);
  },
  closed(session) {
    clearTimeout(session.state.idle);
  },
  message(session, data, isBinary) {
    const { state } = session;
    if (state.ended) return session.protocolError("frame after CloseStream");
    armIdle(session);
    if (isBinary) {
      if (data.length === 0) return closeStream(session);
      session.audioIn(data.length);
      const due = state.meter.push(data.length);
      session.record.audioSeconds = state.meter.seconds;
      for (const seg of due) if (seg.isFinal || state.interim) results(session, seg, false);
      return;
    }
    let msg;
    try {
      msg = JSON.parse(data.toString("utf8"));
    } catch {
      return session.protocolError("text frame is not JSON");
    }
    if (msg.type === "KeepAlive") return;
    if (msg.type === "CloseStream") return closeStream(session);
    if (msg.type === "Finalize") {
      const seg = state.meter.flush();
      if (seg) results(session, seg, true);
      return;
    }
    session.protocolError(`unknown message type ${JSON.stringify(msg.type)}`);
  },
  fail: deepgramFail,
};
