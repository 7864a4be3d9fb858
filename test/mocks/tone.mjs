// Real audio for the mock providers' PCM-family answers (raw PCM, WAV, G.711): a sine tone a test can
// decode and measure after the gateway converted it (resampled, companded, framed). Compressed formats
// (mp3, opus, aac, flac) keep the byte pattern of audio.mjs.
//
// PURE JavaScript (no `node:` imports, no Buffer), like audio.mjs: the tests inside workerd import it too.
// The G.711 coders are written from the ITU-T G.711 segment tables (Sun's g711.c formulation), here and
// independently of src/audio, so a test decoding the gateway's µ-law/A-law checks it against a second
// implementation.

/** The tone every PCM-family answer carries: frequency (Hz) and peak amplitude (of 32767). */
export const MOCK_TONE_HZ = 440;
export const MOCK_TONE_AMPLITUDE = 12_000;

/** Seconds of tone for a text: 0.3 s plus 10 ms a character, to the millisecond. */
export function mockToneSeconds(text) {
  return Math.round((0.3 + 0.01 * [...String(text)].length) * 1000) / 1000;
}

/** The tone for `text` at `sampleRate`, as s16 samples (starts at phase 0). */
export function mockToneSamples(text, sampleRate) {
  const n = Math.round(sampleRate * mockToneSeconds(text));
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(MOCK_TONE_AMPLITUDE * Math.sin((2 * Math.PI * MOCK_TONE_HZ * i) / sampleRate));
  return out;
}

// ---------------------------------------------------------------------------------------------
// G.711

const ULAW_BIAS = 0x84;
const ULAW_CLIP = 32635;
const ALAW_SEGMENT_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

export function ulawFromLinear(sample) {
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  if (s > ULAW_CLIP) s = ULAW_CLIP;
  s += ULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export function linearFromUlaw(code) {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + ULAW_BIAS) << ((u & 0x70) >> 4);
  return u & 0x80 ? ULAW_BIAS - t : t - ULAW_BIAS;
}

export function alawFromLinear(sample) {
  let pcm = sample >> 3; // A-law codes 13 bits
  let mask = 0xd5;
  if (pcm < 0) {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  let seg = 0;
  while (seg < 8 && pcm > ALAW_SEGMENT_ENDS[seg]) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  const aval = (seg << 4) | (seg < 2 ? (pcm >> 1) & 0x0f : (pcm >> seg) & 0x0f);
  return aval ^ mask;
}

export function linearFromAlaw(code) {
  const a = code ^ 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

// ---------------------------------------------------------------------------------------------
// bytes

/** Samples → bytes: "s16le" (default), "f32le", "mulaw" or "alaw". */
export function encodeSamples(samples, encoding = "s16le") {
  if (encoding === "mulaw" || encoding === "alaw") {
    const code = encoding === "mulaw" ? ulawFromLinear : alawFromLinear;
    return Uint8Array.from(samples, code);
  }
  const width = encoding === "f32le" ? 4 : 2;
  const view = new DataView(new ArrayBuffer(samples.length * width));
  for (let i = 0; i < samples.length; i++) {
    if (width === 4) view.setFloat32(i * 4, samples[i] / 32768, true);
    else view.setInt16(i * 2, samples[i], true);
  }
  return new Uint8Array(view.buffer);
}

const WAV_FORMAT = { s16le: [1, 16], f32le: [3, 32], alaw: [6, 8], mulaw: [7, 8] };

/**
 * A mono WAV file around `data`: the classic 44-byte header. `streamed` writes 0xFFFFFFFF as both sizes,
 * as streaming TTS servers do (OpenAI, Resemble's /stream).
 */
export function wavFile(data, { sampleRate, encoding = "s16le", streamed = false }) {
  const [tag, bits] = WAV_FORMAT[encoding];
  const view = new DataView(new ArrayBuffer(44));
  const ascii = (at, s) => {
    for (let i = 0; i < 4; i++) view.setUint8(at + i, s.charCodeAt(i));
  };
  ascii(0, "RIFF");
  view.setUint32(4, streamed ? 0xffffffff : 36 + data.length, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, tag, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, (sampleRate * bits) / 8, true); // byte rate (mono)
  view.setUint16(32, bits / 8, true);
  view.setUint16(34, bits, true);
  ascii(36, "data");
  view.setUint32(40, streamed ? 0xffffffff : data.length, true);
  const out = new Uint8Array(44 + data.length);
  out.set(new Uint8Array(view.buffer));
  out.set(data, 44);
  return out;
}

/**
 * The tone for `text` as a provider would send it: `container` "raw" (headerless), "wav" or "flac" (16-bit),
 * samples in `encoding` at `sampleRate`.
 */
export function mockTone(text, { sampleRate, encoding = "s16le", container = "raw", streamed = false }) {
  if (container === "flac") return flacFile(mockToneSamples(text, sampleRate), sampleRate);
  const data = encodeSamples(mockToneSamples(text, sampleRate), encoding);
  return container === "wav" ? wavFile(data, { sampleRate, encoding, streamed }) : data;
}

// ---------------------------------------------------------------------------------------------
// FLAC (what Hugging Face's TTS models mostly answer): the simplest valid stream — STREAMINFO, then
// frames of VERBATIM 16-bit mono subframes with their CRC-8 and CRC-16 (RFC 9639). Real decoders play it.

const FLAC_RATE_CODES = { 8000: 4, 16000: 5, 22050: 6, 24000: 7, 32000: 8, 44100: 9, 48000: 10 };

function crc(bytes, poly, width) {
  const top = 1 << (width - 1);
  const mask = (1 << width) - 1;
  let c = 0;
  for (const b of bytes) {
    c ^= b << (width - 8);
    for (let k = 0; k < 8; k++) c = c & top ? ((c << 1) ^ poly) & mask : (c << 1) & mask;
  }
  return c;
}

/** A frame number coded UTF-8 style (RFC 9639 §9.1.5). */
function codedNumber(n) {
  if (n < 0x80) return [n];
  const bytes = [];
  let lead = 0xc0;
  let room = 0x20;
  let v = n;
  while (v >= room) {
    bytes.unshift(0x80 | (v & 0x3f));
    v = Math.floor(v / 64);
    lead = 0x80 | (lead >> 1);
    room >>= 1;
  }
  return [lead | v, ...bytes];
}

/** Mono s16 samples as a FLAC stream in frames of `blockSize` samples. */
export function flacFile(samples, sampleRate, blockSize = 1152) {
  const parts = [];
  const info = new Uint8Array(4 + 4 + 34);
  info.set([0x66, 0x4c, 0x61, 0x43, 0x80, 0, 0, 34]); // "fLaC", last metadata block: STREAMINFO, 34 bytes
  const si = new DataView(info.buffer, 8);
  si.setUint16(0, blockSize);
  si.setUint16(2, blockSize);
  // bytes 4–9: min/max frame size unknown (0); then rate (20 bits), channels−1 (3), bits−1 (5), total (36)
  si.setUint8(10, (sampleRate >> 12) & 0xff);
  si.setUint8(11, (sampleRate >> 4) & 0xff);
  si.setUint8(12, ((sampleRate & 0x0f) << 4) | (0 << 1) | (15 >> 4));
  si.setUint8(13, ((15 & 0x0f) << 4) | Math.floor(samples.length / 2 ** 32));
  si.setUint32(14, samples.length >>> 0);
  parts.push(info); // MD5 left zero: "not computed"
  for (let start = 0, n = 0; start < samples.length; start += blockSize, n++) {
    const block = samples.subarray(start, start + blockSize);
    const header = [0xff, 0xf8, (7 << 4) | (FLAC_RATE_CODES[sampleRate] ?? 0), (0 << 4) | (4 << 1), ...codedNumber(n)];
    header.push((block.length - 1) >> 8, (block.length - 1) & 0xff);
    header.push(crc(header, 0x07, 8));
    const frame = new Uint8Array(header.length + 1 + block.length * 2 + 2);
    frame.set(header);
    frame[header.length] = 0x02; // subframe: VERBATIM, no wasted bits
    const view = new DataView(frame.buffer);
    for (let i = 0; i < block.length; i++) view.setInt16(header.length + 1 + i * 2, block[i], false);
    view.setUint16(frame.length - 2, crc(frame.subarray(0, frame.length - 2), 0x8005, 16), false);
    parts.push(frame);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
