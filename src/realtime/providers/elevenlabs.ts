// ElevenLabs realtime transcription (Scribe, /v1/speech-to-text/realtime) and input-streaming speech
// over WebSocket, both with the `xi-api-key` header.
//
// Speak uses the multi-context socket (/v1/text-to-speech/{voice}/multi-stream-input), because only it
// says when the audio for some text is complete: a flush here is {context_id, text:"", flush:true} then
// {context_id, close_context:true}, answered by the context's audio and {isFinal:true, contextId}; the next
// text opens a new context with the required " " (which is not billed). Confirmed against ElevenLabs'
// AsyncAPI document (FlushContextClient, CloseContextClient, FinalOutputMulti) and elevenlabs-python.
// Errors arrive as a close frame (1008 with the reason).
//
// Listen: {"message_type":"input_audio_chunk","audio_base_64","commit","sample_rate"} in (a commit is an
// empty chunk with commit:true — manual commits, the API's default strategy), partial_transcript /
// committed_transcript / committed_transcript_with_timestamps out; errors are messages whose
// message_type names them, then a close. Confirmed against elevenlabs-python/-js (scribe realtime).
// Unconfirmed: that committed_transcript_with_timestamps always follows committed_transcript when
// include_timestamps=true (a committed transcript is held until the next message, then sent with the
// audio position as its end if no timestamps came); there is no end-of-stream message, so `idle()` says
// when every second sent has a final transcript.
import { base64ToBytes, bytesToBase64 } from "../../encoding/base64";
import { SPEECH_TEXT_MAX_CHARS } from "../../providers/text-limit";
import { languageCode } from "../../providers/wire";
import { type Frame, jsonOf, type ListenEvent, type ListenProvider, query, type SpeakProvider, seconds } from "./types";

const RATES = [8000, 16000, 22050, 24000, 44100, 48000];
const TRANSCRIPT_TYPES = new Set(["session_started", "partial_transcript", "committed_transcript", "committed_transcript_with_timestamps"]);

const auth = (key: string) => ({ "xi-api-key": key });

export const elevenlabsListen: ListenProvider = {
  id: "elevenlabs",
  defaultModel: "scribe_v2_realtime",
  supports: (encoding, rate) => (encoding === "mulaw" ? rate === 8000 : RATES.includes(rate)),
  start(p, up) {
    const audioFormat = p.encoding === "mulaw" ? "ulaw_8000" : `pcm_${p.sampleRate}`;
    const bytesPerSecond = p.sampleRate * (p.encoding === "mulaw" ? 1 : 2);
    const q = query({ model_id: p.model, audio_format: audioFormat, language_code: languageCode(p.language), include_timestamps: "true" });
    const chunk = (audio: string, commit: boolean) =>
      JSON.stringify({ message_type: "input_audio_chunk", audio_base_64: audio, commit, sample_rate: p.sampleRate });
    let sentBytes = 0;
    let finalEnd = 0; // seconds covered by final transcripts
    let held: string | undefined; // a committed transcript waiting for its timestamps
    const sentSeconds = () => sentBytes / bytesPerSecond;
    const final = (text: string, start: number, end: number): ListenEvent => {
      finalEnd = Math.max(finalEnd, end);
      return { type: "transcript", text, isFinal: true, start: seconds(start), end: seconds(end) };
    };
    const release = (): ListenEvent[] => {
      if (held === undefined) return [];
      const text = held;
      held = undefined;
      return [final(text, finalEnd, sentSeconds())];
    };
    return {
      target: { url: `${up.urls.api}/v1/speech-to-text/realtime?${q}`, headers: auth(up.key) },
      audio(bytes) {
        sentBytes += bytes.byteLength;
        return chunk(bytesToBase64(new Uint8Array(bytes)), false);
      },
      finalize: () => chunk("", true),
      end: () => chunk("", true),
      idle: () => held === undefined && finalEnd >= sentSeconds() - 0.001,
      read(frame: Frame): ListenEvent[] {
        const msg = jsonOf(frame);
        const type = String(msg?.message_type ?? "");
        if (!msg || !type) return [];
        if (type === "committed_transcript_with_timestamps") {
          const words = Array.isArray(msg.words) ? msg.words.filter((w: any) => w?.type !== "spacing") : [];
          held = undefined;
          if (!msg.text) return [];
          const start = words.length ? Number(words[0].start) : finalEnd;
          const end = words.length ? Number(words[words.length - 1].end) : sentSeconds();
          return [final(String(msg.text), start, end)];
        }
        const out = release();
        if (type === "committed_transcript") {
          if (msg.text) held = String(msg.text);
          else finalEnd = Math.max(finalEnd, sentSeconds());
        } else if (type === "partial_transcript" && msg.text) {
          out.push({ type: "transcript", text: String(msg.text), isFinal: false, start: seconds(finalEnd), end: seconds(sentSeconds()) });
        } else if (!TRANSCRIPT_TYPES.has(type)) {
          out.push({ type: "error", message: String(msg.error ?? msg.message ?? type) });
        }
        return out;
      },
    };
  },
};

function outputFormat(format: string, rate: number): string {
  if (format === "ulaw") return "ulaw_8000";
  if (format === "mp3") return rate === 22050 ? "mp3_22050_32" : "mp3_44100_128";
  return `pcm_${rate}`;
}

export const elevenlabsSpeak: SpeakProvider = {
  id: "elevenlabs",
  defaultVoice: "21m00Tcm4TlvDq8ikWAM",
  defaultModel: "eleven_flash_v2_5",
  // No limit on one message's text is documented (a request takes 5,000 characters and more on every model:
  // src/providers/elevenlabs.ts): Voxgate's own for one message.
  maxTextChars: SPEECH_TEXT_MAX_CHARS,
  defaultRate: (format) => (format === "ulaw" ? 8000 : format === "mp3" ? 44100 : 24000),
  supports: (format, rate) =>
    format === "ulaw" ? rate === 8000 : format === "mp3" ? rate === 22050 || rate === 44100 : RATES.includes(rate),
  start(p, up) {
    // The longest idle time ElevenLabs allows (20 s by default): a voice agent may be silent a while.
    const q = query({ model_id: p.model, output_format: outputFormat(p.format, p.sampleRate), inactivity_timeout: 180 });
    let context = 0;
    let open = false;
    const id = () => `ctx-${context}`;
    return {
      target: { url: `${up.urls.api}/v1/text-to-speech/${encodeURIComponent(p.voiceId)}/multi-stream-input?${q}`, headers: auth(up.key) },
      text(text) {
        const frames: Frame[] = [];
        if (!open) frames.push(JSON.stringify({ text: " ", context_id: id() }));
        open = true;
        frames.push(JSON.stringify({ text, context_id: id() }));
        return frames;
      },
      flush() {
        const ctx = id();
        open = false;
        context++;
        return [JSON.stringify({ context_id: ctx, text: "", flush: true }), JSON.stringify({ context_id: ctx, close_context: true })];
      },
      end: () => [JSON.stringify({ close_socket: true })],
      read(frame) {
        const msg = jsonOf(frame);
        if (!msg) return [];
        if (typeof msg.audio === "string" && msg.audio) return [{ type: "audio", bytes: base64ToBytes(msg.audio) }];
        if (msg.isFinal === true) return [{ type: "flushed" }];
        if (msg.error || msg.message) return [{ type: "error", message: String(msg.error ?? msg.message) }];
        return [];
      },
    };
  },
};
