// Resemble AI: TTS only. wav streams from /stream (chunked WAV); mp3 only exists on /synthesize,
// which answers one JSON object with base64 audio. Auth: Bearer. Key check on the management host.
//
// Resemble always frames PCM and μ-law in WAV (on /stream and /synthesize alike), so pcm, μ-law and
// A-law are made by the gateway from its streamed WAV; opus does not exist there.
import type { TextLimit } from "./text-limit";
import type { NativeOutput, ProviderAdapter } from "./types";
import { errorText, get, is2xx, json } from "./wire";

/** The spec's sample_rate enum; it travels as a string. */
const RATES = [8000, 16000, 22050, 32000, 44100, 48000];
const OUTPUTS: NativeOutput[] = [
  { format: "wav", sampleRates: RATES },
  { format: "mp3", sampleRates: RATES },
];

/** `data`: POST /stream "max 2000 characters", POST /synthesize (mp3 here) "max 3,000 characters" (the spec). */
const SPEECH_TEXT: TextLimit = {
  chars: 2_000,
  when: [{ format: "mp3", chars: 3_000 }],
  source: "Resemble's spec (/stream and /synthesize data)",
};

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

export const resembleai: ProviderAdapter = {
  id: "resembleai",
  name: "ResembleAI",
  aliases: ["resemble-ai"],
  baseUrls: { api: "https://f.cluster.resemble.ai", management: "https://app.resemble.ai" },
  tts: {
    // A Resemble library voice uuid (unconfirmed as a public default).
    defaultVoice: "c99f388c",
    // The voice picks its model; the synthesis API has no model field.
    defaultModel: "",
    outputs: OUTPUTS,
    maxText: SPEECH_TEXT,
    request(input, ctx) {
      const body: Record<string, unknown> = { voice_uuid: input.voiceId, data: input.text };
      if (input.sampleRate !== undefined) body.sample_rate = String(input.sampleRate);
      const base = ctx.urls.api;
      if (input.format === "mp3") {
        body.output_format = "mp3";
        return {
          upstream: json(`${base}/synthesize`, bearer(ctx.key), body),
          envelope: {
            kind: "json",
            audioOf: (p) => p?.audio_content,
            errorOf: (p) => (p?.success === false ? String(p.message ?? "synthesis failed") : undefined),
          },
        };
      }
      // 16-bit, as everyone else's wav; Resemble's default would be 32-bit.
      body.precision = "PCM_16";
      return { upstream: json(`${base}/stream`, bearer(ctx.key), body), envelope: { kind: "raw" } };
    },
  },
  verify: (ctx) => ({
    upstream: get(`${ctx.urls.management}/api/v2/voices?page=1&page_size=10`, bearer(ctx.key)),
    valid: is2xx,
  }),
  // {success:false, message} or {success:false, error_name, error_params, message}.
  errorMessage: (_status, body) => errorText(body, (p) => p?.message ?? p?.error_name ?? p?.error),
};
