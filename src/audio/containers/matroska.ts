// WebM / Matroska. Browsers' MediaRecorder writes Opus in WebM with no Duration and unknown-size
// Segment and Clusters, so the element tree is walked flat: master elements are entered rather than
// skipped, which makes their (unknown or forged) sizes irrelevant. Each audio track's blocks are
// counted frame by frame by its codec (frame-counter.ts: Opus, Vorbis, AAC, MPEG, PCM); only other
// codecs fall back to Segment Info's Duration, under the plausibility rule (decoders play every block).
// `!` on byte reads: vints and uints are read only within an element's bytes present in the data.
import { type FrameCounter, frameCounterFor } from "./frame-counter";
import { LOSSLESS_MAX_BITS_PER_SECOND, LOSSY_MAX_BITS_PER_SECOND, MAX_TRACKS, nextByte, plausible, type Reading, view } from "./reading";

const EBML_HEADER = 0x1a45dfa3;
const TRACK_ENTRY = 0xae;
/** Elements whose children we read: Segment, Info, Tracks, TrackEntry, Audio, Cluster, BlockGroup. */
const MASTERS = new Set([0x18538067, 0x1549a966, 0x1654ae6b, TRACK_ENTRY, 0xe1, 0x1f43b675, 0xa0]);
const TIMESTAMP_SCALE = 0x2ad7b1;
const DURATION = 0x4489;
const TRACK_NUMBER = 0xd7;
const TRACK_TYPE = 0x83;
const CODEC_ID = 0x86;
const CODEC_PRIVATE = 0x63a2;
const SAMPLING_FREQUENCY = 0xb5;
const CHANNELS = 0x9f;
const BIT_DEPTH = 0x6264;
/** Compression or encryption of a track's frames (e.g. mkvmerge's header stripping of MP3). */
const CONTENT_ENCODINGS = 0x6d80;
const SIMPLE_BLOCK = 0xa3;
const BLOCK = 0xa1;
const AUDIO_TRACK = 2;
/** Real codec ids are short ("A_OPUS", "A_PCM/INT/LIT"); a longer one is cut, not spread into arguments. */
const CODEC_ID_MAX_BYTES = 32;
const LOSSLESS_CODECS = ["A_PCM", "A_FLAC", "A_ALAC", "A_WAVPACK4", "A_TTA1"];

interface Track {
  type: number;
  codec: string;
  codecPrivate: Uint8Array | null;
  rate: number;
  channels: number;
  bitDepth: number;
  /** Its frames are stored transformed: their bytes can't be read as the codec's own. */
  encoded: boolean;
  /** Made at the track's first block (its entry is complete by then); null: a codec we can't count. */
  counter?: FrameCounter | null;
  bytes: number;
}

/** Bytes in the EBML variable-length integer that starts with `first` (1–8), or 0 if invalid. */
function vintLength(first: number | undefined): number {
  return first ? Math.clz32(first) - 23 : 0;
}

/** The vint's value; element ids keep their length marker. A size of all ones (unknown) → -1. */
function vintValue(b: Uint8Array, i: number, length: number, isId: boolean): number {
  let value = isId ? b[i]! : b[i]! & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let k = 1; k < length; k++) {
    value = value * 256 + b[i + k]!;
    allOnes &&= b[i + k] === 0xff;
  }
  return !isId && allOnes ? -1 : value;
}

function uint(b: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 256 + b[i]!;
  return n;
}

function float(b: Uint8Array, at: number, size: number): number | null {
  return size === 4 ? view(b).getFloat32(at) : size === 8 ? view(b).getFloat64(at) : null;
}

function addFrame(b: Uint8Array, track: Track, at: number, length: number): void {
  track.counter?.add(b, at, length);
  track.bytes += length;
}

/** Adds each frame of a (Simple)Block's laced payload (after its track number) to the track. */
function addBlock(b: Uint8Array, p: number, end: number, track: Track): void {
  p += 2; // timestamp
  const lacing = (b[p++]! >> 1) & 3;
  if (lacing === 0) {
    addFrame(b, track, p, end - p);
    return;
  }
  // A laced block cut before its frame count holds no frames.
  if (p >= end) return;
  const count = b[p++]! + 1;
  const sizes: number[] = [];
  if (lacing === 2) for (let k = 1; k < count; k++) sizes.push(Math.floor((end - p) / count));
  else if (lacing === 1) {
    for (let k = 1; k < count && p < end; k++) {
      let size = 0;
      while (p < end && b[p] === 255) size += b[p++]!;
      sizes.push(size + (b[p++] ?? 0));
    }
  } else {
    let size = 0;
    for (let k = 1; k < count && p < end; k++) {
      const length = vintLength(b[p]);
      const n = length > 0 && p + length <= end ? vintValue(b, p, length, false) : -1;
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
    addFrame(b, track, p, size);
    p += size;
  }
  if (p < end) addFrame(b, track, p, end - p);
}

export function isMatroska(b: Uint8Array): boolean {
  return b.length >= 4 && view(b).getUint32(0) === EBML_HEADER;
}

export function readMatroska(b: Uint8Array): Reading | null {
  const tracks = new Map<number, Track>();
  let entry: (Track & { number: number }) | null = null;
  let orphanBlocks = false;
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
      if (id === TRACK_ENTRY)
        entry = { number: 0, type: 0, codec: "", codecPrivate: null, rate: 8000, channels: 1, bitDepth: 0, encoded: false, bytes: 0 };
      i = data;
      continue;
    }
    const end = Math.min(b.length, data + size);
    if (id === TIMESTAMP_SCALE) scale = uint(b, data, end);
    else if (id === DURATION && end === data + size) duration = float(b, data, size);
    else if (id === SIMPLE_BLOCK || id === BLOCK) {
      const trackLength = vintLength(b[data]);
      // A block cut before its frames holds no audio.
      const track = trackLength > 0 && data + trackLength + 3 <= end ? tracks.get(vintValue(b, data, trackLength, false)) : null;
      // A block before its track is described can't be counted; such a file is not measured.
      if (track === undefined) orphanBlocks = true;
      else if (track) {
        if (track.counter === undefined) track.counter = counterFor(track);
        addBlock(b, data + trackLength, end, track);
      }
    } else if (entry) {
      if (id === TRACK_NUMBER) entry.number = uint(b, data, end);
      else if (id === TRACK_TYPE) entry.type = uint(b, data, end);
      else if (id === CODEC_ID)
        entry.codec = String.fromCharCode(...b.subarray(data, Math.min(end, data + CODEC_ID_MAX_BYTES))).replace(/\0+$/, "");
      else if (id === CODEC_PRIVATE) entry.codecPrivate = b.subarray(data, end);
      else if (id === SAMPLING_FREQUENCY && end === data + size) entry.rate = float(b, data, size) ?? 0;
      else if (id === CHANNELS) entry.channels = uint(b, data, end);
      else if (id === BIT_DEPTH) entry.bitDepth = uint(b, data, end);
      else if (id === CONTENT_ENCODINGS) entry.encoded = true;
      if (entry.number > 0 && !tracks.has(entry.number)) tracks.set(entry.number, entry);
    }
    if (tracks.size > MAX_TRACKS) return null;
    i = data + size;
  }
  return measureTracks([...tracks.values()], orphanBlocks, duration === null ? null : (duration * scale) / 1e9);
}

function measureTracks(tracks: Track[], orphanBlocks: boolean, stated: number | null): Reading | null {
  const audio = tracks.filter((t) => t.type === AUDIO_TRACK || t.codec.startsWith("A_"));
  if (audio.length === 0 || orphanBlocks) return null;
  let counted = 0;
  let otherBytes = 0;
  let lossless = false;
  let other = false;
  for (const track of audio) {
    // A track with no blocks gets its counter here, to know whether its (zero) length is a count.
    const counter = track.counter === undefined ? counterFor(track) : track.counter;
    const ceiling = LOSSLESS_CODECS.some((c) => track.codec.startsWith(c)) ? LOSSLESS_MAX_BITS_PER_SECOND : LOSSY_MAX_BITS_PER_SECOND;
    if (counter) {
      // A count is held to the rule too: frames that aren't what their codec id says (a bug of ours,
      // or of the file) would count too little for their bytes.
      const seconds = plausible(counter.seconds, track.bytes, ceiling);
      if (seconds === null) return null;
      counted += seconds;
    } else {
      other = true;
      otherBytes += track.bytes;
      lossless ||= ceiling === LOSSLESS_MAX_BITS_PER_SECOND;
    }
  }
  if (!other) return { format: "webm", seconds: counted };
  const checked =
    stated === null ? null : plausible(stated, otherBytes, lossless ? LOSSLESS_MAX_BITS_PER_SECOND : LOSSY_MAX_BITS_PER_SECOND);
  return checked === null ? null : { format: "webm", seconds: Math.max(counted, checked) };
}

/** Frames stored transformed (stripped headers, compression) can't be counted: their Duration is all there is. */
function counterFor(track: Track): FrameCounter | null {
  return track.encoded ? null : frameCounterFor(track);
}

function nextCluster(b: Uint8Array, from: number): number {
  for (let i = nextByte(b, 0x1f, from); i >= 0 && i + 4 <= b.length; i = nextByte(b, 0x1f, i + 1)) {
    if (b[i + 1] === 0x43 && b[i + 2] === 0xb6 && b[i + 3] === 0x75) return i;
  }
  return b.length;
}
