// ElevenLabs realtime transcription (Scribe v2 realtime), GET /v1/speech-to-text/realtime
//   ?model_id=&audio_format=pcm_16000[&commit_strategy=manual|vad][&include_timestamps=true][&language_code=]
//
// Confirmed against elevenlabs-python (src/elevenlabs/realtime/scribe.py, connection.py; types
// session_started_payload(_config), partial_transcript_payload, committed_transcript(_with_timestamps)
// _payload, scribe_*_error_payload) and elevenlabs-js (src/wrapper/realtime/*, InputAudioChunkPayload):
// - auth: header `xi-api-key` (a single-use `token` query parameter for browsers);
// - client: {"message_type":"input_audio_chunk","audio_base_64","commit":false,"sample_rate"}; a commit
//   is the same message with "audio_base_64":"" and "commit":true (there is no separate commit type);
// - server: {"message_type":"session_started","session_id","config":{…}}, {"message_type":
//   "partial_transcript","text"}, {"message_type":"committed_transcript","text"},
//   {"message_type":"committed_transcript_with_timestamps","text","language_code","words"};
//   errors {"message_type":"error"|"auth_error"|"quota_exceeded"|"rate_limited"|"input_error"|
//   "transcriber_error"|…, "error": "<text>"}.
// - audio_format values: pcm_8000 … pcm_48000, ulaw_8000.
// Unconfirmed: how a bad key is refused (the mock accepts, sends `auth_error`, closes 1008), the close
// codes after errors (1008 for 4xx, 1011 for 5xx), and the timestamp word fields.
//
// The mock commits by the shared schedule (listen.mjs): a committed_transcript per whole second of
// audio, a partial per half second, and commit:true commits the rest. There is no end-of-session message
// (nor is there in the real API): the client closes the socket; the record has audioSeconds.

import { base64ToBytes } from "../audio.mjs";
import { isInvalidKey } from "../lib/respond.mjs";
import { elevenlabsBytesPerSecond, ListenMeter } from "./listen.mjs";

const ERROR_TYPES = {
  400: "input_error",
  401: "auth_error",
  402: "quota_exceeded",
  403: "unaccepted_terms_error",
  422: "input_error",
  429: "rate_limited",
};

function fail(session, status, message) {
  session.sendJson({ message_type: ERROR_TYPES[status] ?? (status >= 500 ? "transcriber_error" : "error"), error: message });
  session.close(status >= 500 ? 1011 : 1008, message.slice(0, 120));
}

function committed(session, seg) {
  const { query } = session.ctx;
  session.sendJson({ message_type: "committed_transcript", text: seg.text });
  if (query.include_timestamps === "true") {
    const words = seg.words.map((w) => ({ text: w.word, start: w.start, end: w.end, type: "word", logprob: 0 }));
    session.sendJson({
      message_type: "committed_transcript_with_timestamps",
      text: seg.text,
      language_code: query.language_code || "en",
      words,
    });
  }
}

export default {
  name: "elevenlabs-stt",
  provider: "elevenlabs",
  path: "/v1/speech-to-text/realtime",
  accept(ctx) {
    const [key, keySource] =
      ctx.headers["xi-api-key"] !== undefined
        ? [ctx.headers["xi-api-key"], "header"]
        : ctx.query.token !== undefined
          ? [ctx.query.token, "query"]
          : [null, null];
    if (!key) return { key, keySource, reject: (s) => fail(s, 401, "Missing authentication: provide the xi-api-key header or a token.") };
    if (isInvalidKey(key)) return { key, keySource, reject: (s) => fail(s, 401, "Invalid API key") };
    return { key, keySource };
  },
  open(session) {
    const { ctx, state, record } = session;
    const q = ctx.query;
    const format = q.audio_format || "pcm_16000";
    const bps = elevenlabsBytesPerSecond(format);
    if (!q.model_id) return fail(session, 400, "model_id is required");
    if (!bps) return fail(session, 400, `Unsupported audio_format ${JSON.stringify(q.audio_format)}`);
    state.meter = new ListenMeter(bps);
    record.audioSeconds = 0;
    session.sendJson({
      message_type: "session_started",
      session_id: ctx.requestId,
      config: {
        sample_rate: Number(/_(\d+)$/.exec(format)[1]),
        audio_format: format,
        language_code: q.language_code ?? null,
        commit_strategy: q.commit_strategy || "manual",
        model_id: q.model_id,
        include_timestamps: q.include_timestamps === "true",
      },
    });
  },
  message(session, data, isBinary) {
    const { state, record } = session;
    if (!state.meter) return; // the session failed at open
    if (isBinary) return session.protocolError("binary frame: audio must be base64 in input_audio_chunk");
    let msg;
    try {
      msg = JSON.parse(data.toString("utf8"));
    } catch {
      return session.protocolError("text frame is not JSON");
    }
    if (msg.message_type !== "input_audio_chunk") return session.protocolError(`unknown message_type ${JSON.stringify(msg.message_type)}`);
    if (typeof msg.audio_base_64 !== "string") return session.protocolError("input_audio_chunk without audio_base_64");
    const n = msg.audio_base_64 ? base64ToBytes(msg.audio_base_64).length : 0;
    if (n) {
      session.audioIn(n);
      for (const seg of state.meter.push(n)) {
        if (seg.isFinal) committed(session, seg);
        else session.sendJson({ message_type: "partial_transcript", text: seg.text });
      }
      record.audioSeconds = state.meter.seconds;
    }
    if (msg.commit) {
      const seg = state.meter.flush();
      if (seg) committed(session, seg);
    }
  },
  fail,
};
