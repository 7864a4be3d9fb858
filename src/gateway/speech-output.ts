// What a speech request gets (API.md §4.1): the provider's own audio where it produces the format at the
// rate asked for, else its pcm (or wav) converted at the edge while it streams, else 400. Read from the
// adapter's declared outputs, so /v1/synthesize, /v1/providers and docs/PROVIDERS.md say the same thing.
import { DEFAULT_CONVERTED_RATE, isConvertible, planSpeechOutput, SPEECH_FORMATS, SPEECH_SAMPLE_RATES } from "../audio/plan";
import { contentTypeFor, createTranscoder, type TranscodeSource, type TranscodeTarget } from "../audio/transcode";
import { mediaType } from "../http/media-type";
import { AUDIO_CONTENT_TYPES, type AudioFormat, type TtsAdapter } from "../providers/types";
import { concat, type Decoder } from "./relay";

export type SpeechPlan =
  /** Ask the provider for this format (at this rate; undefined: its default) and relay it untouched. */
  | { kind: "native"; format: AudioFormat; sampleRate: number | undefined; contentType: string }
  /** The model's audio as it comes, with its content type (a model-chosen format, no format named). */
  | { kind: "as-is" }
  /**
   * Ask for `ask` and convert what comes while it streams. A model-chosen format (`ask` and `source`
   * undefined) is read by the answer's content type: WAV or FLAC (modelAudioSource).
   */
  | {
      kind: "convert";
      ask: { format: AudioFormat; sampleRate: number } | undefined;
      source: TranscodeSource | undefined;
      target: TranscodeTarget;
      contentType: string;
    }
  | { kind: "unsupported"; reason: string };

/** The format a request naming none gets (API.md §4.1). */
export const DEFAULT_SPEECH_FORMAT: AudioFormat = "mp3";

/** Content-Type of `format` at `sampleRate`: G.711 and PCM by the transcoder's rules, the rest by name. */
export function speechContentType(format: AudioFormat, sampleRate: number | undefined): string {
  return isConvertible(format) ? contentTypeFor({ format, sampleRate }) : AUDIO_CONTENT_TYPES[format];
}

/**
 * How to serve `format` at `sampleRate` from this adapter. pcm without a rate is 24 kHz whoever serves it
 * (headerless audio must have a rate the client can know); the other formats without a rate take the
 * provider's default (a WAV header states it; G.711 defaults to 8 kHz).
 */
export function planSpeech(tts: TtsAdapter, format: AudioFormat | undefined, sampleRate: number | undefined): SpeechPlan {
  if (tts.modelChoosesFormat) return planModelChosen(format, sampleRate);
  const wanted = format ?? DEFAULT_SPEECH_FORMAT;
  const rate = sampleRate ?? (wanted === "pcm" ? DEFAULT_CONVERTED_RATE.pcm : undefined);
  const plan = planSpeechOutput(tts.outputs, { format: wanted, sampleRate: rate });
  if (plan.kind === "unsupported") return plan;
  if (plan.kind === "native") {
    // G.711 is telephony audio: 8 kHz unless a rate was named.
    const nativeRate = plan.sampleRate ?? (wanted === "ulaw" || wanted === "alaw" ? 8000 : undefined);
    return { kind: "native", format: wanted, sampleRate: nativeRate, contentType: speechContentType(wanted, nativeRate) };
  }
  return { ...plan, contentType: contentTypeFor(plan.target) };
}

function planModelChosen(format: AudioFormat | undefined, sampleRate: number | undefined): SpeechPlan {
  if (format === undefined) {
    if (sampleRate === undefined) return { kind: "as-is" };
    return {
      kind: "unsupported",
      reason: "this provider's models choose their own format: name a format (pcm, wav, ulaw, alaw) to set a rate",
    };
  }
  if (!isConvertible(format))
    return { kind: "unsupported", reason: `the model chooses its format; ${format} is made only by providers that produce it` };
  if (sampleRate !== undefined && !SPEECH_SAMPLE_RATES.includes(sampleRate)) {
    return { kind: "unsupported", reason: `sample rate ${sampleRate} Hz is not offered` };
  }
  // wav without a rate keeps the model's own rate (its WAV or FLAC header says it); the others take their defaults.
  const target = { format, sampleRate: sampleRate ?? (format === "wav" ? undefined : DEFAULT_CONVERTED_RATE[format]) };
  return { kind: "convert", ask: undefined, source: undefined, target, contentType: contentTypeFor(target) };
}

/** How a model's own audio is read, by the content type it came with: WAV or FLAC, else nothing (400). */
export function modelAudioSource(contentType: string | null): TranscodeSource | undefined {
  const type = mediaType(contentType);
  if (["audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"].includes(type)) return { container: "wav" };
  if (type === "audio/flac" || type === "audio/x-flac") return { container: "flac" };
  return undefined;
}

/**
 * The provider's audio decoder followed by the transcoder: each upstream chunk is decoded and converted
 * at once, so the first converted bytes leave with the provider's first chunk; nothing waits for the end.
 */
export function converting(decoder: Decoder, source: TranscodeSource, target: TranscodeTarget): Decoder {
  const transcoder = createTranscoder(source, target);
  return {
    chunk(bytes) {
      const audio = decoder.chunk(bytes);
      return audio?.byteLength ? transcoder.push(audio) : undefined;
    },
    end() {
      const tail = decoder.end();
      return concat([tail?.byteLength ? transcoder.push(tail) : undefined, transcoder.end()].filter((b) => b !== undefined));
    },
    fail: decoder.fail,
  };
}

/** How one format is served by one provider (GET /v1/providers, docs/PROVIDERS.md). */
export interface FormatOffer {
  format: AudioFormat;
  /** Sample rates the provider produces this format at itself (relayed untouched). */
  native: number[];
  /** Sample rates Voxgate makes it at from the provider's pcm or wav. */
  converted: number[];
  /** Asked for without a sampleRate: served natively (at the provider's default rate) or converted (at this rate). */
  byDefault: { delivery: "native" | "converted"; sampleRate: number | null };
  /** A condition on the conversion: Hugging Face converts what a model answers, if it is WAV or FLAC. */
  condition: string | null;
}

const MODEL_AUDIO = "from what the model answers, when that is WAV or FLAC";

/** Every format this adapter can serve, with its native and converted rates (read from the planner itself). */
export function speechFormats(tts: TtsAdapter): FormatOffer[] {
  const offers: FormatOffer[] = [];
  for (const format of SPEECH_FORMATS) {
    const nativeRates = tts.outputs.filter((o) => o.format === format).flatMap((o) => o.sampleRates);
    const rates = [...new Set([...SPEECH_SAMPLE_RATES, ...nativeRates])].sort((a, b) => a - b);
    const native: number[] = [];
    const converted: number[] = [];
    for (const rate of rates) {
      const plan = planSpeech(tts, format, rate);
      if (plan.kind === "native") native.push(rate);
      else if (plan.kind === "convert") converted.push(rate);
    }
    const plain = planSpeech(tts, format, undefined);
    if (plain.kind === "unsupported" || plain.kind === "as-is") continue;
    const byDefault =
      plain.kind === "native"
        ? { delivery: "native" as const, sampleRate: plain.sampleRate ?? null }
        : { delivery: "converted" as const, sampleRate: plain.target.sampleRate ?? null };
    offers.push({ format, native, converted, byDefault, condition: tts.modelChoosesFormat ? MODEL_AUDIO : null });
  }
  return offers;
}
