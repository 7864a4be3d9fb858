// MPEG audio (MP3, and layers I/II) and ADTS AAC: raw streams of self-describing frames. The duration
// is counted frame by frame, since every frame header gives its own length and sample count; Xing,
// Info, VBRI and ID3 length fields are ignored (they are free text a caller can forge). A 25 MiB
// stream is ~10⁵ frames: a walk of header jumps, plus a byte scan only across junk.
// `!` on byte and table reads: a header is read only once all its bytes are present, and the
// tables are indexed only by header fields already checked against them.
import { type AudioFormat, LOSSY_MAX_BITS_PER_SECOND, nextByte, plausible, type Reading } from "./reading";

interface Frame {
  kind: "mp3" | "aac";
  length: number;
  seconds: number;
}

// Bitrates in kbit/s by table (MPEG-1 layers I, II, III; MPEG-2/2.5 layer I; MPEG-2/2.5 layers II, III).
const BITRATES = [
  [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];
// Sample rates by the header's version bits: 0 MPEG-2.5, 2 MPEG-2, 3 MPEG-1 (1 is reserved).
const MPEG_RATES = [[11025, 12000, 8000], [], [22050, 24000, 16000], [44100, 48000, 32000]];
const ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
const ADTS_HEADER_BYTES = 7;
/** How far past the start (and any ID3 tags) the first frame may sit; further, we don't call it MPEG. */
const FIRST_FRAME_SEARCH_BYTES = 64 * 1024;
/** Frames in a row that make the start of a stream (fewer only when the data ends first). */
const FRAMES_TO_CONFIRM = 3;

function frameAt(b: Uint8Array, i: number): Frame | null {
  if (i + 4 > b.length || b[i] !== 0xff || (b[i + 1]! & 0xe0) !== 0xe0) return null;
  const version = (b[i + 1]! >> 3) & 3;
  const layerBits = (b[i + 1]! >> 1) & 3;
  if (layerBits === 0) return version >= 2 ? adtsFrameAt(b, i) : null;
  const bitrateIndex = b[i + 2]! >> 4;
  const rateIndex = (b[i + 2]! >> 2) & 3;
  // Free-format (bitrate 0) frames state no length: not counted, so such a stream gets the size bound.
  if (version === 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3 || (b[i + 3]! & 3) === 2) return null;
  const layer = 4 - layerBits;
  const mpeg1 = version === 3;
  const table = mpeg1 ? layer - 1 : layer === 1 ? 3 : 4;
  const bitrate = BITRATES[table]![bitrateIndex]! * 1000;
  const sampleRate = MPEG_RATES[version]![rateIndex]!;
  const padding = (b[i + 2]! >> 1) & 1;
  if (layer === 1) return { kind: "mp3", length: (Math.floor((12 * bitrate) / sampleRate) + padding) * 4, seconds: 384 / sampleRate };
  const samples = layer === 3 && !mpeg1 ? 576 : 1152;
  return { kind: "mp3", length: Math.floor(((samples / 8) * bitrate) / sampleRate) + padding, seconds: samples / sampleRate };
}

/** ADTS: 12-bit sync, layer 0, then a 13-bit frame length and 1–4 AAC blocks of 1024 samples each. */
function adtsFrameAt(b: Uint8Array, i: number): Frame | null {
  if (i + ADTS_HEADER_BYTES > b.length) return null;
  const rateIndex = (b[i + 2]! >> 2) & 0xf;
  const length = ((b[i + 3]! & 3) << 11) | (b[i + 4]! << 3) | (b[i + 5]! >> 5);
  if (rateIndex >= ADTS_RATES.length || length < ADTS_HEADER_BYTES) return null;
  // With SBR (HE-AAC) a block decodes to twice the samples at twice the rate: the same seconds.
  return { kind: "aac", length, seconds: (((b[i + 6]! & 3) + 1) * 1024) / ADTS_RATES[rateIndex]! };
}

/** Seconds of the MPEG audio frames that follow one another from `at` (a Matroska or MP4 sample). */
export function mpegFramesSeconds(b: Uint8Array, at: number, end: number): number {
  let seconds = 0;
  for (let frame = frameAt(b, at); frame && frame.kind === "mp3" && at < end; frame = frameAt(b, at)) {
    seconds += frame.seconds;
    at += frame.length;
  }
  return seconds;
}

/** A frame at i that the next `count` frames follow (or that runs to the end of the data). */
function confirmedFrameAt(b: Uint8Array, i: number, count: number): Frame | null {
  const first = frameAt(b, i);
  let frame = first;
  let at = i;
  for (let k = 1; k < count && frame; k++) {
    at += frame.length;
    if (at >= b.length) return first;
    frame = frameAt(b, at);
  }
  return frame ? first : null;
}

function nextConfirmed(b: Uint8Array, from: number, until: number, count: number): number {
  for (let i = nextByte(b, 0xff, from); i >= 0 && i < until; i = nextByte(b, 0xff, i + 1)) {
    if (confirmedFrameAt(b, i, count)) return i;
  }
  return -1;
}

/** Where an MPEG audio or ADTS stream starts within the search window at `start`, or -1. */
function streamStart(b: Uint8Array, start: number): number {
  return nextConfirmed(b, start, Math.min(b.length, start + FIRST_FRAME_SEARCH_BYTES), FRAMES_TO_CONFIRM);
}

/** "mp3" or "aac" when a run of frames starts within the search window at `start`. */
export function mpegFormat(b: Uint8Array, start: number): AudioFormat | undefined {
  const i = streamStart(b, start);
  return i < 0 ? undefined : frameAt(b, i)?.kind;
}

/** Counts the frames of an MPEG audio or ADTS stream that starts within the search window at `start`. */
export function readMpeg(b: Uint8Array, start: number): Reading | null {
  let i = streamStart(b, start);
  const first = i < 0 ? null : frameAt(b, i);
  if (!first) return null;
  const format: AudioFormat = first.kind;
  const from = i;
  let seconds = 0;
  while (i >= 0 && i < b.length) {
    const frame = frameAt(b, i);
    if (frame) {
      // A frame cut short by the end of the data still counts: a decoder may play part of it.
      seconds += frame.seconds;
      i += frame.length;
    } else {
      // Lost sync (junk, a tag, a damaged frame): decoders resync, so we resume at the next frame
      // that the one after it confirms, as a single chance 0xFFE pattern in junk is not a frame.
      i = nextConfirmed(b, i + 1, b.length, 2);
    }
  }
  // Held to the plausibility rule against frames we'd fail to recognise (which would count too little).
  const checked = plausible(seconds, b.length - from, LOSSY_MAX_BITS_PER_SECOND);
  return checked === null ? null : { format, seconds: checked };
}
