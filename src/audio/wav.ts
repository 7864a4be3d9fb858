// WAV (RIFF WAVE) framing for streams: a header writer, and an incremental reader that strips the header
// from a stream whose header may arrive split across chunks.
// `!` on byte reads: a header field is read only once `pending` holds all of its bytes.
import type { SampleEncoding } from "./samples";

/** The size written in the RIFF and data headers of a stream whose length isn't known yet. */
export const WAV_UNKNOWN_SIZE = 0xffffffff;

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_ALAW = 6;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;
const MAX_FMT_BYTES = 1024; // a real fmt chunk is 16, 18 or 40 bytes; more is not a WAV header

export type WavWriteEncoding = "pcm_s16le" | "alaw" | "mulaw";

export interface WavHeaderOptions {
  encoding: WavWriteEncoding;
  sampleRate: number;
  channels?: number;
  /** Bytes of audio that follow; omit for a stream (both sizes are then 0xFFFFFFFF). */
  dataBytes?: number;
}

const ascii = (view: DataView, at: number, text: string) => {
  for (let i = 0; i < text.length; i++) view.setUint8(at + i, text.charCodeAt(i));
};

/**
 * A WAV header: 44 bytes for PCM 16-bit; for A-law (format 6) and µ-law (format 7) an 18-byte fmt chunk
 * (cbSize 0) and the fact chunk the RIFF spec asks of non-PCM formats, 58 bytes in all.
 */
export function wavHeader({ encoding, sampleRate, channels = 1, dataBytes }: WavHeaderOptions): Uint8Array {
  const pcm = encoding === "pcm_s16le";
  const bytesPerSample = pcm ? 2 : 1;
  const fmtBytes = pcm ? 16 : 18;
  const factBytes = pcm ? 0 : 12;
  const size = 12 + 8 + fmtBytes + factBytes + 8;
  const view = new DataView(new ArrayBuffer(size));
  const streamed = dataBytes === undefined;
  const data = streamed ? WAV_UNKNOWN_SIZE : dataBytes;
  ascii(view, 0, "RIFF");
  view.setUint32(4, streamed ? WAV_UNKNOWN_SIZE : size - 8 + data + (data & 1), true);
  ascii(view, 8, "WAVE");
  ascii(view, 12, "fmt ");
  view.setUint32(16, fmtBytes, true);
  view.setUint16(20, pcm ? FORMAT_PCM : encoding === "alaw" ? FORMAT_ALAW : FORMAT_MULAW, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * bytesPerSample, true); // byte rate
  view.setUint16(32, channels * bytesPerSample, true); // block align
  view.setUint16(34, bytesPerSample * 8, true);
  let at = 36;
  if (!pcm) {
    view.setUint16(at, 0, true); // cbSize: no extra format bytes
    ascii(view, at + 2, "fact");
    view.setUint32(at + 6, 4, true);
    view.setUint32(at + 10, streamed ? WAV_UNKNOWN_SIZE : data / channels, true); // samples per channel
    at += 14;
  }
  ascii(view, at, "data");
  view.setUint32(at + 4, data, true);
  return new Uint8Array(view.buffer);
}

/** What a WAV header says about the audio after it. */
export interface WavFormat {
  /** The format tag (1 PCM, 3 float, 6 A-law, 7 µ-law); for WAVE_FORMAT_EXTENSIBLE, its subformat's. */
  formatTag: number;
  encoding: SampleEncoding;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Bytes in the data chunk; undefined when the header gives 0 or 0xFFFFFFFF (a stream). */
  dataBytes: number | undefined;
}

export class WavFormatError extends Error {
  override name = "WavFormatError";
}

export interface WavReader {
  /** Audio bytes found in this chunk (header and other chunks removed), or undefined. */
  push(chunk: Uint8Array): Uint8Array | undefined;
  /** Set once the data chunk has begun. */
  readonly format: WavFormat | undefined;
}

function encodingOf(tag: number, bits: number): SampleEncoding {
  if (tag === FORMAT_PCM && bits === 8) return "pcm_u8";
  if (tag === FORMAT_PCM && bits === 16) return "pcm_s16le";
  if (tag === FORMAT_PCM && bits === 24) return "pcm_s24le";
  if (tag === FORMAT_PCM && bits === 32) return "pcm_s32le";
  if (tag === FORMAT_FLOAT && bits === 32) return "pcm_f32le";
  if (tag === FORMAT_ALAW && bits === 8) return "alaw";
  if (tag === FORMAT_MULAW && bits === 8) return "mulaw";
  throw new WavFormatError(`unsupported WAV audio: format ${tag}, ${bits} bits`);
}

function parseFmt(body: Uint8Array): Omit<WavFormat, "dataBytes"> {
  if (body.length < 16) throw new WavFormatError("WAV fmt chunk too short");
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let formatTag = view.getUint16(0, true);
  const channels = view.getUint16(2, true);
  const sampleRate = view.getUint32(4, true);
  const bitsPerSample = view.getUint16(14, true);
  if (formatTag === FORMAT_EXTENSIBLE) {
    if (body.length < 40) throw new WavFormatError("WAV extensible fmt chunk too short");
    formatTag = view.getUint16(24, true); // the subformat GUID starts with the plain format tag
  }
  if (channels < 1 || sampleRate < 1) throw new WavFormatError("WAV header without channels or sample rate");
  return { formatTag, encoding: encodingOf(formatTag, bitsPerSample), sampleRate, channels, bitsPerSample };
}

/**
 * Reads a WAV stream: RIFF (or RF64) header, fmt, any other chunks skipped (LIST, fact, ds64…), then the
 * data chunk's bytes are handed on as they arrive. A data size of 0 or 0xFFFFFFFF means "until the end";
 * anything after a data chunk of known size (trailing LIST chunks, a pad byte) is dropped.
 */
export function createWavReader(): WavReader {
  type State = "riff" | "chunk" | "fmt" | "skip" | "data" | "after";
  let state: State = "riff";
  let pending = new Uint8Array(0); // header bytes awaiting the rest of their field
  let want = 12; // bytes `pending` must reach (riff, chunk, fmt)
  let remaining = 0; // bytes left to skip or to hand on (Infinity: streamed data)
  let fmt: Omit<WavFormat, "dataBytes"> | undefined;
  let format: WavFormat | undefined;

  const onHeader = (bytes: Uint8Array) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const tag = (at: number) => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
    if (state === "riff") {
      if ((tag(0) !== "RIFF" && tag(0) !== "RF64") || tag(8) !== "WAVE") throw new WavFormatError("not a WAV stream");
      state = "chunk";
      want = 8;
    } else if (state === "chunk") {
      const size = view.getUint32(4, true);
      if (tag(0) === "fmt ") {
        if (size > MAX_FMT_BYTES) throw new WavFormatError("WAV fmt chunk too long");
        state = "fmt";
        want = size + (size & 1);
      } else if (tag(0) === "data") {
        if (!fmt) throw new WavFormatError("WAV data before its fmt chunk");
        const streamed = size === 0 || size === WAV_UNKNOWN_SIZE;
        format = { ...fmt, dataBytes: streamed ? undefined : size };
        state = "data";
        remaining = streamed ? Number.POSITIVE_INFINITY : size;
      } else {
        state = "skip";
        remaining = size + (size & 1); // chunks are padded to an even length
      }
    } else if (state === "fmt") {
      fmt = parseFmt(bytes);
      state = "chunk";
      want = 8;
    }
  };

  return {
    get format() {
      return format;
    },
    push(chunk) {
      let at = 0;
      let audio: Uint8Array | undefined;
      while (at < chunk.length) {
        if (state === "after") break;
        if (state === "skip" || state === "data") {
          const take = Math.min(remaining, chunk.length - at);
          if (state === "data") audio = chunk.subarray(at, at + take);
          at += take;
          remaining -= take;
          if (remaining === 0) state = state === "data" ? "after" : "chunk";
          want = 8;
          continue;
        }
        const take = Math.min(want - pending.length, chunk.length - at);
        const next = new Uint8Array(pending.length + take);
        next.set(pending);
        next.set(chunk.subarray(at, at + take), pending.length);
        pending = next;
        at += take;
        if (pending.length === want) {
          const header = pending;
          pending = new Uint8Array(0);
          onHeader(header);
        }
      }
      return audio && audio.length > 0 ? audio : undefined;
    },
  };
}
