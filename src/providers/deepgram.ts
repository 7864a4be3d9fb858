// Deepgram: TTS (/v1/speak, streamed raw audio) and STT (/v1/listen, raw audio body or JSON {url}).
// Auth: Authorization: Token <key> (not Bearer). Options travel in the query string, not the body.
import type { TextLimit } from "./text-limit";
import type { AudioFormat, NativeOutput, ProviderAdapter, SpeedRange, UpstreamRequest } from "./types";
import { errorText, get, is2xx, json, secondsOf, transcriptText } from "./wire";

/**
 * encoding/container per format; rates are the spec's per-encoding enums. mp3 and opus have one fixed
 * rate; the spec gives flac and aac none, so they are asked for without one (Deepgram's default).
 */
const SPEAK: Partial<Record<AudioFormat, { encoding: string; container?: string; rates: number[]; settable: boolean }>> = {
  mp3: { encoding: "mp3", rates: [22050], settable: false },
  opus: { encoding: "opus", container: "ogg", rates: [48000], settable: false },
  flac: { encoding: "flac", rates: [], settable: false },
  aac: { encoding: "aac", rates: [], settable: false },
  wav: { encoding: "linear16", container: "wav", rates: [8000, 16000, 24000, 32000, 48000], settable: true },
  pcm: { encoding: "linear16", container: "none", rates: [8000, 16000, 24000, 32000, 48000], settable: true },
  ulaw: { encoding: "mulaw", container: "none", rates: [8000, 16000], settable: true },
  alaw: { encoding: "alaw", container: "none", rates: [8000, 16000], settable: true },
};
const OUTPUTS: NativeOutput[] = Object.entries(SPEAK).map(([format, s]) => ({ format: format as AudioFormat, sampleRates: s.rates }));

const auth = (key: string) => ({ authorization: `Token ${key}` });
const DEFAULT_MODEL = "aura-2-thalia-en";

/**
 * /v1/speak's input text limit by model (developers.deepgram.com/docs/text-to-speech, "Input Text Limit";
 * deepgram/deepgram-docs fern/docs/text-to-speech.mdx, updated for Aura-2 in 774bb81, 2025-07-01): Aura-2
 * 1,000 characters, Aura-1 2,000; longer text is answered 422.
 */
const SPEECH_TEXT: TextLimit = {
  chars: 2_000,
  when: [{ model: "aura-2", chars: 1_000 }],
  source: "developers.deepgram.com/docs/text-to-speech (Input Text Limit)",
};

/**
 * The `speed` query parameter of /v1/speak (the spec: a number, default 1, no range there). Range and models from
 * developers.deepgram.com/docs/tts-voice-controls: Aura-2 only, 0.7–1.5 (Spanish voices best from 0.9).
 */
const SPEED: SpeedRange = {
  field: "speed query parameter",
  min: 0.7,
  max: 1.5,
  models: ["aura-2"],
  source: "Deepgram's spec (/v1/speak speed); range from developers.deepgram.com/docs/tts-voice-controls",
};

/** An Aura model name is the voice: a voice the caller chose (anything but the default) names the model. */
const speakModel = (model: string | undefined, voiceId: string) =>
  voiceId && voiceId !== DEFAULT_MODEL ? voiceId : (model ?? DEFAULT_MODEL);

export const deepgram: ProviderAdapter = {
  id: "deepgram",
  name: "Deepgram",
  baseUrls: { api: "https://api.deepgram.com" },
  tts: {
    // An Aura model name is the voice; there is no separate voice parameter.
    defaultVoice: DEFAULT_MODEL,
    defaultModel: DEFAULT_MODEL,
    outputs: OUTPUTS,
    maxText: SPEECH_TEXT,
    speed: SPEED,
    upstreamModel: speakModel,
    request(input, ctx) {
      const s = SPEAK[input.format];
      if (!s) throw new Error(`Deepgram has no ${input.format} output`); // the gateway asks only for OUTPUTS
      const model = speakModel(input.model, input.voiceId);
      const q = new URLSearchParams({ model, encoding: s.encoding });
      if (s.container) q.set("container", s.container);
      if (s.settable) q.set("sample_rate", String(input.sampleRate ?? (s.encoding === "linear16" ? 24000 : 8000)));
      if (input.speed !== undefined) q.set("speed", String(input.speed));
      return { upstream: json(`${ctx.urls.api}/v1/speak?${q}`, auth(ctx.key), { text: input.text }), envelope: { kind: "raw" } };
    },
  },
  stt: {
    defaultModel: "nova-3",
    // Every transcript carries word timings.
    timestamps: () => ["word"],
    request(input, ctx): UpstreamRequest {
      const q = new URLSearchParams({ model: input.model, smart_format: "true" });
      if (input.language) q.set("language", input.language);
      const url = `${ctx.urls.api}/v1/listen?${q}`;
      // Not multipart: Deepgram takes the audio bytes as the whole body.
      const contentType = input.audio.contentType || "application/octet-stream";
      return { url, init: { method: "POST", headers: { ...auth(ctx.key), "content-type": contentType }, body: input.audio.data } };
    },
    parse(body) {
      const channel = body?.results?.channels?.[0];
      const alt = channel?.alternatives?.[0];
      return {
        text: transcriptText(alt?.transcript),
        durationSeconds: secondsOf(body?.metadata?.duration),
        language: channel?.detected_language,
        words: Array.isArray(alt?.words)
          ? alt.words.map((w: any) => ({ word: w.punctuated_word ?? w.word, start: w.start, end: w.end }))
          : undefined,
      };
    },
  },
  verify: (ctx) => ({
    // A bad key answers 401 INVALID_AUTH; a key without the scope to list projects 403 INSUFFICIENT_PERMISSIONS: still valid.
    upstream: get(`${ctx.urls.api}/v1/projects`, auth(ctx.key)),
    valid: (status, body) => is2xx(status) || (status === 403 && body.includes("INSUFFICIENT_PERMISSIONS")),
  }),
  // Legacy {err_code, err_msg}, modern {category, message, details}, or plain text.
  errorMessage: (_status, body) => errorText(body, (p) => p?.err_msg ?? p?.message ?? p?.details, true),
};
