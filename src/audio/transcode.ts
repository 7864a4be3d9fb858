// Edge transcoding of a speech stream (API.md §4.1): what the provider sends (raw PCM/G.711 or WAV) in,
// what the client asked for (pcm, wav, ulaw, alaw at any rate) out, chunk by chunk. Each push returns
// what can be sent now; nothing waits for the end of the answer.
import { createFlacDecoder } from "./flac-decoder";
import { alawEncode, mulawEncode } from "./g711";
import { createResampler, type Resampler } from "./resample";
import { createSampleDecoder, type SampleDecoder, s16leBytes } from "./samples";
import { createWavReader, WavFormatError, wavHeader } from "./wav";

export { WavFormatError } from "./wav";

/** Raw sample encodings a provider may send (names as in Cartesia's output_format). */
export type RawEncoding = "pcm_s16le" | "pcm_f32le" | "mulaw" | "alaw";

/** What the provider sends: headerless samples (mono), or WAV or FLAC, whose headers say the rest. */
export type TranscodeSource =
  | { container: "raw"; encoding: RawEncoding; sampleRate: number }
  | { container: "wav" }
  | { container: "flac" };

/** The formats Voxgate can produce from PCM at the edge. */
export type ConvertibleFormat = "pcm" | "wav" | "ulaw" | "alaw";

/** What the client gets: pcm = raw s16le mono; wav = PCM 16-bit mono WAV with a streamed header. */
export interface TranscodeTarget {
  format: ConvertibleFormat;
  /** Undefined: the source's own rate (known from its header; a WAV target states it in its own). */
  sampleRate?: number;
}

/** One stream step, the gateway's shape: each call returns the bytes to send now, if any. */
export interface Transcoder {
  push(chunk: Uint8Array): Uint8Array | undefined;
  /** The source ended: the last bytes (resampler tail; a bare header for an empty WAV answer). */
  end(): Uint8Array | undefined;
}

/**
 * Content-Type for a target. pcm and wav follow the gateway's existing choices (audio/pcm, audio/wav).
 * µ-law: audio/basic is RFC 2046's 8 kHz mono µ-law, so only 8 kHz gets it; other rates get audio/x-mulaw
 * (Twilio's and GStreamer's name). A-law has no registered non-RTP type (audio/PCMA, RFC 4856, is
 * defined for RTP framing): audio/x-alaw-basic is the name in use, e.g. in shared-mime-info.
 */
export function contentTypeFor(target: { format: ConvertibleFormat; sampleRate?: number }): string {
  switch (target.format) {
    case "pcm":
      return "audio/pcm";
    case "wav":
      return "audio/wav";
    case "ulaw":
      return target.sampleRate === undefined || target.sampleRate === 8000 ? "audio/basic" : "audio/x-mulaw";
    case "alaw":
      return "audio/x-alaw-basic";
  }
}

const SAME_ENCODING: Record<ConvertibleFormat, RawEncoding | undefined> = {
  pcm: "pcm_s16le",
  ulaw: "mulaw",
  alaw: "alaw",
  wav: undefined,
};

function encoderFor(format: ConvertibleFormat): (samples: Int16Array) => Uint8Array {
  if (format === "ulaw") return (s) => mulawEncode(s);
  if (format === "alaw") return (s) => alawEncode(s);
  return s16leBytes;
}

/**
 * A streaming transcoder from `source` to `target`. Raw input of the target's own encoding and rate
 * passes through untouched. Throws WavFormatError (from push or end) on a WAV stream it can't read, and
 * RangeError for a sample rate it can't convert (one of the rates API.md names never does).
 */
export function createTranscoder(source: TranscodeSource, target: TranscodeTarget): Transcoder {
  let ended = false;
  const guard = () => {
    if (ended) throw new Error("transcoder already ended");
  };
  if (
    source.container === "raw" &&
    source.encoding === SAME_ENCODING[target.format] &&
    source.sampleRate === (target.sampleRate ?? source.sampleRate)
  ) {
    return {
      push(chunk) {
        guard();
        return chunk.length > 0 ? chunk : undefined;
      },
      end() {
        guard();
        ended = true;
        return undefined;
      },
    };
  }

  const wavIn = source.container === "wav" ? createWavReader() : undefined;
  const flacIn = source.container === "flac" ? createFlacDecoder() : undefined;
  const encode = encoderFor(target.format);
  let decoder: SampleDecoder | undefined;
  let resampler: Resampler | undefined;
  let sawInput = false;
  // The WAV header goes out with the first audio, not before: until then the client has nothing, so a
  // provider failing before its first audio byte can still be failed over (API.md §4.2).
  let headerPending = target.format === "wav";

  const start = (sampleDecoder: SampleDecoder | undefined, rate: number) => {
    decoder = sampleDecoder;
    resampler = createResampler(rate, target.sampleRate ?? rate);
  };
  if (source.container === "raw") start(createSampleDecoder(source.encoding), source.sampleRate);

  const emit = (samples: Int16Array, last: boolean): Uint8Array | undefined => {
    if (samples.length === 0 && !(last && headerPending)) return undefined;
    const bytes = encode(samples);
    const rate = resampler?.outputRate ?? target.sampleRate;
    // An empty answer whose rate never became known gets no header either (there is nothing to describe).
    if (!headerPending || rate === undefined) return bytes.length ? bytes : undefined;
    headerPending = false;
    const header = wavHeader({ encoding: "pcm_s16le", sampleRate: rate });
    const out = new Uint8Array(header.length + bytes.length);
    out.set(header);
    out.set(bytes, header.length);
    return out;
  };

  return {
    push(chunk) {
      guard();
      if (chunk.length === 0) return undefined;
      sawInput = true;
      if (flacIn) {
        // FLAC decodes straight to samples: no byte-level sample decoder.
        const samples = flacIn.push(chunk);
        const format = flacIn.format;
        if (!resampler && format) start(undefined, format.sampleRate);
        return resampler && samples.length ? emit(resampler.process(samples), false) : undefined;
      }
      let audio: Uint8Array | undefined = chunk;
      if (wavIn) {
        audio = wavIn.push(chunk);
        const format = wavIn.format;
        if (!decoder && format) start(createSampleDecoder(format.encoding, format.channels), format.sampleRate);
      }
      if (!audio || !decoder || !resampler) return undefined;
      return emit(resampler.process(decoder.decode(audio)), false);
    },
    end() {
      guard();
      ended = true;
      flacIn?.end();
      if (!resampler) {
        // A WAV answer that stopped inside its header is broken, not empty.
        if (sawInput) throw new WavFormatError("WAV stream ended before its audio");
        return emit(new Int16Array(0), true);
      }
      return emit(resampler.flush(), true);
    },
  };
}
