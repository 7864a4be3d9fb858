// Cartesia live transcription (manual finalize), GET /stt/websocket
//   ?model=&encoding=pcm_s16le&sample_rate=&cartesia_version=[&language=]
//
// Confirmed against cartesia-js (src/resources/stt/manual-finalize/*, stt.ts STTEncoding /
// STTErrorResponse), cartesia-python (types/stt/stt_manual_finalize_*) and docs.cartesia.ai
// api-reference/stt/websocket:
// - auth as /tts/websocket (cartesia-tts.mjs);
// - client: binary audio; the text commands `finalize` and `close` (plain strings; older clients and
//   providers.md say `done`, accepted as `close`);
// - server: {type:"transcript", request_id, is_final, text, duration?, language?, words?[{word,start,
//   end}]}, {type:"flush_done", request_id} after finalize, {type:"done", request_id} after close,
//   {type:"error", title, message, error_code, doc_url?, status_code, request_id};
// - transcripts are deltas: the full text is the concatenation of the is_final texts, whitespace kept.
// - encodings pcm_s16le, pcm_s32le, pcm_f16le, pcm_f32le, pcm_mulaw, pcm_alaw.
// Unconfirmed: the real endpoint may transcribe only on `finalize`; the mock follows the shared
// schedule (listen.mjs: an interim per half second, a final per second) so every listen mock bills
// alike. `duration` here is the seconds the transcript covers. Close codes after errors (1008/1011).

import { cartesiaAccept, cartesiaError } from "./cartesia-tts.mjs";
import { bytesPerSecondFor, ListenMeter } from "./listen.mjs";

function transcript(session, seg) {
  const { ctx, state, record } = session;
  const text = seg.start > 0 ? ` ${seg.text}` : seg.text; // deltas concatenate as they are
  const msg = {
    type: "transcript",
    request_id: ctx.requestId,
    is_final: seg.isFinal,
    text,
    duration: seg.duration,
    language: ctx.query.language || "en",
  };
  if (seg.isFinal) {
    msg.words = seg.words;
    state.finalSeconds += seg.duration;
    record.reported.duration = state.finalSeconds;
  }
  session.sendJson(msg);
}

function fail(session, status, message) {
  cartesiaError(session, status, message);
  session.close(status >= 500 ? 1011 : 1008, message.slice(0, 120));
}

export default {
  name: "cartesia-stt",
  provider: "cartesia",
  path: "/stt/websocket",
  accept: cartesiaAccept,
  open(session) {
    const { ctx, state, record } = session;
    const { model, encoding, sample_rate: rate } = ctx.query;
    for (const [name, value] of Object.entries({ model, encoding, sample_rate: rate }))
      if (!value) return fail(session, 400, `${name} is required`);
    const bps = bytesPerSecondFor(encoding, rate);
    if (!bps || !String(encoding).startsWith("pcm_")) return fail(session, 400, `Unsupported encoding ${JSON.stringify(encoding)}`);
    state.meter = new ListenMeter(bps);
    state.finalSeconds = 0;
    record.audioSeconds = 0;
  },
  message(session, data, isBinary) {
    const { state, ctx } = session;
    if (!state.meter || state.ended) return state.ended && session.protocolError("frame after close");
    if (isBinary) {
      session.audioIn(data.length);
      for (const seg of state.meter.push(data.length)) transcript(session, seg);
      session.record.audioSeconds = state.meter.seconds;
      return;
    }
    let command = data.toString("utf8").trim();
    if (/^"\w+"$/.test(command)) command = command.slice(1, -1); // tolerate a JSON-quoted command
    if (command !== "finalize" && command !== "close" && command !== "done")
      return session.protocolError(`unknown command ${JSON.stringify(command)}`);
    const seg = state.meter.flush();
    if (seg) transcript(session, seg);
    if (command === "finalize") return session.sendJson({ type: "flush_done", request_id: ctx.requestId });
    state.ended = true;
    session.sendJson({ type: "done", request_id: ctx.requestId });
    session.close(1000, "");
  },
  fail,
};
