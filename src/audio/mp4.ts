// MP4 / M4A / 3GP / QuickTime. mvhd's and mdhd's durations are summaries a decoder doesn't need;
// what it plays is the audio track's samples, listed by stsz and by every fragment's trun
// (MediaRecorder in Safari writes fragmented MP4). AAC: samples × 1024 at the rate in the esds
// AudioSpecificConfig, which is what the decoder outputs. Other codecs: the stts/trun durations (with
// samples that stsz lists beyond them), which are claims, so held to the plausibility rule against
// the bytes of the track's samples. A file cut before its moov box → null.
import { AAC_FRAME_SAMPLES, aacRateOf } from "./aac-config";
import { fourcc, LOSSLESS_MAX_BITS_PER_SECOND, LOSSY_MAX_BITS_PER_SECOND, MAX_TRACKS, plausible, type Reading, view } from "./reading";

/** moov/trak/mdia/minf/stbl is the deepest real nesting; forged boxes nest no deeper than this. */
const MAX_DEPTH = 8;
const CONTAINERS = new Set(["moov", "trak", "mdia", "minf", "stbl", "mvex", "moof", "traf"]);
/** Sample entries whose codecs are lossless or PCM (the rest, e.g. mp4a, Opus, samr, are lossy). */
const LOSSLESS_ENTRIES = new Set(["alac", "fLaC", "lpcm", "sowt", "twos", "ipcm", "fpcm", "raw ", "in24", "in32", "fl32", "fl64", "ulaw", "alaw"]);

interface Track {
  id: number;
  audio: boolean;
  entry: string;
  timescale: number;
  ticks: number;
  tableSamples: number;
  lastDelta: number;
  sizedSamples: number;
  bytes: number;
  /** The AAC decoder's sample rate, when the entry is AAC and its config is readable; else 0. */
  aacRate: number;
}

/** Durations and sizes that fragments add to a track id, and that id's trex defaults. */
interface Fragments {
  samples: number;
  ticks: number;
  bytes: number;
  defaultDuration: number;
  defaultSize: number;
}

export function isMp4(b: Uint8Array): boolean {
  return fourcc(b, 4) === "ftyp";
}

export function readMp4(b: Uint8Array): Reading | null {
  const v = view(b);
  const tracks: Track[] = [];
  const fragments = new Map<number, Fragments>();
  const fragmentsOf = (id: number): Fragments => {
    const f = fragments.get(id) ?? { samples: 0, ticks: 0, bytes: 0, defaultDuration: 0, defaultSize: 0 };
    fragments.set(id, f);
    return f;
  };
  let trak: Track | null = null;
  // The current traf's track and its defaults (tfhd's override trex's until the next tfhd).
  let run: { into: Fragments; duration: number; size: number } | null = null;
  const u32 = (o: number, end: number) => (o + 4 <= end ? v.getUint32(o) : 0);

  const leaf = (type: string, at: number, end: number): void => {
    const version = at < end ? b[at] : 0;
    if (trak && type === "tkhd") trak.id = u32(at + (version === 1 ? 20 : 12), end);
    else if (trak && type === "mdhd") trak.timescale = u32(at + (version === 1 ? 20 : 12), end);
    else if (trak && type === "hdlr") trak.audio = fourcc(b, at + 8) === "soun";
    else if (trak && type === "stsd") {
      trak.entry = fourcc(b, at + 12);
      if (trak.entry === "mp4a") trak.aacRate = aacRateOf(b, at + 8, Math.min(end, at + 8 + u32(at + 8, end)));
    }
    else if (trak && type === "stts") {
      for (let e = 0, o = at + 8; e < u32(at + 4, end) && o + 8 <= end; e++, o += 8) {
        trak.ticks += u32(o, end) * u32(o + 4, end);
        trak.tableSamples += u32(o, end);
        trak.lastDelta = u32(o + 4, end);
      }
    } else if (trak && type === "stsz") {
      const fixed = u32(at + 4, end);
      trak.sizedSamples = u32(at + 8, end);
      if (fixed > 0) trak.bytes += fixed * trak.sizedSamples;
      else for (let e = 0, o = at + 12; e < trak.sizedSamples && o + 4 <= end; e++, o += 4) trak.bytes += u32(o, end);
    } else if (type === "trex") {
      const f = fragmentsOf(u32(at + 4, end));
      f.defaultDuration = u32(at + 12, end);
      f.defaultSize = u32(at + 16, end);
    } else if (type === "tfhd") {
      const flags = u32(at, end) & 0xffffff;
      const into = fragmentsOf(u32(at + 4, end));
      let o = at + 8 + (flags & 0x1 ? 8 : 0) + (flags & 0x2 ? 4 : 0);
      run = { into, duration: into.defaultDuration, size: into.defaultSize };
      if (flags & 0x8) {
        run.duration = u32(o, end);
        o += 4;
      }
      if (flags & 0x10) run.size = u32(o, end);
    } else if (type === "trun" && run) {
      const flags = u32(at, end) & 0xffffff;
      const count = u32(at + 4, end);
      run.into.samples += count;
      const fields = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length;
      if (fields === 0) {
        run.into.ticks += count * run.duration;
        run.into.bytes += count * run.size;
        return;
      }
      let o = at + 8 + (flags & 0x1 ? 4 : 0) + (flags & 0x4 ? 4 : 0);
      for (let s = 0; s < count && o + fields * 4 <= end; s++, o += fields * 4) {
        run.into.ticks += flags & 0x100 ? u32(o, end) : run.duration;
        run.into.bytes += flags & 0x200 ? u32(o + (flags & 0x100 ? 4 : 0), end) : run.size;
      }
    }
  };

  // Box by box, depth-first; sizes bound each box (decoders obey them too), clamped to the data.
  const walk = (start: number, end: number, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    let p = start;
    while (p + 8 <= end && tracks.length <= MAX_TRACKS && fragments.size <= MAX_TRACKS) {
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
        trak = { id: 0, audio: false, entry: "", timescale: 0, ticks: 0, tableSamples: 0, lastDelta: 0, sizedSamples: 0, bytes: 0, aacRate: 0 };
        tracks.push(trak);
        walk(body, boxEnd, depth + 1);
        trak = null;
      } else if (CONTAINERS.has(type)) walk(body, boxEnd, depth + 1);
      else leaf(type, body, boxEnd);
      p += size;
    }
  };
  walk(0, b.length, 0);
  if (tracks.length > MAX_TRACKS || fragments.size > MAX_TRACKS) return null;
  return measure(tracks.filter((t) => t.audio), fragments, b.length);
}

function measure(audio: Track[], fragments: Map<number, Fragments>, fileBytes: number): Reading | null {
  if (audio.length === 0) return null;
  let counted = 0;
  let stated = 0;
  let statedBytes = 0;
  let lossless = false;
  for (const t of audio) {
    const f = fragments.get(t.id);
    const units = t.sizedSamples + (f?.samples ?? 0);
    if (t.aacRate > 0 && units > 0) {
      counted += (units * AAC_FRAME_SAMPLES) / t.aacRate;
      continue;
    }
    if (t.timescale === 0) return null;
    // Samples that stsz lists past the end of stts still decode: count them at the last duration.
    const untimed = Math.max(0, t.sizedSamples - t.tableSamples) * t.lastDelta;
    stated += (t.ticks + untimed + (f?.ticks ?? 0)) / t.timescale;
    // Samples of unknown size (no stsz, sizeless fragments) are held against the whole file instead.
    statedBytes += t.bytes + (f?.bytes ?? 0) || fileBytes;
    lossless ||= LOSSLESS_ENTRIES.has(t.entry);
  }
  const checked = plausible(stated, statedBytes, lossless ? LOSSLESS_MAX_BITS_PER_SECOND : LOSSY_MAX_BITS_PER_SECOND);
  return checked === null ? null : { format: "mp4", seconds: counted + checked };
}
