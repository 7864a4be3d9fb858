// ITU-T G.711 µ-law and A-law companding between signed 16-bit linear samples and 8-bit codes.
// Follows the ITU-T G.191 Software Tools Library (the standard's reference code): the 16-bit sample is
// truncated to G.711's 14-bit (µ-law) or 13-bit (A-law) uniform code, and a negative value's magnitude
// is its one's complement, so the code for -1-x is the code for x with the sign bit flipped.
// Everything is a table lookup: the code depends only on x >> 2 (µ-law) or x >> 4 (A-law), so the
// encode tables hold 16 K and 4 K entries (20 KB in all, built once per isolate in well under 1 ms).
// `!` on table reads: every index is in range by construction, and a `?? 0` per sample would cost time.

const MULAW_BIAS = 33; // G.711's µ-law bias in 14-bit units (0x84 >> 2)
const MULAW_MAX_BIASED = 0x1fff; // 8159 + bias: the top of segment 7

function mulawEncodeCompute(sample: number): number {
  const magnitude = Math.min(((sample < 0 ? ~sample : sample) >> 2) + MULAW_BIAS, MULAW_MAX_BIASED);
  // Segment = position of the highest set bit above bit 5 (the biased value is always ≥ 33).
  const segment = 31 - Math.clz32(magnitude) - 5;
  const mantissa = (magnitude >> (segment + 1)) & 0x0f;
  const code = ((7 - segment) << 4) | (15 - mantissa);
  return sample >= 0 ? code | 0x80 : code;
}

function alawEncodeCompute(sample: number): number {
  let ix = (sample < 0 ? ~sample : sample) >> 4; // 12-bit magnitude in steps of 2 of the 13-bit code
  if (ix > 15) {
    const exponent = 31 - Math.clz32(ix) - 3; // segments 1..7 double in width
    ix = (exponent << 4) | ((ix >> (exponent - 1)) & 0x0f);
  }
  if (sample >= 0) ix |= 0x80;
  return ix ^ 0x55; // even bits inverted, as transmitted
}

function mulawDecodeCompute(code: number): number {
  const inverted = ~code & 0xff;
  const exponent = (inverted >> 4) & 0x07;
  const mantissa = inverted & 0x0f;
  const step = 4 << (exponent + 1);
  const magnitude = (0x80 << exponent) + step * mantissa + step / 2 - 4 * MULAW_BIAS;
  return code < 0x80 ? -magnitude : magnitude;
}

function alawDecodeCompute(code: number): number {
  const ix = (code ^ 0x55) & 0x7f;
  const exponent = ix >> 4;
  let mantissa = ix & 0x0f;
  if (exponent > 0) mantissa += 16;
  mantissa = (mantissa << 4) + 8; // the middle of the quantisation interval
  if (exponent > 1) mantissa <<= exponent - 1;
  return code > 0x7f ? mantissa : -mantissa;
}

/** Linear value of each µ-law code (index = code). */
export const MULAW_DECODE: Int16Array = new Int16Array(256);
/** Linear value of each A-law code (index = code). */
export const ALAW_DECODE: Int16Array = new Int16Array(256);
const MULAW_ENCODE = new Uint8Array(1 << 14); // index (x >> 2) + 8192
const ALAW_ENCODE = new Uint8Array(1 << 12); // index (x >> 4) + 2048

for (let code = 0; code < 256; code++) {
  MULAW_DECODE[code] = mulawDecodeCompute(code);
  ALAW_DECODE[code] = alawDecodeCompute(code);
}
for (let i = 0; i < MULAW_ENCODE.length; i++) MULAW_ENCODE[i] = mulawEncodeCompute((i - 8192) << 2);
for (let i = 0; i < ALAW_ENCODE.length; i++) ALAW_ENCODE[i] = alawEncodeCompute((i - 2048) << 4);

/** µ-law code of one signed 16-bit sample (values outside the 16-bit range are clamped). */
export function mulawEncodeSample(sample: number): number {
  const s = sample > 32767 ? 32767 : sample < -32768 ? -32768 : sample | 0;
  return MULAW_ENCODE[(s >> 2) + 8192]!;
}

/** A-law code of one signed 16-bit sample (values outside the 16-bit range are clamped). */
export function alawEncodeSample(sample: number): number {
  const s = sample > 32767 ? 32767 : sample < -32768 ? -32768 : sample | 0;
  return ALAW_ENCODE[(s >> 4) + 2048]!;
}

/** Encodes s16 samples to µ-law, one byte per sample. */
export function mulawEncode(samples: Int16Array, out: Uint8Array = new Uint8Array(samples.length)): Uint8Array {
  for (let i = 0; i < samples.length; i++) out[i] = MULAW_ENCODE[(samples[i]! >> 2) + 8192]!;
  return out;
}

/** Encodes s16 samples to A-law, one byte per sample. */
export function alawEncode(samples: Int16Array, out: Uint8Array = new Uint8Array(samples.length)): Uint8Array {
  for (let i = 0; i < samples.length; i++) out[i] = ALAW_ENCODE[(samples[i]! >> 4) + 2048]!;
  return out;
}

/** Decodes µ-law bytes to s16 samples. */
export function mulawDecode(codes: Uint8Array, out: Int16Array = new Int16Array(codes.length)): Int16Array {
  for (let i = 0; i < codes.length; i++) out[i] = MULAW_DECODE[codes[i]!]!;
  return out;
}

/** Decodes A-law bytes to s16 samples. */
export function alawDecode(codes: Uint8Array, out: Int16Array = new Int16Array(codes.length)): Int16Array {
  for (let i = 0; i < codes.length; i++) out[i] = ALAW_DECODE[codes[i]!]!;
  return out;
}
