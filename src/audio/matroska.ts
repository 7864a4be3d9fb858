// WebM / Matroska. Browsers' MediaRecorder writes Opus in WebM with no Duration and unknown-size
// Segment and Clusters, so the element tree is walked flat: master elements are entered rather than
// skipped, which makes their (unknown or forged) sizes irrelevant. Opus tracks: the samples of every
// frame of every block, from the TOC byte. Other codecs: Segment Info's Duration under the
// plausibility rule (it is only a claim; decoders play every block).
import { OPUS_SAMPLE_RATE, opusPacketSamples } from "./opus";
import { LOSSLESS_MAX_BITS_PER_SECOND, LOSSY_MAX_BITS_PER_SECOND, MAX_TRACKS, nextByte, plausible, type Reading, view } from "./reading";

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

/** What a track's blocks hold: Opus samples (if it is Opus) and bytes. */
interface BlockTotals {
  samples: number;
  bytes: number;
}

/** Bytes in the EBML variable-length integer that starts with `first` (1–8), or 0 if invalid. */
function vintLength(first: number | undefined): number {
  return first ? Math.clz32(first) - 23 : 0;
}

/** The vint's value; element ids keep their length marker. A size of all ones (unknown) → -1. */
function vintValue(b: Uint8Array, i: number, length: number, isId: boolean): number {
  let value = isId ? b[i] : b[i] & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let k = 1; k < length; k++) {
    value = value * 256 + b[i + k];
    allOnes &&= b[i + k] === 0xff;
  }
  return !isId && allOnes ? -1 : value;
}

function uint(b: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 256 + b[i];
  return n;
}

function addFrame(b: Uint8Array, totals: BlockTotals, at: number, length: number): void {
  totals.samples += opusPacketSamples(length > 0 ? b[at] : undefined, length > 1 ? b[at + 1] : undefined);
  totals.bytes += length;
}

/** Adds each frame of a (Simple)Block's laced payload to its track's totals. */
function addBlock(b: Uint8Array, start: number, end: number, totalsOf: (track: number) => BlockTotals): void {
  const trackLength = vintLength(b[start]);
  if (trackLength === 0 || start + trackLength + 3 > end) return;
  const totals = totalsOf(vintValue(b, start, trackLength, false));
  let p = start + trackLength + 2;
  const lacing = (b[p++] >> 1) & 3;
  if (lacing === 0) {
    addFrame(b, totals, p, end - p);
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
      const length = vintLength(b[p]);
      if (length === 0 || p + length > end) return;
      const n = vintValue(b, p, length, false);
      if (n < 0) return;
      // After the first, sizes are differences, signed by subtracting half the range.
      size = k === 1 ? n : size + n - (2 ** (7 * length - 1) - 1);
      if (size < 0) return;
      sizes.push(size);
      p += length;
    }
  }
  for (const size of sizes) {
    if (p >= end) return;
    addFrame(b, totals, p, size);
    p += size;
  }
  if (p < end) addFrame(b, totals, p, end - p);
}

export function isMatroska(b: Uint8Array): boolean {
  return b.length >= 4 && view(b).getUint32(0) === EBML_HEADER;
}

export function readMatroska(b: Uint8Array): Reading | null {
  const tracks = new Map<number, Track>();
  const blocks = new Map<number, BlockTotals>();
  const totalsOf = (track: number) => {
    let totals = blocks.get(track);
    if (!totals) {
      totals = { samples: 0, bytes: 0 };
      blocks.set(track, totals);
    }
    return totals;
  };
  let entry: { number: number; type: number; codec: string } | null = null;
  let scale = 1_000_000;
  let duration: number | null = null;
  let i = 0;
  while (i < b.length) {
    const idLength = vintLength(b[i]);
    const sizeLength = vintLength(b[i + idLength]);
    const data = i + idLength + sizeLength;
    const id = idLength > 0 && idLength <= 4 && sizeLength > 0 && data <= b.length ? vintValue(b, i, idLength, true) : 0;
    const size = id ? vintValue(b, i + idLength, sizeLength, false) : 0;
    if (!id || (size < 0 && !MASTERS.has(id))) {
      // Damaged: resume at the next Cluster, as ffmpeg does.
      i = nextCluster(b, i + 1);
      continue;
    }
    if (MASTERS.has(id)) {
      if (id === TRACK_ENTRY) entry = { number: 0, type: 0, codec: "" };
      i = data;
      continue;
    }
    const end = Math.min(b.length, data + size);
    if (id === TIMESTAMP_SCALE) scale = uint(b, data, end);
    else if (id === DURATION && end === data + size) duration = size === 4 ? view(b).getFloat32(data) : size === 8 ? view(b).getFloat64(data) : null;
    else if (entry && (id === TRACK_NUMBER || id === TRACK_TYPE || id === CODEC_ID)) {
      if (id === TRACK_NUMBER) entry.number = uint(b, data, end);
      else if (id === TRACK_TYPE) entry.type = uint(b, data, end);
      else entry.codec = String.fromCharCode(...b.subarray(data, Math.min(end, data + CODEC_ID_MAX_BYTES))).replace(/\0+$/, "");
      if (entry.number > 0) tracks.set(entry.number, entry);
    } else if (id === SIMPLE_BLOCK || id === BLOCK) {
      addBlock(b, data, end, totalsOf);
    }
    if (tracks.size > MAX_TRACKS || blocks.size > MAX_TRACKS) return null;
    i = data + size;
  }
  return measureTracks(tracks, blocks, duration === null ? null : (duration * scale) / 1e9);
}

function measureTracks(tracks: Map<number, Track>, blocks: Map<number, BlockTotals>, stated: number | null): Reading | null {
  const audio = [...tracks.entries()].filter(([, t]) => t.type === AUDIO_TRACK || t.codec.startsWith("A_"));
  if (audio.length === 0) return null;
  let counted = 0;
  let otherBytes = 0;
  let lossless = false;
  let other = false;
  for (const [number, track] of audio) {
    if (track.codec === "A_OPUS") counted += (blocks.get(number)?.samples ?? 0) / OPUS_SAMPLE_RATE;
    else {
      other = true;
      otherBytes += blocks.get(number)?.bytes ?? 0;
      lossless ||= LOSSLESS_CODECS.some((c) => track.codec.startsWith(c));
    }
  }
  if (!other) return { format: "webm", seconds: counted };
  const checked = stated === null ? null : plausible(stated, otherBytes, lossless ? LOSSLESS_MAX_BITS_PER_SECOND : LOSSY_MAX_BITS_PER_SECOND);
  return checked === null ? null : { format: "webm", seconds: Math.max(counted, checked) };
}

function nextCluster(b: Uint8Array, from: number): number {
  for (let i = nextByte(b, 0x1f, from); i >= 0 && i + 4 <= b.length; i = nextByte(b, 0x1f, i + 1)) {
    if (b[i + 1] === 0x43 && b[i + 2] === 0xb6 && b[i + 3] === 0x75) return i;
  }
  return b.length;
}
