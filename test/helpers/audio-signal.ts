// Signal measurements for the audio tests: synthesised tones, and what a tone looks like after a codec or
// resampler (level at one frequency by Goertzel's algorithm, frequency by zero crossings, RMS).
import { wavHeader } from "../../src/audio/wav";

/** A sine of `frequency` Hz, `amplitude` peak, as s16 samples. */
export function sine(sampleRate: number, frequency: number, seconds: number, amplitude: number, phase = 0): Int16Array {
  const out = new Int16Array(Math.round(sampleRate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / sampleRate + phase));
  return out;
}

/**
 * Peak amplitude of the component at `frequency` (Goertzel). Exact for a tone with a whole number of
 * cycles in the samples given: pass 1 s (or a whole multiple of 1/frequency) of signal.
 */
export function toneAmplitude(samples: ArrayLike<number>, sampleRate: number, frequency: number): number {
  const w = (2 * Math.PI * frequency) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s0 = samples[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / samples.length;
}

/** Frequency estimated from sign changes: a sine crosses zero twice per cycle. */
export function zeroCrossingFrequency(samples: ArrayLike<number>, sampleRate: number): number {
  let crossings = 0;
  let first = -1;
  let last = -1;
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1]!;
    const now = samples[i]!;
    if ((before < 0 && now >= 0) || (before >= 0 && now < 0)) {
      if (first < 0) first = i;
      last = i;
      crossings++;
    }
  }
  // Count whole half-cycles between the first and last crossing, so partial cycles at the ends don't bias it.
  return (crossings - 1) / 2 / ((last - first) / sampleRate);
}

export function rms(samples: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / samples.length);
}

export const dB = (ratio: number): number => 20 * Math.log10(ratio);

/** s16 samples → little-endian bytes (written here independently of src/audio). */
export function toS16le(samples: Int16Array): Uint8Array {
  const view = new DataView(new ArrayBuffer(samples.length * 2));
  samples.forEach((s, i) => {
    view.setInt16(i * 2, s, true);
  });
  return new Uint8Array(view.buffer);
}

export function fromS16le(bytes: Uint8Array): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

export function concat(parts: readonly (Uint8Array | undefined)[]): Uint8Array {
  const list = parts.filter((p): p is Uint8Array => p !== undefined);
  const out = new Uint8Array(list.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of list) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits `bytes` at pseudo-random boundaries (deterministic per seed), mostly odd sizes, some 0 or 1. */
export function oddChunks(bytes: Uint8Array, seed = 1, maxSize = 997): Uint8Array[] {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const r = next();
    const size = r < 0.05 ? 0 : r < 0.15 ? 1 : 2 * Math.floor(next() * (maxSize / 2)) + 1;
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Runs a stream step over `chunks` and joins what it returns. */
export function runSteps(
  step: { push(c: Uint8Array): Uint8Array | undefined; end(): Uint8Array | undefined },
  chunks: readonly Uint8Array[],
): Uint8Array {
  const out: (Uint8Array | undefined)[] = chunks.map((c) => step.push(c));
  out.push(step.end());
  return concat(out);
}

/** A WAV file of 16-bit PCM mono `samples`, with the header Voxgate itself writes (src/audio/wav.ts). */
export function pcmWavFile(sampleRate: number, samples: Int16Array): Uint8Array {
  return concat([wavHeader({ encoding: "pcm_s16le", sampleRate, dataBytes: samples.length * 2 }), toS16le(samples)]);
}
