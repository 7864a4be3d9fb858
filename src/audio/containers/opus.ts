// Opus packet durations from the packet's own TOC byte (RFC 6716 §3.1): what every Opus decoder
// plays, whatever the container's timestamps or granule positions claim.
// `!` on table reads: each index is masked to the table's length.

/** Samples at 48 kHz per frame, by TOC config (0–11 SILK, 12–15 hybrid, 16–31 CELT). */
function frameSamples(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config & 3]!;
  if (config < 16) return [480, 960][config & 1]!;
  return [120, 240, 480, 960][config & 3]!;
}

/** A packet never holds more than 120 ms (RFC 6716 §3.2.5). */
const MAX_PACKET_SAMPLES = 5_760;
/**
 * An empty packet marks a lost one; a decoder may conceal it with audio. Counted as 20 ms, the usual
 * frame (unconfirmed what each provider's decoder does; counting it only over-reserves).
 */
const EMPTY_PACKET_SAMPLES = 960;

/** Samples at 48 kHz that one packet decodes to, from its first two bytes (undefined when absent). */
export function opusPacketSamples(toc: number | undefined, second: number | undefined): number {
  if (toc === undefined) return EMPTY_PACKET_SAMPLES;
  const code = toc & 3;
  // Code 3 names its frame count in the second byte; a packet cut before it counts as the maximum.
  const frames = code === 0 ? 1 : code < 3 ? 2 : second === undefined ? 48 : second & 0x3f;
  return Math.min(MAX_PACKET_SAMPLES, frames * frameSamples(toc >> 3));
}

export const OPUS_SAMPLE_RATE = 48_000;
