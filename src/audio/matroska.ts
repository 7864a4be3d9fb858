// WebM / Matroska. Browsers' MediaRecorder writes Opus in WebM with no Duration and unknown-size
// Segment and Clusters, so the element tree is walked flat: master elements are entered rather than
// skipped, which makes their (unknown or forged) sizes irrelevant. Opus tracks: the samples of every
// frame of every block, from the TOC byte. Other codecs: Segment Info's Duration under the
// plausibility rule (it is only a claim; decoders play every block).
import { OPUS_SAMPLE_RATE, opusPacketSamples } from "./opus";
import { LOSSLESS_MAX_BITS_PER_SECOND, LOSSY_MAX_BITS_PER_SECOND, plausible, type Reading, view } from "./reading";

const EBML_HEADER = 0x1a45dfa3;
const CLUSTER = 0x1f43b675;
const TRACK_ENTRY = 0xae;
/** Elements whose children we read: Segment, Info, Tracks, TrackEntry, Cluster, BlockGroup. */
const MASTERS = new Set([0x18538067, 0x1549a966, 0x1654ae6b, TRACK_ENTRY, CLUSTER, 0xa0]);
const TIMESTAMP_SCALE = 0x2ad7b1;
const DURATION = 0x4489;
const TRACK_NUMBER = 0xd7;
const TRACK_TYPE = 0x83;
const CODEC_ID = 0x86;
const SIMPLE_BLOCK = 0xa3;
const BLOCK = 0xa1;
const AUDIO_TRACK = 2;
/** Real codec ids are short ("A_OPUS", "A_PCM/INT/LIT"); a longer one is cut, not spread into arguments. */
const CODEC_ID_MAX_BYTES = 32;
const LOSSLESS_CODECS = ["A_PCM", "A_FLAC", "A_ALAC", "A_WAVPACK4", "A_TTA1"];

interface Track {
  type: number;
  codec: string;
}

interface Vint {
  value: number;
  length: number;
  unknown: boolean;
}

/** An EBML variable-length integer; `keepMarker` for element ids, which keep their length bits. */
function vint(b: Uint8Array, i: number, keepMarker: boolean): Vint | null {
  const first = b[i];
  if (first === undefined || first === 0) return null;
  const length = Math.clz32(first) - 23;
  if (i + length > b.length || (keepMarker && length > 4)) return null;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let k = 1; k < length; k++) {
    value = value * 256 + b[i + k];
    allOnes &&= b[i + k] === 0xff;
  }
  return { value, length, unknown: !keepMarker && allOnes };
}

function uint(b: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 256 + b[i];
  return n;
}

/** Calls `frame` with the offset and length of each frame in a (Simple)Block's laced payload. */
function blockFrames(b: Uint8Array, start: number, end: number, frame: (track: number, at: number, length: number) => void): void {
  const track = vint(b, start, false);
  if (!track) return;
  let p = start + track.length + 2;
  if (p >= end) return;
  const lacing = (b[p++] >> 1) & 3;
  if (lacing === 0) {
    frame(track.value, p, end - p);
    return;
  }
  const count = b[p++] + 1;
  const sizes: number[] = [];
  if (lacing === 2) for (let k = 1; k < count; k++) sizes.push(Math.floor((end - p) / count));
  else if (lacing === 1) {
    for (let k = 1; k < count && p < end; k++) {
      let size = 0;
      while (p < end && b[p] === 255) size += b[p++];
      sizes.push(size + (b[p++] ?? 0));
    }
  } else {
    let size = 0;
    for (let k = 1; k < count && p < end; k++) {
      const n = vint(b, p, false);
      if (!n) return;
      // After the first, sizes are differences, signed by subtracting half the range.
      size = k === 1 ? n.value : size + n.value - (2 ** (7 * n.length - 1) - 1);
      if (size < 0) return;
      sizes.push(size);
      p += n.length;
    }
  }
  for (const size of sizes) {
    if (p >= end) return;
    frame(track.value, p, size);
    p += size;
  }
  if (p < end) frame(track.value, p, end - p);
}

export function isMatroska(b: Uint8Array): boolean {
  return b.length >= 4 && view(b).getUint32(0) === EBML_HEADER;
}

export function readMatroska(b: Uint8Array): Reading | null {
  const tracks = new Map<number, Track>();
  const opusSamples = new Map<number, number>();
  const blockBytes = new Map<number, number>();
  let entry: { number: number; type: number; codec: string } | null = null;
  let scale = 1_000_000;
  let duration: number | null = null;
  let i = 0;
  while (i < b.length) {
    const id = vint(b, i, true);
    const size = id && vint(b, i + id.length, false);
    if (!id || !size || (size.unknown && !MASTERS.has(id.value))) {
      // Damaged: resume at the next Cluster, as ffmpeg does.
      i = nextCluster(b, i + 1);
      continue;
    }
    const data = i + id.length + size.length;
    if (MASTERS.has(id.value)) {
      if (id.value === TRACK_ENTRY) entry = { number: 0, type: 0, codec: "" };
      i = data;
      continue;
    }
    const end = Math.min(b.length, data + size.value);
    if (id.value === TIMESTAMP_SCALE) scale = uint(b, data, end);
    else if (id.value === DURATION && end === data + size.value) duration = size.value === 4 ? view(b).getFloat32(data) : size.value === 8 ? view(b).getFloat64(data) : null;
    else if (entry && (id.value === TRACK_NUMBER || id.value === TRACK_TYPE || id.value === CODEC_ID)) {
      if (id.value === TRACK_NUMBER) entry.number = uint(b, data, end);
      else if (id.value === TRACK_TYPE) entry.type = uint(b, data, end);
      else entry.codec = String.fromCharCode(...b.subarray(data, Math.min(end, data + CODEC_ID_MAX_BYTES))).replace(/\0+$/, "");
      if (entry.number > 0) tracks.set(entry.number, entry);
    } else if (id.value === SIMPLE_BLOCK || id.value === BLOCK) {
      blockFrames(b, data, end, (track, at, length) => {
        opusSamples.set(track, (opusSamples.get(track) ?? 0) + opusPacketSamples(length > 0 ? b[at] : undefined, length > 1 ? b[at + 1] : undefined));
        blockBytes.set(track, (blockBytes.get(track) ?? 0) + length);
      });
    }
    i = data + size.value;
  }
  return measureTracks(tracks, opusSamples, blockBytes, duration === null ? null : (duration * scale) / 1e9);
}

function measureTracks(tracks: Map<number, Track>, opusSamples: Map<number, number>, blockBytes: Map<number, number>, stated: number | null): Reading | null {
  const audio = [...tracks.entries()].filter(([, t]) => t.type === AUDIO_TRACK || t.codec.startsWith("A_"));
  if (audio.length === 0) return null;
  let counted = 0;
  let otherBytes = 0;
  let lossless = false;
  let other = false;
  for (const [number, track] of audio) {
    if (track.codec === "A_OPUS") counted += (opusSamples.get(number) ?? 0) / OPUS_SAMPLE_RATE;
    else {
      other = true;
      otherBytes += blockBytes.get(number) ?? 0;
      lossless ||= LOSSLESS_CODECS.some((c) => track.codec.startsWith(c));
    }
  }
  if (!other) return { format: "webm", seconds: counted };
  const checked = stated === null ? null : plausible(stated, otherBytes, lossless ? LOSSLESS_MAX_BITS_PER_SECOND : LOSSY_MAX_BITS_PER_SECOND);
  return checked === null ? null : { format: "webm", seconds: Math.max(counted, checked) };
}

function nextCluster(b: Uint8Array, from: number): number {
  for (let i = from; i + 4 <= b.length; i++) if (b[i] === 0x1f && b[i + 1] === 0x43 && b[i + 2] === 0xb6 && b[i + 3] === 0x75) return i;
  return b.length;
}
