// Inworld: TTS (voice:stream, NDJSON of base64 chunks) and STT (JSON with base64 audio).
// Auth: Authorization: Basic <key> — the portal key is already base64, so it is sent verbatim.
import { bytesToBase64 } from "../encoding/base64";
import type { TextLimit } from "./text-limit";
import type { AudioFormat, NativeOutput, ProviderAdapter, SpeedRange } from "./types";
import { errorText, get, is2xx, json, secondsOf } from "./wire";

/** Unconfirmed (taken from a third-party, hand-written spec): the STT model id. */
const STT_MODEL = "inworld/inworld-stt-1";
const RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000];

/**
 * audioEncoding per format. wav uses WAV, not LINEAR16: when streaming, LINEAR16 repeats a WAV
 * header in every chunk, while WAV sends it once, so the chunks concatenate into one valid file.
 * MULAW and ALAW are not used: their framing on the stream is unconfirmed (they may carry a WAV header
 * like LINEAR16), so the gateway makes μ-law and A-law from PCM (raw 16-bit) instead.
 */
const ENCODING: Partial<Record<AudioFormat, { encoding: string; rates: number[] }>> = {
  mp3: { encoding: "MP3", rates: RATES.filter((r) => r >= 16000) },
  wav: { encoding: "WAV", rates: RATES },
  pcm: { encoding: "PCM", rates: RATES },
  opus: { encoding: "OGG_OPUS", rates: [8000, 12000, 16000, 24000, 48000] },
  flac: { encoding: "FLAC", rates: RATES },
};
const OUTPUTS: NativeOutput[] = Object.entries(ENCODING).map(([format, e]) => ({ format: format as AudioFormat, sampleRates: e.rates }));

/**
 * `text` of /tts/v1/voice: "Maximum 2,000 characters" (the spec, maxLength 2000; providers.md). voice:stream (not
 * in the spec) takes the same request body: the same limit.
 */
const SPEECH_TEXT: TextLimit = { chars: 2_000, source: "Inworld's API reference (/tts/v1/voice text)" };

/** `audioConfig.speakingRate`: "Speaking rate. Range [0.5, 1.5]. Defaults to 1.0." (the spec's AudioConfig). */
const SPEED: SpeedRange = { field: "audioConfig.speakingRate", min: 0.5, max: 1.5, source: "Inworld's spec (AudioConfig.speakingRate)" };

const auth = (key: string) => ({ authorization: `Basic ${key}` });

async function blobToBase64(blob: Blob): Promise<string> {
  return bytesToBase64(new Uint8Array(await blob.arrayBuffer()));
}

export const inworld: ProviderAdapter = {
  id: "inworld",
  name: "Inworld",
  baseUrls: { api: "https://api.inworld.ai" },
  tts: {
    defaultVoice: "Dennis",
    defaultModel: "inworld-tts-1.5-mini",
    outputs: OUTPUTS,
    maxText: SPEECH_TEXT,
    speed: SPEED,
    request(input, ctx) {
      const encoding = ENCODING[input.format];
      if (!encoding) throw new Error(`Inworld has no ${input.format} output`); // the gateway asks only for OUTPUTS
      const audioConfig: Record<string, unknown> = { audioEncoding: encoding.encoding };
      if (input.sampleRate !== undefined) audioConfig.sampleRateHertz = input.sampleRate;
      if (input.speed !== undefined) audioConfig.speakingRate = input.speed;
      const body = { text: input.text, voiceId: input.voiceId, modelId: input.model, audioConfig };
      return {
        upstream: json(`${ctx.urls.api}/tts/v1/voice:stream`, auth(ctx.key), body),
        envelope: {
          kind: "ndjson",
          audioOf: (p) => p?.result?.audioContent,
          errorOf: (p) => (p?.error ? String(p.error.message ?? "stream error") : undefined),
        },
      };
    },
  },
  stt: {
    defaultModel: STT_MODEL,
    async request(input, ctx) {
      const transcribeConfig: Record<string, unknown> = { modelId: input.model, audioEncoding: "AUTO_DETECT" };
      if (input.language) transcribeConfig.language = input.language;
      const body = { transcribeConfig, audioData: { content: await blobToBase64(input.audio.data) } };
      return json(`${ctx.urls.api}/stt/v1/transcribe`, auth(ctx.key), body);
    },
    parse(body) {
      const t = body?.transcription;
      // Its JSON may leave out an empty transcript (proto3), never the transcription itself.
      if (typeof t !== "object" || t === null) throw new Error("Inworld's answer is not a transcription");
      return {
        text: String(t?.transcript ?? ""),
        durationSeconds: secondsOf(body?.usage?.transcribedAudioMs, 1000),
        // Only present when Inworld chooses to send them (shape from a third-party spec: ms integers).
        words: Array.isArray(t?.wordTimestamps)
          ? t.wordTimestamps.map((w: any) => ({ word: w.word, start: Number(w.startTimeMs) / 1000, end: Number(w.endTimeMs) / 1000 }))
          : undefined,
      };
    },
  },
  verify: (ctx) => ({
    upstream: get(`${ctx.urls.api}/voices/v1/voices`, auth(ctx.key)),
    valid: is2xx,
  }),
  // gRPC-style {code, message, details}.
  errorMessage: (_status, body) => errorText(body, (p) => p?.message ?? p?.error?.message),
};
