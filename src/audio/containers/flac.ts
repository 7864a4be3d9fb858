// FLAC. STREAMINFO's total-samples field is a claim (0 means unknown, and any other value can lie),
// so the duration is counted from the frames instead: each frame header states its block size and
// is guarded by a CRC-8, and decoders play every frame they find. The scan starts right after
// STREAMINFO, so a metadata block with a forged length can't hide frames from it.
// `!` on byte reads: a frame header is read only once all of its bytes (at most 16) are present.
import { fourcc, LOSSLESS_MAX_BITS_PER_SECOND, nextByte, plausible, type Reading } from "./reading";

const STREAMINFO_BYTES = 34;
// Sample rates by the frame header's code; 0 defers to STREAMINFO, 12–14 read extra bytes, 15 is invalid.
const FRAME_RATES = [0, 88200, 176400, 192000, 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000];

const CRC8 = (() => {
  const table = new Uint8Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    table[n] = c;
  }
  return table;
})();

interface FrameHeader {
  length: number;
  seconds: number;
}

/** Bytes after the first of a frame/sample number coded UTF-8 style (by its leading ones), or -1 if invalid. */
function codedNumberExtraBytes(lead: number): number {
  if (lead < 0x80) return 0;
  if (lead < 0xc0) return -1;
  if (lead < 0xe0) return 1;
  if (lead < 0xf0) return 2;
  if (lead < 0xf8) return 3;
  if (lead < 0xfc) return 4;
  if (lead < 0xfe) return 5;
  return lead === 0xfe ? 6 : -1;
}

function frameHeaderAt(b: Uint8Array, i: number, streamRate: number): FrameHeader | null {
  const sizeCode = b[i + 2]! >> 4;
  const rateCode = b[i + 2]! & 0xf;
  const channels = b[i + 3]! >> 4;
  const depthCode = (b[i + 3]! >> 1) & 7;
  if (sizeCode === 0 || rateCode === 15 || channels > 10 || depthCode === 3 || (b[i + 3]! & 1) !== 0) return null;
  // The frame or sample number, UTF-8 style: the first byte's leading ones give the byte count.
  let p = i + 4;
  const extra = codedNumberExtraBytes(b[p]!);
  if (extra < 0 || p + 1 + extra + 5 > b.length) return null;
  p++;
  for (let k = 0; k < extra; k++, p++) if ((b[p]! & 0xc0) !== 0x80) return null;
  let blockSize: number;
  if (sizeCode === 1) blockSize = 192;
  else if (sizeCode <= 5) blockSize = 576 << (sizeCode - 2);
  else if (sizeCode === 6) blockSize = b[p++]! + 1;
  else if (sizeCode === 7) {
    blockSize = ((b[p]! << 8) | b[p + 1]!) + 1;
    p += 2;
  } else blockSize = 256 << (sizeCode - 8);
  let rate: number;
  if (rateCode < 12) rate = rateCode === 0 ? streamRate : FRAME_RATES[rateCode]!;
  else if (rateCode === 12) rate = b[p++]! * 1000;
  else {
    rate = ((b[p]! << 8) | b[p + 1]!) * (rateCode === 14 ? 10 : 1);
    p += 2;
  }
  if (rate === 0) return null;
  let crc = 0;
  for (let k = i; k < p; k++) crc = CRC8[crc ^ b[k]!]!;
  if (crc !== b[p]) return null;
  return { length: p + 1 - i, seconds: blockSize / rate };
}

export function isFlac(b: Uint8Array, at: number): boolean {
  return fourcc(b, at) === "fLaC";
}

/** Counts the frames of a FLAC stream whose "fLaC" marker is at `at`. */
export function readFlac(b: Uint8Array, at: number): Reading | null {
  const info = at + 8;
  // STREAMINFO must be the first metadata block (type 0).
  if (info + STREAMINFO_BYTES > b.length || (b[at + 4]! & 0x7f) !== 0) return null;
  const streamRate = (b[info + 10]! << 12) | (b[info + 11]! << 4) | (b[info + 12]! >> 4);
  let seconds = 0;
  let frames = 0;
  for (let i = nextByte(b, 0xff, info + STREAMINFO_BYTES); i >= 0 && i + 6 <= b.length; i = nextByte(b, 0xff, i + 1)) {
    if ((b[i + 1]! & 0xfe) !== 0xf8 || b[i + 2]! < 0x10 || (b[i + 2]! & 0xf) === 0xf) continue;
    const header = frameHeaderAt(b, i, streamRate);
    if (!header) continue;
    // A chance match inside audio data (one in ~10⁷ bytes past the CRC) only adds a block: over-reserves.
    seconds += header.seconds;
    frames++;
    i += header.length - 1;
  }
  // Held to the plausibility rule against frames we'd fail to recognise (which would count too little).
  const checked = frames === 0 ? null : plausible(seconds, b.length - at, LOSSLESS_MAX_BITS_PER_SECOND);
  return checked === null ? null : { format: "flac", seconds: checked };
}
