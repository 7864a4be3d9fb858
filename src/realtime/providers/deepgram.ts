// Deepgram live transcription (/v1/listen) and streaming speech (/v1/speak) over WebSocket.
// Confirmed (developers.deepgram.com, deepgram-js-sdk): auth `Authorization: Token <key>`; listen takes
// binary audio and the text messages KeepAlive / Finalize / CloseStream, answers `Results`
// {start, duration, is_final, channel.alternatives[0].transcript} and, after CloseStream, `Metadata`
// before it closes; speak takes Speak {text} / Flush / Close, answers binary audio and `Flushed` per
// Flush. The speak socket emits raw audio only (linear16, mulaw, alaw): no mp3.
// Unconfirmed: how mid-stream errors read besides the close frame (1011 NET-0000, 1008 DATA-0000).
import { type Frame, jsonOf, type ListenProvider, query, type SpeakProvider, seconds } from "./types";

const LISTEN_RATES = [8000, 16000, 22050, 24000, 44100, 48000];
const SPEAK_RATES: Record<string, number[]> = { pcm: [8000, 16000, 24000, 32000, 48000], ulaw: [8000, 16000] };

const DEFAULT_VOICE = "aura-2-thalia-en";

const auth = (key: string) => ({ authorization: `Token ${key}` });

export const deepgramListen: ListenProvider = {
  id: "deepgram",
  defaultModel: "nova-3",
  supports: (encoding, rate) => (encoding === "mulaw" ? rate === 8000 || rate === 16000 : LISTEN_RATES.includes(rate)),
  start(p, up) {
    const q = query({
      model: p.model,
      language: p.language,
      encoding: p.encoding,
      sample_rate: p.sampleRate,
      channels: 1,
      interim_results: "true",
    });
    return {
      target: { url: `${up.urls.api}/v1/listen?${q}`, headers: auth(up.key) },
      audio: (chunk) => chunk,
      finalize: () => JSON.stringify({ type: "Finalize" }),
      end: () => JSON.stringify({ type: "CloseStream" }),
      keepAlive: () => JSON.stringify({ type: "KeepAlive" }),
      read(frame: Frame) {
        const msg = jsonOf(frame);
        if (msg?.type === "Metadata") return [{ type: "ended" }];
        if (msg?.type !== "Results") return [];
        const text = String(msg.channel?.alternatives?.[0]?.transcript ?? "");
        if (!text) return []; // silence: Deepgram sends empty results, which say nothing
        const start = Number(msg.start) || 0;
        return [
          {
            type: "transcript",
            text,
            isFinal: msg.is_final === true,
            start: seconds(start),
            end: seconds(start + (Number(msg.duration) || 0)),
          },
        ];
      },
    };
  },
};

export const deepgramSpeak: SpeakProvider = {
  id: "deepgram",
  defaultVoice: DEFAULT_VOICE,
  defaultModel: DEFAULT_VOICE,
  // "The input limit is currently 2000 characters for the text input of each Speak message" (developers.deepgram.com
  // docs/streaming-text-to-speech, "Character Limits"); Deepgram buffers Speak text until a Flush.
  maxTextChars: 2_000,
  defaultRate: (format) => (format === "ulaw" ? 8000 : 24000),
  supports: (format, rate) => SPEAK_RATES[format]?.includes(rate) ?? false,
  start(p, up) {
    // Deepgram names the voice by its model (aura-2-<voice>-<lang>): a voice, when given, is the model.
    const model = p.voiceId !== DEFAULT_VOICE ? p.voiceId : p.model;
    const q = query({ model, encoding: p.format === "ulaw" ? "mulaw" : "linear16", sample_rate: p.sampleRate });
    return {
      target: { url: `${up.urls.api}/v1/speak?${q}`, headers: auth(up.key) },
      text: (text) => [JSON.stringify({ type: "Speak", text })],
      flush: () => [JSON.stringify({ type: "Flush" })],
      end: () => [JSON.stringify({ type: "Close" })],
      read(frame) {
        if (typeof frame !== "string") return [{ type: "audio", bytes: frame }];
        const msg = jsonOf(frame);
        if (msg?.type === "Flushed") return [{ type: "flushed" }];
        if (msg?.type === "Error" || msg?.err_msg) return [{ type: "error", message: String(msg.description ?? msg.err_msg ?? "error") }];
        return [];
      },
    };
  },
};
