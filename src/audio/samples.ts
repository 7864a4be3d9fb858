// Bytes ↔ mono signed 16-bit samples, for a stream whose chunks may end anywhere (mid-sample, mid-frame):
// the bytes of an incomplete frame are held back until the next chunk completes them.
// `!` on typed-array reads: only whole frames are read, so indices are in range; a `?? 0` would cost time.
import { ALAW_DECODE, MULAW_DECODE } from "./g711";

/** How each sample is stored in the bytes. Little-endian throughout; u8 is WAV's unsigned 8-bit. */
export type SampleEncoding = "pcm_s16le" | "pcm_s24le" | "pcm_s32le" | "pcm_f32le" | "pcm_u8" | "mulaw" | "alaw";

export const BYTES_PER_SAMPLE: Record<SampleEncoding, number> = {
  pcm_s16le: 2,
  pcm_s24le: 3,
  pcm_s32le: 4,
  pcm_f32le: 4,
  pcm_u8: 1,
  mulaw: 1,
  alaw: 1,
};

/** Turns a stream of interleaved frames into mono s16 samples (channels averaged). */
export interface SampleDecoder {
  /** Samples completed by this chunk; may be empty. */
  decode(bytes: Uint8Array): Int16Array;
  /** Bytes of an incomplete frame still held back (dropped at the end of a stream: half a sample is noise). */
  readonly heldBytes: number;
}

/** One channel's sample at byte `o`, scaled to the 16-bit range (not rounded). */
function reader(encoding: SampleEncoding, bytes: Uint8Array): (o: number) => number {
  switch (encoding) {
    case "pcm_s16le":
      return (o) => ((bytes[o]! | (bytes[o + 1]! << 8)) << 16) >> 16;
    case "pcm_s24le":
      return (o) => (((bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16)) << 8) >> 8) / 256;
    case "pcm_s32le":
      return (o) => (bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24)) / 65536;
    case "pcm_f32le": {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return (o) => view.getFloat32(o, true) * 32768;
    }
    case "pcm_u8":
      return (o) => (bytes[o]! - 128) * 256;
    case "mulaw":
      return (o) => MULAW_DECODE[bytes[o]!]!;
    case "alaw":
      return (o) => ALAW_DECODE[bytes[o]!]!;
  }
}

function toS16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : Math.max(r, -32768);
}

export function createSampleDecoder(encoding: SampleEncoding, channels = 1): SampleDecoder {
  if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`bad channel count ${channels}`);
  const frameBytes = BYTES_PER_SAMPLE[encoding] * channels;
  let held = new Uint8Array(0);

  const decodeFrames = (bytes: Uint8Array, frames: number): Int16Array => {
    const out = new Int16Array(frames);
    if (channels === 1 && encoding === "pcm_s16le") {
      for (let i = 0, o = 0; i < frames; i++, o += 2) out[i] = ((bytes[o]! | (bytes[o + 1]! << 8)) << 16) >> 16;
      return out;
    }
    const read = reader(encoding, bytes);
    const step = BYTES_PER_SAMPLE[encoding];
    for (let i = 0, o = 0; i < frames; i++) {
      let sum = 0;
      for (let c = 0; c < channels; c++, o += step) sum += read(o);
      out[i] = toS16(sum / channels);
    }
    return out;
  };

  return {
    decode(chunk) {
      let bytes = chunk;
      if (held.length > 0) {
        bytes = new Uint8Array(held.length + chunk.length);
        bytes.set(held);
        bytes.set(chunk, held.length);
      }
      const frames = Math.floor(bytes.length / frameBytes);
      const out = decodeFrames(bytes, frames);
      held = bytes.slice(frames * frameBytes);
      return out;
    },
    get heldBytes() {
      return held.length;
    },
  };
}

/** s16 samples as little-endian bytes. */
export function s16leBytes(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  for (let i = 0, o = 0; i < samples.length; i++, o += 2) {
    const s = samples[i]!;
    out[o] = s & 0xff;
    out[o + 1] = (s >> 8) & 0xff;
  }
  return out;
}
