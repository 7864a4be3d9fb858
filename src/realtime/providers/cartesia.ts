// Cartesia live transcription (/stt/websocket) and streaming speech (/tts/websocket) over WebSocket,
// with `Authorization: Bearer` and `Cartesia-Version` (as the HTTP adapter, src/providers/cartesia.ts).
// Confirmed (docs.cartesia.ai, cartesia-js): STT takes binary audio and the plain-text commands
// `finalize` and `close`, answers {type:"transcript", is_final, text (a delta), duration}, `flush_done`
// and, after close, `done` before it closes; TTS takes generation requests {model_id, transcript, voice,
// output_format, context_id, continue}, a manual flush is an empty transcript with continue and flush
// true, answered by `chunk` {data: base64} messages and `flush_done`. The WebSocket serves raw audio only
// (no mp3). Errors: {type:"error", message}.
// Unconfirmed: that `duration` of a transcript is the seconds it covers (start/end are derived from it).
import { base64ToBytes } from "../../encoding/base64";
import { SPEECH_TEXT_MAX_CHARS } from "../../providers/text-limit";
import { languageCode } from "../../providers/wire";
import { type Frame, jsonOf, type ListenProvider, query, type SpeakProvider, seconds } from "./types";

const CARTESIA_VERSION = "2025-11-04";
const RATES = [8000, 16000, 22050, 24000, 44100, 48000];

const auth = (key: string) => ({ authorization: `Bearer ${key}`, "cartesia-version": CARTESIA_VERSION });
const errorOf = (msg: any) => ({ type: "error" as const, message: String(msg.message ?? msg.title ?? msg.error ?? "error") });

export const cartesiaListen: ListenProvider = {
  id: "cartesia",
  defaultModel: "ink-whisper",
  supports: (_encoding, rate) => RATES.includes(rate),
  start(p, up) {
    const q = query({
      model: p.model,
      language: languageCode(p.language), // ISO 639-1, as its HTTP transcription (providers/wire.ts)
      encoding: p.encoding === "mulaw" ? "pcm_mulaw" : "pcm_s16le",
      sample_rate: p.sampleRate,
    });
    let finalEnd = 0;
    return {
      target: { url: `${up.urls.api}/stt/websocket?${q}`, headers: auth(up.key) },
      audio: (chunk) => chunk,
      finalize: () => "finalize",
      end: () => "close",
      read(frame: Frame) {
        const msg = jsonOf(frame);
        if (msg?.type === "done") return [{ type: "ended" }];
        if (msg?.type === "error") return [errorOf(msg)];
        if (msg?.type !== "transcript") return [];
        const start = finalEnd;
        const end = start + (Number(msg.duration) || 0);
        if (msg.is_final === true) finalEnd = end;
        const text = String(msg.text ?? "").trim();
        return text ? [{ type: "transcript", text, isFinal: msg.is_final === true, start: seconds(start), end: seconds(end) }] : [];
      },
    };
  },
};

export const cartesiaSpeak: SpeakProvider = {
  id: "cartesia",
  defaultVoice: "694f9389-aac1-45b6-b726-9d9369183238",
  defaultModel: "sonic-3",
  // No limit on a continuation's transcript is documented: Voxgate's own for one message.
  maxTextChars: SPEECH_TEXT_MAX_CHARS,
  defaultRate: (format) => (format === "ulaw" ? 8000 : 24000),
  supports: (format, rate) => format !== "mp3" && (format === "ulaw" ? rate === 8000 : RATES.includes(rate)),
  start(p, up) {
    const base = {
      model_id: p.model,
      voice: { mode: "id", id: p.voiceId },
      output_format: { container: "raw", encoding: p.format === "ulaw" ? "pcm_mulaw" : "pcm_s16le", sample_rate: p.sampleRate },
      context_id: `ctx-${crypto.randomUUID()}`,
      continue: true,
    };
    return {
      target: { url: `${up.urls.api}/tts/websocket`, headers: auth(up.key) },
      text: (transcript) => [JSON.stringify({ ...base, transcript })],
      flush: () => [JSON.stringify({ ...base, transcript: "", flush: true })],
      end: () => [],
      read(frame) {
        const msg = jsonOf(frame);
        if (msg?.type === "chunk" && typeof msg.data === "string") return [{ type: "audio", bytes: base64ToBytes(msg.data) }];
        if (msg?.type === "flush_done") return [{ type: "flushed" }];
        if (msg?.type === "error") return [errorOf(msg)];
        return [];
      },
    };
  },
};
