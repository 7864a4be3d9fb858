// Deciding how to serve a speech format (API.md §4.1): straight from the provider when it produces the
// format at the rate asked for, else ask it for PCM (or WAV) and convert at the edge.
import type { ConvertibleFormat, TranscodeSource, TranscodeTarget } from "./transcode";

/** Every format a client may ask /v1/synthesize for. mp3, opus, aac and flac only come from a provider
 * that produces them; the other four can also be made here from PCM or WAV. */
export const SPEECH_FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm", "ulaw", "alaw"] as const;
export type SpeechFormat = (typeof SPEECH_FORMATS)[number];

/** The sample rates every speech provider serves pcm, wav, ulaw and alaw at (natively or converted). */
export const SPEECH_SAMPLE_RATES: readonly number[] = [8000, 16000, 22050, 24000, 44100, 48000];

/** Rate used when a converted format is asked for without one: G.711 is telephony audio; 24 kHz is the
 * rate most TTS models produce natively, so pcm/wav rarely need resampling. */
export const DEFAULT_CONVERTED_RATE: Record<ConvertibleFormat, number> = { ulaw: 8000, alaw: 8000, pcm: 24000, wav: 24000 };

/**
 * A format a provider produces itself, at these rates. Its "pcm" must be raw mono s16le and its "wav"
 * any WAV the reader understands (PCM 8/16/24/32-bit, float, G.711; mono or multi-channel).
 */
export interface NativeOutput {
  format: SpeechFormat;
  sampleRates: readonly number[];
}

/** What the client asked for; no sampleRate means "the provider's default" for a native format. */
export interface RequestedOutput {
  format: SpeechFormat;
  sampleRate?: number;
}

export type OutputPlan =
  /** Ask the provider for exactly this and relay it untouched (sampleRate undefined: its default). */
  | { kind: "native"; format: SpeechFormat; sampleRate: number | undefined }
  /** Ask the provider for `ask`, then feed its bytes through createTranscoder(source, target). */
  | { kind: "convert"; ask: { format: "pcm" | "wav"; sampleRate: number }; source: TranscodeSource; target: TranscodeTarget }
  /** Neither: answer 400 unsupported_format. */
  | { kind: "unsupported"; reason: string };

export const isConvertible = (format: SpeechFormat): format is ConvertibleFormat =>
  format === "pcm" || format === "wav" || format === "ulaw" || format === "alaw";

/**
 * How to serve `requested` from a provider producing `native`. When converting, the source rate is the
 * target rate if offered (companding or framing only), else the lowest rate above it (downsampling keeps
 * the full band of the target, and fewer bytes cross the network than from a higher rate), else the
 * highest below it. At equal rates raw PCM wins over WAV (no header to parse).
 */
export function planSpeechOutput(native: readonly NativeOutput[], requested: RequestedOutput): OutputPlan {
  const { format, sampleRate } = requested;
  const offered = native.find((n) => n.format === format && (sampleRate === undefined || n.sampleRates.includes(sampleRate)));
  if (offered) return { kind: "native", format, sampleRate };
  if (!isConvertible(format)) {
    return { kind: "unsupported", reason: `${format}${sampleRate ? ` at ${sampleRate} Hz` : ""} is not produced by this provider` };
  }
  const rate = sampleRate ?? DEFAULT_CONVERTED_RATE[format];
  if (!SPEECH_SAMPLE_RATES.includes(rate)) return { kind: "unsupported", reason: `sample rate ${rate} Hz is not offered` };

  const candidates: { format: "pcm" | "wav"; sampleRate: number }[] = [];
  for (const source of ["pcm", "wav"] as const) {
    for (const n of native) if (n.format === source) for (const r of n.sampleRates) candidates.push({ format: source, sampleRate: r });
  }
  if (candidates.length === 0) return { kind: "unsupported", reason: "this provider produces no PCM or WAV to convert from" };
  // Lower rank is better: exact, then above (nearest first), then below (nearest first); pcm before wav.
  const rank = (c: { format: "pcm" | "wav"; sampleRate: number }) =>
    (c.sampleRate === rate ? 0 : c.sampleRate > rate ? 1e6 + c.sampleRate - rate : 2e6 + rate - c.sampleRate) * 2 +
    (c.format === "pcm" ? 0 : 1);
  const ask = candidates.reduce((best, c) => (rank(c) < rank(best) ? c : best));
  const source: TranscodeSource =
    ask.format === "pcm" ? { container: "raw", encoding: "pcm_s16le", sampleRate: ask.sampleRate } : { container: "wav" };
  return { kind: "convert", ask, source, target: { format, sampleRate: rate } };
}
