// MP4 / M4A / 3GP / QuickTime. mvhd's and mdhd's durations are summaries a decoder doesn't need;
// what it plays is the audio track's samples, listed by the sample table and by every fragment's
// trun (MediaRecorder in Safari and Chrome writes fragmented MP4). AAC: samples × 1024 at the rate
// in the esds AudioSpecificConfig, which is what the decoder outputs. Opus and MP3: each sample read
// where the tables put it and counted by its own header. Other codecs: the stts/trun durations, which
// are claims, held to the plausibility rule against the bytes of the track's samples.
// A file cut before its moov box → null.
import { AAC_FRAME_SAMPLES, mp4aCodec } from "./aac-config";
import { type FrameCounter, frameCounterFor } from "./frame-counter";
import { eachSample, emptySampleTable, MAX_TABLE_STEPS, type SampleTable } from "./mp4-samples";
import { fourcc, LOSSLESS_MAX_BITS_PER_SECOND, LOSSY_MAX_BITS_PER_SECOND, MAX_TRACKS, plausible, type Reading, view } from "./reading";

/** moov/trak/mdia/minf/stbl is the deepest real nesting; forged boxes nest no deeper than this. */
const MAX_DEPTH = 8;
const CONTAINERS = new Set(["moov", "trak", "mdia", "minf", "stbl", "mvex", "moof", "traf"]);
/** Sample entries whose codecs are lossless or PCM (the rest, e.g. Opus, samr, ac-3, are lossy). */
const LOSSLESS_ENTRIES = new Set([
  "alac",
  "fLaC",
  "lpcm",
  "sowt",
  "twos",
  "ipcm",
  "fpcm",
  "raw ",
  "in24",
  "in32",
  "fl32",
  "fl64",
  "ulaw",
  "alaw",
]);
const BASE_IS_MOOF = 0x020000;

interface Track {
  id: number;
  audio: boolean;
  entry: string;
  timescale: number;
  /** stts (and trun) durations, and the sample counts they and stsz give. */
  ticks: number;
  timedSamples: number;
  lastDelta: number;
  sizedSamples: number;
  fragmentSamples: number;
  bytes: number;
  /** The AAC decoder's sample rate, when the entry is AAC and its config is readable; else 0. */
  aacRate: number;
  /** Opus and MPEG audio: counted from each sample's bytes. */
  counter: FrameCounter | null;
  table: SampleTable;
  /** Fragment samples whose bytes couldn't be located or were too many: the counter missed them. */
  uncounted: boolean;
}

function newTrack(): Track {
  return {
    id: 0,
    audio: false,
    entry: "",
    timescale: 0,
    ticks: 0,
    timedSamples: 0,
    lastDelta: 0,
    sizedSamples: 0,
    fragmentSamples: 0,
    bytes: 0,
    aacRate: 0,
    counter: null,
    table: emptySampleTable(),
    uncounted: false,
  };
}

export function isMp4(b: Uint8Array): boolean {
  return fourcc(b, 4) === "ftyp";
}

export function readMp4(b: Uint8Array): Reading | null {
  const v = view(b);
  const tracks: Track[] = [];
  let trak: Track | null = null;
  let moofStart = 0;
  let trafsInMoof = 0;
  // trex defaults by track id (mvex may come before or after the traks).
  const trex = new Map<number, { duration: number; size: number }>();
  // The current traf's track, its defaults (tfhd's override trex's), its data base and next sample.
  let run: { track: Track | null; duration: number; size: number; base: number; at: number } | null = null;
  let fragmentSteps = 0;
  const u32 = (o: number, end: number) => (o + 4 <= end ? v.getUint32(o) : 0);
  const byId = (id: number) => tracks.find((t) => t.id === id) ?? null;

  const sampleEntry = (t: Track, at: number, end: number) => {
    t.entry = fourcc(b, at + 12);
    const entryEnd = Math.min(end, at + 8 + u32(at + 8, end));
    const mp4a = t.entry === "mp4a" ? mp4aCodec(b, at + 8, entryEnd) : null;
    if (mp4a && mp4a !== "mpeg") t.aacRate = mp4a.aacRate;
    const codec = t.entry === "Opus" ? "A_OPUS" : t.entry === ".mp3" || mp4a === "mpeg" ? "A_MPEG/L3" : "";
    if (codec) t.counter = frameCounterFor({ codec, codecPrivate: null, rate: 0, channels: 0, bitDepth: 0 });
  };

  const trun = (at: number, end: number) => {
    if (!run) return;
    const flags = u32(at, end) & 0xffffff;
    const count = u32(at + 4, end);
    const { track } = run;
    if (!track) return;
    track.fragmentSamples += count;
    // A data offset is from the traf's base; without one, the run follows the previous run's data.
    if (flags & 0x1) run.at = run.base < 0 ? -1 : run.base + (u32(at + 8, end) | 0);
    const fields = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length;
    let o = at + 8 + (flags & 0x1 ? 4 : 0) + (flags & 0x4 ? 4 : 0);
    // With no per-sample fields the count is free to be huge; only a counter needs to step through.
    const steps = fields > 0 ? Math.min(count, Math.floor((end - o) / (fields * 4))) : track.counter ? count : 0;
    if (fields === 0) {
      track.ticks += count * run.duration;
      track.bytes += count * run.size;
    }
    for (let s = 0; s < steps; s++, o += fields * 4) {
      if (++fragmentSteps > MAX_TABLE_STEPS) {
        track.uncounted = true;
        return;
      }
      const size = flags & 0x200 ? v.getUint32(o + (flags & 0x100 ? 4 : 0)) : run.size;
      if (fields > 0) {
        track.ticks += flags & 0x100 ? v.getUint32(o) : run.duration;
        track.bytes += size;
      }
      if (track.counter && run.at >= 0 && run.at < b.length) track.counter.add(b, run.at, Math.min(size, b.length - run.at));
      run.at += size;
    }
    // Samples whose bytes we couldn't place, or a run cut before its last entries: the count is short.
    if (track.counter && (run.at < 0 || steps < count)) track.uncounted = true;
  };

  const leaf = (type: string, at: number, end: number): void => {
    const version = at < end ? b[at] : 0;
    if (trak && type === "tkhd") trak.id = u32(at + (version === 1 ? 20 : 12), end);
    else if (trak && type === "mdhd") trak.timescale = u32(at + (version === 1 ? 20 : 12), end);
    else if (trak && type === "hdlr") trak.audio = fourcc(b, at + 8) === "soun";
    else if (trak && type === "stsd") sampleEntry(trak, at, end);
    else if (trak && type === "stts") {
      for (let e = 0, o = at + 8; e < u32(at + 4, end) && o + 8 <= end; e++, o += 8) {
        trak.ticks += u32(o, end) * u32(o + 4, end);
        trak.timedSamples += u32(o, end);
        trak.lastDelta = u32(o + 4, end);
      }
    } else if (trak && type === "stsz") {
      const fixed = u32(at + 4, end);
      trak.sizedSamples = u32(at + 8, end);
      Object.assign(trak.table, { stsz: at, stszEnd: end });
      if (fixed > 0) trak.bytes += fixed * trak.sizedSamples;
      else for (let e = 0, o = at + 12; e < trak.sizedSamples && o + 4 <= end; e++, o += 4) trak.bytes += u32(o, end);
    } else if (trak && type === "stsc") Object.assign(trak.table, { stsc: at, stscEnd: end });
    else if (trak && (type === "stco" || type === "co64"))
      Object.assign(trak.table, { chunks: at, chunksEnd: end, wideChunks: type === "co64" });
    else if (type === "trex") trex.set(u32(at + 4, end), { duration: u32(at + 12, end), size: u32(at + 16, end) });
    else if (type === "tfhd") {
      const flags = u32(at, end) & 0xffffff;
      const id = u32(at + 4, end);
      let o = at + 8;
      // Sample data is addressed from an explicit base, or from the moof (ffmpeg, browsers; and the
      // first traf of any moof); the legacy rule for later trafs is not followed: their samples go
      // uncounted (base -1).
      let base = -1;
      if (flags & 0x1 && o + 8 <= end) {
        base = Number(v.getBigUint64(o));
        o += 8;
      } else if (flags & BASE_IS_MOOF || trafsInMoof === 1) base = moofStart;
      if (flags & 0x2) o += 4;
      const defaults = trex.get(id) ?? { duration: 0, size: 0 };
      run = { track: byId(id), duration: defaults.duration, size: defaults.size, base, at: base };
      if (flags & 0x8) {
        run.duration = u32(o, end);
        o += 4;
      }
      if (flags & 0x10) run.size = u32(o, end);
    } else if (type === "trun") trun(at, end);
  };

  // Box by box, depth-first; sizes bound each box (decoders obey them too), clamped to the data.
  const walk = (start: number, end: number, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    let p = start;
    while (p + 8 <= end && tracks.length <= MAX_TRACKS) {
      let size = v.getUint32(p);
      const type = fourcc(b, p + 4);
      let body = p + 8;
      if (size === 1) {
        if (p + 16 > end) return;
        size = Number(v.getBigUint64(p + 8));
        body = p + 16;
      } else if (size === 0) size = end - p;
      if (size < body - p) return;
      const boxEnd = Math.min(end, p + size);
      if (type === "trak") {
        trak = newTrack();
        tracks.push(trak);
        walk(body, boxEnd, depth + 1);
        trak = null;
      } else if (CONTAINERS.has(type)) {
        if (type === "moof") {
          moofStart = p;
          trafsInMoof = 0;
        }
        if (type === "traf") trafsInMoof++;
        walk(body, boxEnd, depth + 1);
      } else leaf(type, body, boxEnd);
      p += size;
    }
  };
  walk(0, b.length, 0);
  if (tracks.length > MAX_TRACKS) return null;
  const audio = tracks.filter((t) => t.audio);
  return measure(b, v, audio);
}

function measure(b: Uint8Array, v: DataView, audio: Track[]): Reading | null {
  if (audio.length === 0) return null;
  let counted = 0;
  let stated = 0;
  let statedBytes = 0;
  let lossless = false;
  for (const t of audio) {
    const units = t.sizedSamples + t.fragmentSamples;
    let count: number | null = null;
    if (t.aacRate > 0 && units > 0) count = (units * AAC_FRAME_SAMPLES) / t.aacRate;
    else if (t.counter) {
      const counter = t.counter;
      const tabled = t.sizedSamples === 0 || eachSample(b, v, t.table, (at, size) => counter.add(b, at, size));
      if (tabled && !t.uncounted) count = counter.seconds;
    }
    if (count !== null) {
      // A count is held to the rule too: samples that aren't what the entry says count too little.
      const checked = plausible(count, t.bytes, LOSSY_MAX_BITS_PER_SECOND);
      if (checked === null) return null;
      counted += checked;
      continue;
    }
    if (t.timescale === 0) return null;
    // Samples that stsz lists past the end of stts still decode: count them at the last duration.
    const untimed = Math.max(0, t.sizedSamples - t.timedSamples) * t.lastDelta;
    stated += (t.ticks + untimed) / t.timescale;
    // Samples of unknown size (no stsz, sizeless fragments) are held against the whole file instead.
    statedBytes += t.bytes || b.length;
    lossless ||= LOSSLESS_ENTRIES.has(t.entry);
  }
  const checked = plausible(stated, statedBytes, lossless ? LOSSLESS_MAX_BITS_PER_SECOND : LOSSY_MAX_BITS_PER_SECOND);
  return checked === null ? null : { format: "mp4", seconds: counted + checked };
}
