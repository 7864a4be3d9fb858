// The streaming resampler: tones keep frequency and level, tones above the new Nyquist frequency are
// removed, lengths are exact, and how the input is chunked never changes a single output byte.
import { describe, expect, it } from "vitest";
import { createResampler } from "../../../src/audio/resample";
import { createTranscoder } from "../../../src/audio/transcode";
import { dB, fromS16le, oddChunks, rms, runSteps, sine, toneAmplitude, toS16le, zeroCrossingFrequency } from "../../helpers/audio-signal";
import { cycle } from "../../helpers/items";

const RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000];
const PAIRS = RATES.flatMap((from) => RATES.filter((to) => to !== from).map((to) => [from, to] as const));

function resampleAll(from: number, to: number, input: Int16Array, chunkSizes?: number[]): Int16Array {
  const r = createResampler(from, to);
  const parts: Int16Array[] = [];
  if (!chunkSizes) parts.push(r.process(input));
  else {
    let at = 0;
    for (let i = 0; at < input.length; i++) {
      const size = cycle(chunkSizes, i);
      parts.push(r.process(input.subarray(at, at + size)));
      at += size;
    }
  }
  parts.push(r.flush());
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One second from the middle of a signal, away from the silence-padded edges. */
const middleSecond = (samples: Int16Array, rate: number) => samples.subarray(Math.floor(rate / 2), Math.floor(rate / 2) + rate);

describe("resampler", () => {
  it("passes samples through untouched at equal rates", () => {
    const input = sine(24000, 1000, 0.1, 9000);
    const r = createResampler(24000, 24000);
    expect(r.process(input)).toBe(input);
    expect(r.flush().length).toBe(0);
  });

  it.each(PAIRS)("%i Hz → %i Hz keeps a 1 kHz tone's frequency and level", (from, to) => {
    const input = sine(from, 1000, 2, 10000);
    const out = resampleAll(from, to, input);
    const mid = middleSecond(out, to);
    expect(Math.abs(dB(toneAmplitude(mid, to, 1000) / 10000))).toBeLessThan(0.05);
    expect(zeroCrossingFrequency(mid, to)).toBeCloseTo(1000, 0);
    // Nothing else of note: the residue after the tone is at the 16-bit quantisation floor (0.29 LSB).
    expect(rms(mid)).toBeCloseTo(10000 / Math.SQRT2, -1);
  });

  it.each([
    [24000, 8000, 5000, 3000],
    [48000, 8000, 6000, 2000],
    [44100, 8000, 4700, 3300],
    [48000, 16000, 10000, 6000],
    [44100, 22050, 12000, 10050],
    [48000, 44100, 23000, 21100],
  ])("%i Hz → %i Hz removes a %i Hz tone (which would alias to %i Hz)", (from, to, tone, alias) => {
    const out = resampleAll(from, to, sine(from, tone, 2, 30000));
    const mid = middleSecond(out, to);
    const attenuation = -dB(toneAmplitude(mid, to, alias) / 30000);
    console.log(`${from}→${to}: ${tone} Hz attenuated by ${attenuation.toFixed(1)} dB (RMS left ${rms(mid).toFixed(2)})`);
    expect(attenuation).toBeGreaterThan(70);
  });

  it("passes speech-band tones up to 80% of the lower Nyquist frequency within 0.5 dB", () => {
    for (const tone of [300, 1000, 2000, 3000, 3200]) {
      const mid = middleSecond(resampleAll(24000, 8000, sine(24000, tone, 2, 10000)), 8000);
      expect(Math.abs(dB(toneAmplitude(mid, 8000, tone) / 10000))).toBeLessThan(0.5);
    }
  });

  it("keeps DC at unit gain in every phase", () => {
    const out = resampleAll(44100, 48000, new Int16Array(44100).fill(-12345));
    expect(out.subarray(1000, out.length - 1000).every((s) => s === -12345)).toBe(true);
  });

  it.each(PAIRS)("%i Hz → %i Hz gives exactly ceil(n × out / in) samples, however long", (from, to) => {
    for (const n of [0, 1, 2, 3, 147, 160, 441, from * 7 + 13]) {
      expect(resampleAll(from, to, new Int16Array(n), [1, 1000, 4097])).toHaveLength(Math.ceil((n * to) / from));
    }
  });

  it("doesn't drift over a long stream in small chunks", () => {
    const seconds = 30;
    const r = createResampler(44100, 48000);
    const chunk = new Int16Array(441 * 3 + 1);
    let inputs = 0;
    let outputs = 0;
    while (inputs + chunk.length <= 44100 * seconds) {
      outputs += r.process(chunk).length;
      inputs += chunk.length;
      // At every point the output is the input's length × 160/147, less at most the filter's look-ahead.
      expect(Math.ceil((inputs * 48000) / 44100) - outputs).toBeLessThanOrEqual(Math.ceil((24 * 48000) / 44100) + 1);
    }
    outputs += r.flush().length;
    expect(outputs).toBe(Math.ceil((inputs * 48000) / 44100));
  });

  it.each([
    [24000, 8000],
    [8000, 44100],
    [44100, 48000],
  ])("%i Hz → %i Hz: any chunking of the samples gives identical output", (from, to) => {
    const input = sine(from, 440, 0.5, 20000, 0.3);
    const whole = resampleAll(from, to, input);
    expect(resampleAll(from, to, input, [1])).toEqual(whole);
    expect(resampleAll(from, to, input, [7, 0, 1, 333, 2, 1001])).toEqual(whole);
  });

  it("gives byte-identical output when the bytes are cut at odd boundaries", () => {
    const bytes = toS16le(sine(22050, 700, 1, 15000));
    const target = { format: "pcm", sampleRate: 16000 } as const;
    const once = runSteps(createTranscoder({ container: "raw", encoding: "pcm_s16le", sampleRate: 22050 }, target), [bytes]);
    for (const seed of [1, 2, 3]) {
      const chunks = oddChunks(bytes, seed);
      expect(chunks.some((c) => c.length % 2 === 1)).toBe(true);
      const pieces = runSteps(createTranscoder({ container: "raw", encoding: "pcm_s16le", sampleRate: 22050 }, target), chunks);
      expect(pieces).toEqual(once);
    }
    expect(fromS16le(once)).toHaveLength(16000);
  });

  it("refuses to be fed after flush, and rate pairs it can't tabulate", () => {
    const r = createResampler(16000, 8000);
    r.flush();
    expect(() => r.process(new Int16Array(1))).toThrow();
    expect(() => createResampler(44101, 48000)).toThrow(RangeError);
    expect(() => createResampler(0, 8000)).toThrow(RangeError);
  });
});
