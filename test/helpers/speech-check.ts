// Decoding what the gateway answered for a PCM-family format (pcm, wav, ulaw, alaw) and checking it is the
// mock providers' tone (test/mocks/tone.mjs): at the rate asked for, as long as the text makes it, at the
// tone's pitch and level. Written independently of src/audio (its own WAV reader, tone.mjs's G.711 tables),
// so a conversion bug in the gateway cannot cancel out in the check. FLAC (a Hugging Face model's own audio,
// relayed as is) is read with src/audio's decoder, which its own tests check sample by sample against the
// encoder's MD5.
import { expect } from "vitest";
import { createFlacDecoder } from "../../src/audio/flac-decoder";
// @ts-expect-error plain JS module shared with the mock server
import { linearFromAlaw, linearFromUlaw, MOCK_TONE_AMPLITUDE, MOCK_TONE_HZ, mockToneSeconds } from "../mocks/tone.mjs";
import { toneAmplitude, zeroCrossingFrequency } from "./audio-signal";

export type ToneFormat = "pcm" | "wav" | "ulaw" | "alaw" | "flac";

export interface DecodedSpeech {
  samples: Int16Array;
  /** From the WAV header (wav only). */
  sampleRate?: number;
  /** WAV format tag: 1 PCM, 6 A-law, 7 µ-law. */
  formatTag?: number;
}

function s16(bytes: Uint8Array): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** A mono WAV: PCM 16-bit, µ-law or A-law; a data size of 0 or 0xFFFFFFFF runs to the end. */
function readWav(bytes: Uint8Array): DecodedSpeech {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  expect(tag(0), "RIFF header").toBe("RIFF");
  expect(tag(8), "WAVE form").toBe("WAVE");
  let at = 12;
  let formatTag = 0;
  let sampleRate = 0;
  while (at + 8 <= bytes.length) {
    const size = view.getUint32(at + 4, true);
    if (tag(at) === "fmt ") {
      formatTag = view.getUint16(at + 8, true);
      expect(view.getUint16(at + 10, true), "mono").toBe(1);
      sampleRate = view.getUint32(at + 12, true);
    } else if (tag(at) === "data") {
      const end = size === 0 || size === 0xffffffff ? bytes.length : Math.min(bytes.length, at + 8 + size);
      const data = bytes.subarray(at + 8, end);
      const samples = formatTag === 1 ? s16(data) : Int16Array.from(data, formatTag === 7 ? linearFromUlaw : linearFromAlaw);
      return { samples, sampleRate, formatTag };
    }
    at += 8 + size + (size & 1);
  }
  throw new Error("WAV without a data chunk");
}

export function decodeSpeech(bytes: Uint8Array, format: ToneFormat): DecodedSpeech {
  switch (format) {
    case "pcm":
      expect(bytes.length % 2, "whole 16-bit samples").toBe(0);
      return { samples: s16(bytes) };
    case "wav":
      return readWav(bytes);
    case "ulaw":
      return { samples: Int16Array.from(bytes, linearFromUlaw) };
    case "alaw":
      return { samples: Int16Array.from(bytes, linearFromAlaw) };
    case "flac": {
      const d = createFlacDecoder();
      const samples = d.push(bytes);
      d.end();
      return { samples, sampleRate: d.format?.sampleRate };
    }
  }
}

/**
 * The samples are the mock's tone for `text` at `sampleRate`: its length (to 10 ms: rounding and the
 * resampler's exact sample count), its pitch (zero crossings, to 1%) and its level at that pitch (Goertzel
 * over 0.2 s — 88 whole cycles — after the first 50 ms, within 10%: G.711 and resampling stay well inside).
 */
export function expectTone(samples: Int16Array, sampleRate: number, text: string): void {
  expect(Math.abs(samples.length / sampleRate - mockToneSeconds(text)), `length of the tone at ${sampleRate} Hz`).toBeLessThan(0.01);
  const start = Math.round(0.05 * sampleRate);
  const window = samples.subarray(start, start + Math.round(0.2 * sampleRate));
  expect(Math.abs(zeroCrossingFrequency(window, sampleRate) / MOCK_TONE_HZ - 1), "pitch").toBeLessThan(0.01);
  const level = toneAmplitude(window, sampleRate, MOCK_TONE_HZ) / MOCK_TONE_AMPLITUDE;
  expect(level, "level at the tone's pitch").toBeGreaterThan(0.9);
  expect(level).toBeLessThan(1.1);
}

/** Decode `bytes` as `format` and check it is the tone for `text` at `sampleRate` (a WAV/FLAC header must say that rate). */
export function expectSpeechTone(bytes: Uint8Array, format: ToneFormat, sampleRate: number, text: string): DecodedSpeech {
  const decoded = decodeSpeech(bytes, format);
  if (decoded.sampleRate !== undefined) expect(decoded.sampleRate, "the WAV header's rate").toBe(sampleRate);
  expectTone(decoded.samples, sampleRate, text);
  return decoded;
}
