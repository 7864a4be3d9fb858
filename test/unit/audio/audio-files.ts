// Audio for the duration tests: the encoded fixtures (test/fixtures/audio/README.md says how they were
// made and how long they are), WAVs built here, and small byte-patching tools for forged headers.
// Vite's ?inline turns each file into a data: URL, so the bytes reach workerd without a file system.

import adts from "../../fixtures/audio/speech.aac?inline";
import flac from "../../fixtures/audio/speech.flac?inline";
import m4a from "../../fixtures/audio/speech.m4a?inline";
import opus from "../../fixtures/audio/speech.opus?inline";
import webm from "../../fixtures/audio/speech.webm?inline";
import mp3Cbr8k from "../../fixtures/audio/speech-8k-cbr.mp3?inline";
import mp3Vbr16k from "../../fixtures/audio/speech-16k-vbr.mp3?inline";
import mp3Cbr44k from "../../fixtures/audio/speech-44k-cbr.mp3?inline";
import mp3Plain44k from "../../fixtures/audio/speech-44k-plain.mp3?inline";
import aacMka from "../../fixtures/audio/speech-aac.mkv.webm?inline";
import flacMka from "../../fixtures/audio/speech-flac.mkv.webm?inline";
import flacMp4 from "../../fixtures/audio/speech-flac.mp4?inline";
import m4aFragmented from "../../fixtures/audio/speech-fragmented.m4a?inline";
import webmLive from "../../fixtures/audio/speech-live.webm?inline";
import mp3Mka from "../../fixtures/audio/speech-mp3.mkv.webm?inline";
import mp3Mp4 from "../../fixtures/audio/speech-mp3.mp4?inline";
import mp3ZlibMka from "../../fixtures/audio/speech-mp3-zlib.mkv.webm?inline";
import opusMp4 from "../../fixtures/audio/speech-opus.mp4?inline";
import opusMp4Fragmented from "../../fixtures/audio/speech-opus-fragmented.mp4?inline";
import pcmMka from "../../fixtures/audio/speech-pcm.mkv.webm?inline";
import vorbis from "../../fixtures/audio/speech-vorbis.ogg?inline";
import vorbisWebm from "../../fixtures/audio/speech-vorbis.webm?inline";

/** Every fixture is 2.500 s of audio (SoX cut it so) before encoding. */
export const FIXTURE_SECONDS = 2.5;
/** Encoder priming/padding and MP3's Xing/Info frame: at most three 72 ms frames (MPEG-2.5 at 8 kHz). */
export const ENCODER_EXTRA_SECONDS = 0.25;
/** speech-44k-plain.mp3: ffprobe counts 97 packets of 1,152 samples at 44.1 kHz. */
export const PLAIN_MP3_SECONDS = (97 * 1152) / 44100;

function bytesOf(dataUrl: string): Uint8Array {
  const binary = atob(dataUrl.slice(dataUrl.indexOf(",") + 1));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export const FIXTURES = {
  "speech-16k-vbr.mp3": { bytes: bytesOf(mp3Vbr16k), format: "mp3", type: "audio/mpeg" },
  "speech-44k-cbr.mp3": { bytes: bytesOf(mp3Cbr44k), format: "mp3", type: "audio/mpeg" },
  "speech-44k-plain.mp3": { bytes: bytesOf(mp3Plain44k), format: "mp3", type: "audio/mpeg" },
  "speech-8k-cbr.mp3": { bytes: bytesOf(mp3Cbr8k), format: "mp3", type: "audio/mpeg" },
  "speech.aac": { bytes: bytesOf(adts), format: "aac", type: "audio/aac" },
  "speech.flac": { bytes: bytesOf(flac), format: "flac", type: "audio/flac" },
  "speech.opus": { bytes: bytesOf(opus), format: "ogg", type: "audio/ogg" },
  "speech-vorbis.ogg": { bytes: bytesOf(vorbis), format: "ogg", type: "audio/ogg" },
  "speech.webm": { bytes: bytesOf(webm), format: "webm", type: "audio/webm" },
  "speech-live.webm": { bytes: bytesOf(webmLive), format: "webm", type: "audio/webm;codecs=opus" },
  "speech-vorbis.webm": { bytes: bytesOf(vorbisWebm), format: "webm", type: "audio/webm" },
  "speech-aac.mkv.webm": { bytes: bytesOf(aacMka), format: "webm", type: "audio/x-matroska" },
  "speech-mp3.mkv.webm": { bytes: bytesOf(mp3Mka), format: "webm", type: "audio/x-matroska" },
  "speech-pcm.mkv.webm": { bytes: bytesOf(pcmMka), format: "webm", type: "audio/x-matroska" },
  "speech-flac.mkv.webm": { bytes: bytesOf(flacMka), format: "webm", type: "audio/x-matroska" },
  "speech-mp3-zlib.mkv.webm": { bytes: bytesOf(mp3ZlibMka), format: "webm", type: "audio/x-matroska" },
  "speech.m4a": { bytes: bytesOf(m4a), format: "mp4", type: "audio/mp4" },
  "speech-fragmented.m4a": { bytes: bytesOf(m4aFragmented), format: "mp4", type: "audio/mp4" },
  "speech-opus.mp4": { bytes: bytesOf(opusMp4), format: "mp4", type: "audio/mp4" },
  "speech-opus-fragmented.mp4": { bytes: bytesOf(opusMp4Fragmented), format: "mp4", type: "audio/mp4;codecs=opus" },
  "speech-mp3.mp4": { bytes: bytesOf(mp3Mp4), format: "mp4", type: "audio/mp4" },
  "speech-flac.mp4": { bytes: bytesOf(flacMp4), format: "mp4", type: "audio/mp4" },
} as const;

export type FixtureName = keyof typeof FIXTURES;

/** A fresh copy of a fixture, safe to patch. */
export function fixture(name: FixtureName): Uint8Array {
  return FIXTURES[name].bytes.slice();
}

export interface WavSpec {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Sample frames actually written. */
  frames: number;
  formatTag?: number;
  /** What the data chunk's header claims (default: the bytes written). */
  declaredDataBytes?: number;
  /** What the fmt chunk's byte-rate field claims (default: the true rate). */
  declaredByteRate?: number;
  /** Chunks before "data" (e.g. LIST), as [id, body]. */
  chunksBefore?: [string, Uint8Array][];
  extensible?: boolean;
}

/** A WAV file built byte by byte; its sample data is a quiet saw wave (any bytes would do). */
export function makeWav(spec: WavSpec): Uint8Array {
  const blockAlign = spec.channels * Math.ceil(spec.bitsPerSample / 8);
  const dataBytes = spec.frames * blockAlign;
  const fmtBytes = spec.extensible ? 40 : 16;
  const extra = (spec.chunksBefore ?? []).reduce((n, [, body]) => n + 8 + body.length + (body.length & 1), 0);
  const out = new Uint8Array(12 + 8 + fmtBytes + extra + 8 + dataBytes);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) =>
    out.set(
      [...s].map((c) => c.charCodeAt(0)),
      at,
    );
  ascii(0, "RIFF");
  v.setUint32(4, out.length - 8, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, fmtBytes, true);
  v.setUint16(20, spec.extensible ? 0xfffe : (spec.formatTag ?? 1), true);
  v.setUint16(22, spec.channels, true);
  v.setUint32(24, spec.sampleRate, true);
  v.setUint32(28, spec.declaredByteRate ?? spec.sampleRate * blockAlign, true);
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, spec.bitsPerSample, true);
  if (spec.extensible) {
    v.setUint16(36, 22, true);
    v.setUint16(38, spec.bitsPerSample, true);
    v.setUint16(44, spec.formatTag ?? 1, true); // sub-format GUID's first two bytes
  }
  let at = 20 + fmtBytes;
  for (const [id, body] of spec.chunksBefore ?? []) {
    ascii(at, id);
    v.setUint32(at + 4, body.length, true);
    out.set(body, at + 8);
    at += 8 + body.length + (body.length & 1);
  }
  ascii(at, "data");
  v.setUint32(at + 4, spec.declaredDataBytes ?? dataBytes, true);
  for (let i = at + 8; i < out.length; i++) out[i] = (i * 7) & 0x3f;
  return out;
}

/** Offset of the first (or last) occurrence of an ASCII marker; throws if absent, so a patch can't silently miss. */
export function find(b: Uint8Array, marker: string, last = false): number {
  const codes = [...marker].map((c) => c.charCodeAt(0));
  const starts = last ? b.length - codes.length : 0;
  for (let i = starts; last ? i >= 0 : i <= b.length - codes.length; last ? i-- : i++) {
    if (codes.every((c, k) => b[i + k] === c)) return i;
  }
  throw new Error(`marker ${marker} not found`);
}

/** Deterministic noise (xorshift32), so the random-bytes case is the same on every run. */
export function noise(length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
