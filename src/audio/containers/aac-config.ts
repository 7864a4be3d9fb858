// The AAC sample rate an MP4 decoder really uses: the AudioSpecificConfig inside the mp4a entry's
// esds box (ISO 14496-1 §7.2.6 descriptors, 14496-3 §1.6.2.1). With it, an AAC track's length is its
// access-unit count × 1024 / rate — what the decoder outputs, whatever stts or mdhd claim.
// `!` on byte reads only where the bytes are known present; the esds descriptors are bounds-checked.

const ES_DESCRIPTOR = 0x03;
const DECODER_CONFIG = 0x04;
const DECODER_SPECIFIC_INFO = 0x05;
/** objectTypeIndication values for AAC: MPEG-4 audio, MPEG-2 AAC Main/LC/SSR. */
const AAC_OBJECT_TYPES = new Set([0x40, 0x66, 0x67, 0x68]);
const RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
/**
 * PCM samples per access unit. AAC-LC and HE-AAC's core use 1024; the 960-sample variant and the
 * low-delay types (480/512) decode fewer, so 1024 only over-reserves those.
 */
export const AAC_FRAME_SAMPLES = 1024;

/** After a descriptor tag: its size (1–4 bytes of 7 bits); returns where its body starts (maybe past b's end). */
function skipSize(b: Uint8Array, p: number): number {
  for (let k = 0; k < 4 && p < b.length && b[p]! & 0x80; k++) p++;
  return p + 1;
}

function findBox(b: Uint8Array, type: string, from: number, to: number): number {
  const codes = [...type].map((c) => c.charCodeAt(0));
  for (let i = from; i + 4 <= to; i++) if (codes.every((c, k) => b[i + k] === c)) return i;
  return -1;
}

/** objectTypeIndication values for MPEG-1/2 audio (MP3 in an mp4a entry). */
const MPEG_AUDIO_OBJECT_TYPES = new Set([0x69, 0x6b]);

/** What an mp4a sample entry in [start, end) holds: AAC at a core rate, MPEG audio, or neither. */
export function mp4aCodec(b: Uint8Array, start: number, end: number): { aacRate: number } | "mpeg" | null {
  const rate = aacRateOf(b, start, end);
  if (rate > 0) return { aacRate: rate };
  return MPEG_AUDIO_OBJECT_TYPES.has(objectTypeOf(b, start, end)) ? "mpeg" : null;
}

/** Where the esds DecoderConfigDescriptor's body (its objectTypeIndication) starts, or null (also past b's end). */
function decoderConfig(b: Uint8Array, start: number, end: number): number | null {
  // The esds box sits after the audio fields, whose length varies by QuickTime sound version (and may
  // be wrapped in a 'wave' box), so it is looked for rather than stepped to.
  const esds = findBox(b, "esds", start + 8, end);
  if (esds < 0) return null;
  let p = esds + 8; // type, then version and flags
  if (b[p++] !== ES_DESCRIPTOR) return null;
  p = skipSize(b, p) + 2; // ES_ID
  // Data that ends inside the ES descriptor has no DecoderConfigDescriptor after it.
  const flags = b[p++];
  if (flags === undefined) return null;
  if (flags & 0x80) p += 2; // dependsOn_ES_ID
  if (flags & 0x40) {
    const urlLength = b[p];
    if (urlLength === undefined) return null;
    p += 1 + urlLength; // URL
  }
  if (flags & 0x20) p += 2; // OCR_ES_ID
  if (b[p++] !== DECODER_CONFIG || p >= end) return null;
  const body = skipSize(b, p);
  return body < b.length ? body : null;
}

function objectTypeOf(b: Uint8Array, start: number, end: number): number {
  const config = decoderConfig(b, start, end);
  return config === null ? 0 : b[config]!;
}

/** The AAC core sample rate of the mp4a sample entry in [start, end), or 0 if it can't be read. */
function aacRateOf(b: Uint8Array, start: number, end: number): number {
  const config = decoderConfig(b, start, end);
  if (config === null || !AAC_OBJECT_TYPES.has(b[config]!)) return 0;
  let p = config + 13; // objectType, streamType, bufferSize, maxBitrate, avgBitrate
  if (b[p++] !== DECODER_SPECIFIC_INFO) return 0;
  return ascCoreRate(b, skipSize(b, p), end);
}

/**
 * The core sample rate from an AudioSpecificConfig at p (also Matroska's A_AAC CodecPrivate), or 0
 * (also when it doesn't fit before `end`, which callers keep within b):
 * 5-bit object type (31 escapes to a longer form: not read), 4-bit rate index (15: an explicit 24-bit
 * rate). For SBR/PS (HE-AAC) this is the core rate, which is what a frame's 1024 samples are at.
 */
export function ascCoreRate(b: Uint8Array, p: number, end: number): number {
  if (p + 5 > end) return 0;
  if (b[p]! >> 3 === 31) return 0;
  const index = ((b[p]! & 7) << 1) | (b[p + 1]! >> 7);
  if (index < RATES.length) return RATES[index]!;
  if (index !== 15) return 0;
  const explicit = ((b[p + 1]! & 0x7f) << 17) | (b[p + 2]! << 9) | (b[p + 3]! << 1) | (b[p + 4]! >> 7);
  // Above AAC's highest rate the count would shrink to nothing: not believed.
  return explicit <= RATES[0]! ? explicit : 0;
}
