// Deepgram streaming speech, GET /v1/speak (wss://api.deepgram.com/v1/speak).
//
// Confirmed against deepgram-js-sdk (src/api/resources/speak/resources/v1/types/*) and the docs pages
// tts-ws-flush / tts-ws-clear / tts-ws-close: client {"type":"Speak","text"}, {"type":"Flush"},
// {"type":"Clear"}, {"type":"Close"}; server binary audio, {"type":"Flushed","sequence_id"},
// {"type":"Cleared","sequence_id"}, {"type":"Metadata","request_id","model_name","model_version",
// "model_uuid"} (sent on connect: the Flux docs call v2's `Connected` its successor), `Warning`.
// Close ends the connection at once (1000), without audio for text not yet flushed. Auth and errors as
// /v1/listen. Unconfirmed: how sequence_id counts (the mock: 0, 1, 2 … per Flushed/Cleared).
//
// Audio per Flush = mockAudio(text spoken since the last Flush/Clear, `encoding` query or "linear16"),
// in 4 binary frames.

import { mockAudio, splitBytes } from "../audio.mjs";
import { deepgramAccept, deepgramFail, deepgramSubprotocol, refusal } from "./deepgram-listen.mjs";

export default {
  name: "deepgram-speak",
  provider: "deepgram",
  path: "/v1/speak",
  subprotocol: deepgramSubprotocol,
  refusal,
  accept: deepgramAccept,
  open(session) {
    const { ctx, state } = session;
    state.text = "";
    state.sequence = 0;
    session.sendJson({
      type: "Metadata",
      request_id: ctx.requestId,
      model_name: ctx.query.model || "aura-2-thalia-en",
      model_version: "mock",
      model_uuid: "00000000-0000-4000-8000-000000000000",
    });
  },
  message(session, data, isBinary) {
    const { state, ctx } = session;
    if (isBinary) return session.protocolError("binary frame on /v1/speak");
    let msg;
    try {
      msg = JSON.parse(data.toString("utf8"));
    } catch {
      return session.protocolError("text frame is not JSON");
    }
    switch (msg.type) {
      case "Speak":
        if (typeof msg.text !== "string") return session.protocolError("Speak without text");
        // "The input limit is currently 2000 characters for the text input of each Speak message" (Deepgram's docs).
        if ([...msg.text].length > 2000) return session.protocolError("Speak text over 2000 characters");
        state.text += msg.text;
        session.characters(msg.text.length);
        return;
      case "Flush": {
        if (state.text)
          for (const piece of splitBytes(mockAudio(state.text, ctx.query.encoding || "linear16"), 4)) session.sendBinary(piece);
        state.text = "";
        session.sendJson({ type: "Flushed", sequence_id: state.sequence++ });
        return;
      }
      case "Clear":
        state.text = "";
        session.sendJson({ type: "Cleared", sequence_id: state.sequence++ });
        return;
      case "Close":
        return session.close(1000, "");
      default:
        session.protocolError(`unknown message type ${JSON.stringify(msg.type)}`);
    }
  },
  fail: deepgramFail,
};
