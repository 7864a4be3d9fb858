// What a container parser reports, and the one rule for durations that a file states rather than
// one we count from the data a decoder itself uses.
// `!` on byte reads: fourcc reads only once all four bytes are present (callers pass at ≥ 0).

export type AudioFormat = "wav" | "mp3" | "aac" | "flac" | "ogg" | "webm" | "mp4";

/** A parser's finding: the seconds a decoder will play from these bytes. */
export interface Reading {
  format: AudioFormat;
  seconds: number;
}

/**
 * Highest bitrate a real lossy stream reaches: MP3's free format tops out at 640 kbit/s, Opus at
 * 510, Vorbis and AAC-LC below 600. A stated duration needing more than this is a lie.
 */
export const LOSSY_MAX_BITS_PER_SECOND = 640_000;
/**
 * Highest bitrate accepted for PCM and lossless audio: 48 kHz × 2 channels × 32 bits. Richer
 * (studio) files fall back to the size bound, which only over-reserves.
 */
export const LOSSLESS_MAX_BITS_PER_SECOND = 3_072_000;

/**
 * The plausibility rule for a duration a file states (a header field, not a count of frames): it
 * is believed only if playing `audioBytes` in that time needs no more than `maxBitsPerSecond`;
 * otherwise null, and the caller falls back to the size bound. E.g. 10 MiB of AAC claiming 1 s
 * would need 84 Mbit/s.
 */
export function plausible(seconds: number, audioBytes: number, maxBitsPerSecond: number): number | null {
  if (!Number.isFinite(seconds) || seconds < 0) return null;
  if (audioBytes > 0 && (audioBytes * 8) / maxBitsPerSecond > seconds) return null;
  return seconds;
}

/**
 * Streams or tracks a parser keeps state for. Real audio has one to a few (a chained Ogg file one per
 * link); forged bytes could declare millions and exhaust the isolate's memory, so past this → null.
 */
export const MAX_TRACKS = 64;

/**
 * The next index ≥ from holding `value`, or -1. Scans are linear in the input either way; this keeps
 * them fast on both shapes: a few steps by hand where the value is dense (forged junk of 0xFF…), the
 * native indexOf where it is sparse (real audio data).
 */
export function nextByte(b: Uint8Array, value: number, from: number): number {
  const end = Math.min(b.length, from + 8);
  for (let i = from; i < end; i++) if (b[i] === value) return i;
  return end < b.length ? b.indexOf(value, end) : -1;
}

/** The four ASCII characters at `at` (box types, chunk ids, magic numbers). */
export function fourcc(b: Uint8Array, at: number): string {
  if (at + 4 > b.length) return "";
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
