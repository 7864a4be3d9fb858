// Where an MP4 track's samples sit, from its sample table (stsc maps samples to chunks, stco/co64
// give the chunks' offsets, stsz the sizes), so that codecs whose samples state their own length
// (Opus's TOC byte, MPEG frame headers) can be counted sample by sample, as the decoder reads them.

/** Body offsets of a track's sample-table boxes (-1: absent), each with where its box ends. */
export interface SampleTable {
  stsz: number;
  stszEnd: number;
  stsc: number;
  stscEnd: number;
  chunks: number;
  chunksEnd: number;
  wideChunks: boolean;
}

export function emptySampleTable(): SampleTable {
  return { stsz: -1, stszEnd: -1, stsc: -1, stscEnd: -1, chunks: -1, chunksEnd: -1, wideChunks: false };
}

/**
 * Samples and chunks visited per track at most. A 25 MiB upload of real audio has under 2 × 10⁶
 * samples (Opus at 6 kbit/s in 20 ms packets); forged tables can point every chunk at the same bytes
 * or repeat chunk ranges, so past this → not counted.
 */
export const MAX_TABLE_STEPS = 8_000_000;

/**
 * Calls `visit` with the offset and size of each sample, in table order; samples past the end of the
 * data are skipped (no decoder can read them). False when the table is incomplete or too large.
 */
export function eachSample(b: Uint8Array, v: DataView, t: SampleTable, visit: (at: number, size: number) => void): boolean {
  if (t.stsz < 0 || t.stsc < 0 || t.chunks < 0) return false;
  const u32 = (o: number, end: number) => (o + 4 <= end ? v.getUint32(o) : 0);
  const fixed = u32(t.stsz + 4, t.stszEnd);
  const samples = u32(t.stsz + 8, t.stszEnd);
  const runs = Math.min(u32(t.stsc + 4, t.stscEnd), Math.floor((t.stscEnd - t.stsc - 8) / 12));
  const width = t.wideChunks ? 8 : 4;
  const chunks = Math.min(u32(t.chunks + 4, t.chunksEnd), Math.floor((t.chunksEnd - t.chunks - 8) / width));
  if (fixed === 0 && t.stsz + 12 + samples * 4 > t.stszEnd) return false;
  let sample = 0;
  let steps = 0;
  for (let r = 0; r < runs && sample < samples; r++) {
    const first = u32(t.stsc + 8 + r * 12, t.stscEnd) - 1;
    const next = r + 1 < runs ? u32(t.stsc + 8 + (r + 1) * 12, t.stscEnd) - 1 : chunks;
    const perChunk = u32(t.stsc + 8 + r * 12 + 4, t.stscEnd);
    for (let c = Math.max(0, first); c < Math.min(next, chunks) && sample < samples; c++) {
      if (++steps > MAX_TABLE_STEPS) return false;
      const o = t.chunks + 8 + c * width;
      let at = t.wideChunks ? Number(v.getBigUint64(o)) : v.getUint32(o);
      for (let k = 0; k < perChunk && sample < samples; k++, sample++) {
        if (++steps > MAX_TABLE_STEPS) return false;
        const size = fixed || v.getUint32(t.stsz + 12 + sample * 4);
        if (at < b.length) visit(at, Math.min(size, b.length - at));
        at += size;
      }
    }
  }
  return true;
}
