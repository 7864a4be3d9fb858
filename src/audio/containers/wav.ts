// WAV (RIFF/RF64/BW64 with PCM, float, A-law or μ-law samples). The duration is the bytes present
// after the data chunk's header, at the rate the format fields give (sample rate × block size). The
// data chunk's stated length is ignored both ways: a decoder may play past a short one (ffmpeg looks
// for further data chunks) and cannot play bytes a long one only claims. The byte-rate field is
// ignored too: decoders don't use it, so it can lie freely.
import { fourcc, LOSSLESS_MAX_BITS_PER_SECOND, plausible, type Reading, view } from "./reading";

/** PCM, IEEE float, A-law, μ-law: one fixed-size block per sample frame. */
const FIXED_BLOCK_FORMATS = new Set([1, 3, 6, 7]);
const EXTENSIBLE = 0xfffe;

export function isWav(b: Uint8Array): boolean {
  return ["RIFF", "RF64", "BW64"].includes(fourcc(b, 0)) && fourcc(b, 8) === "WAVE";
}

export function readWav(b: Uint8Array): Reading | null {
  const v = view(b);
  let bytesPerSecond = 0;
  let pos = 12;
  while (pos + 8 <= b.length) {
    const id = fourcc(b, pos);
    const size = v.getUint32(pos + 4, true);
    if (id === "data") {
      // A data chunk before any format chunk can't be decoded as we'd count it.
      if (bytesPerSecond === 0) return null;
      const audioBytes = b.length - (pos + 8);
      const seconds = audioBytes / bytesPerSecond;
      const checked = plausible(seconds, audioBytes, LOSSLESS_MAX_BITS_PER_SECOND);
      return checked === null ? null : { format: "wav", seconds: checked };
    }
    if (id === "fmt " && size >= 16 && pos + 8 + size <= b.length) bytesPerSecond = fmtRate(v, pos + 8, size);
    pos += 8 + size + (size & 1);
  }
  return null;
}

/** Bytes per second from a fmt chunk, or 0 when its samples aren't fixed-size blocks we can trust. */
function fmtRate(v: DataView, at: number, size: number): number {
  let format = v.getUint16(at, true);
  const channels = v.getUint16(at + 2, true);
  const sampleRate = v.getUint32(at + 4, true);
  const blockAlign = v.getUint16(at + 12, true);
  const bits = v.getUint16(at + 14, true);
  if (format === EXTENSIBLE && size >= 40) format = v.getUint16(at + 24, true);
  if (!FIXED_BLOCK_FORMATS.has(format) || channels === 0 || sampleRate === 0 || bits === 0) return 0;
  // Decoders step through the data by blockAlign; one that disagrees with the sample layout is not
  // a file any decoder reads the way we'd count it.
  if (blockAlign !== channels * Math.ceil(bits / 8)) return 0;
  return sampleRate * blockAlign;
}
