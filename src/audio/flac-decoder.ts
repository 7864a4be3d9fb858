// A streaming FLAC decoder (RFC 9639) for edge transcoding: Hugging Face's TTS models mostly answer FLAC.
// Bytes go in as they arrive; each complete frame comes out as mono signed 16-bit samples (channels
// averaged, other bit depths scaled). FLAC has no frame lengths, so a frame is decoded once all of it has
// arrived: an attempt that runs out of bytes is retried when the next chunk comes (frames are a few KB).
// Handles every subframe type (constant, verbatim, fixed, LPC), wasted bits, Rice/escape residuals and the
// stereo decorrelations. The frame CRCs are not checked (a transport error surfaces as a broken stream).
// `!` on typed-array reads: indices are kept in range by the bit reader and the block sizes it read.
import { Bits, NeedMore } from "./flac-bits";

export class FlacFormatError extends Error {
  override name = "FlacFormatError";
}

export interface FlacFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

export interface FlacDecoder {
  /** Samples of the frames this chunk completed (mono s16; may be empty). */
  push(chunk: Uint8Array): Int16Array;
  /** The stream ended: throws if it ended inside its header or a frame. */
  end(): void;
  /** Known once STREAMINFO was read. */
  readonly format: FlacFormat | undefined;
}

const MAX_METADATA_BYTES = 16 * 1024 * 1024; // skipped as it streams; beyond this it is not a TTS answer
const FRAME_BITS = [0, 8, 12, 0, 16, 20, 24, 32];

function codedNumber(bits: Bits): void {
  const lead = bits.read(8);
  let extra = 0;
  for (let mask = 0x80; lead & mask && mask > 1; mask >>= 1) extra++;
  if (extra === 1 || extra > 7) throw new FlacFormatError("bad FLAC frame number");
  for (let i = 1; i < extra; i++) if (bits.read(8) >> 6 !== 2) throw new FlacFormatError("bad FLAC frame number");
}

function residual(bits: Bits, out: Float64Array, order: number, blockSize: number): void {
  const method = bits.read(2);
  if (method > 1) throw new FlacFormatError("reserved FLAC residual coding");
  const paramBits = method === 0 ? 4 : 5;
  const escapeCode = method === 0 ? 15 : 31;
  const partitionOrder = bits.read(4);
  const partitions = 2 ** partitionOrder;
  const perPartition = blockSize / partitions;
  if (!Number.isInteger(perPartition) || perPartition < order) throw new FlacFormatError("bad FLAC partition order");
  let i = order;
  for (let p = 0; p < partitions; p++) {
    const count = p === 0 ? perPartition - order : perPartition;
    const k = bits.read(paramBits);
    if (k === escapeCode) {
      const raw = bits.read(5);
      for (let j = 0; j < count; j++) out[i++] = bits.signed(raw);
    } else {
      for (let j = 0; j < count; j++) out[i++] = bits.rice(k);
    }
  }
}

const FIXED: number[][] = [[], [1], [2, -1], [3, -3, 1], [4, -6, 4, -1]];

function subframe(bits: Bits, blockSize: number, sampleBits: number): Float64Array {
  if (bits.read(1) !== 0) throw new FlacFormatError("bad FLAC subframe padding");
  const type = bits.read(6);
  let wasted = 0;
  if (bits.read(1)) wasted = bits.unary() + 1;
  const size = sampleBits - wasted;
  const s = new Float64Array(blockSize);
  if (type === 0) {
    s.fill(bits.signed(size));
  } else if (type === 1) {
    for (let i = 0; i < blockSize; i++) s[i] = bits.signed(size);
  } else if (type >= 8 && type <= 12) {
    const order = type - 8;
    for (let i = 0; i < order; i++) s[i] = bits.signed(size);
    residual(bits, s, order, blockSize);
    const c = FIXED[order]!;
    for (let i = order; i < blockSize; i++) {
      let p = 0;
      for (let j = 0; j < order; j++) p += c[j]! * s[i - 1 - j]!;
      s[i] = s[i]! + p;
    }
  } else if (type >= 32) {
    const order = type - 31;
    for (let i = 0; i < order; i++) s[i] = bits.signed(size);
    const precision = bits.read(4) + 1;
    if (precision === 16) throw new FlacFormatError("bad FLAC LPC precision");
    const shift = bits.signed(5);
    if (shift < 0) throw new FlacFormatError("negative FLAC LPC shift");
    const coefs: number[] = [];
    for (let j = 0; j < order; j++) coefs.push(bits.signed(precision));
    residual(bits, s, order, blockSize);
    const scale = 2 ** shift;
    for (let i = order; i < blockSize; i++) {
      let p = 0;
      for (let j = 0; j < order; j++) p += coefs[j]! * s[i - 1 - j]!;
      s[i] = s[i]! + Math.floor(p / scale);
    }
  } else {
    throw new FlacFormatError(`reserved FLAC subframe type ${type}`);
  }
  if (wasted) for (let i = 0; i < blockSize; i++) s[i] = s[i]! * 2 ** wasted;
  return s;
}

interface Frame {
  /** Each channel's samples, decorrelated (left/right, not mid/side), at `sampleBits`. */
  channels: Float64Array[];
  sampleBits: number;
  /** Length of the frame in bytes. */
  bytes: number;
}

/** One frame at the start of `b`. */
function frame(b: Uint8Array, info: FlacFormat): Frame {
  const bits = new Bits(b);
  if (bits.read(15) !== 0x7ffc) throw new FlacFormatError("lost FLAC frame sync");
  bits.read(1); // blocking strategy: fixed or variable, read the same way
  const sizeCode = bits.read(4);
  const rateCode = bits.read(4);
  const assignment = bits.read(4);
  const bitsCode = bits.read(3);
  bits.read(1);
  codedNumber(bits);
  let blockSize = sizeCode === 1 ? 192 : sizeCode <= 5 ? 576 * 2 ** (sizeCode - 2) : sizeCode >= 8 ? 256 * 2 ** (sizeCode - 8) : 0;
  if (sizeCode === 6) blockSize = bits.read(8) + 1;
  else if (sizeCode === 7) blockSize = bits.read(16) + 1;
  if (sizeCode === 0) throw new FlacFormatError("reserved FLAC block size");
  if (rateCode === 12) bits.read(8);
  else if (rateCode === 13 || rateCode === 14) bits.read(16);
  else if (rateCode === 15) throw new FlacFormatError("bad FLAC sample rate");
  bits.read(8); // CRC-8
  const sampleBits = bitsCode === 0 ? info.bitsPerSample : (FRAME_BITS[bitsCode] ?? 0);
  if (!sampleBits || assignment > 10) throw new FlacFormatError("reserved FLAC frame header value");
  const count = assignment < 8 ? assignment + 1 : 2;
  const ch: Float64Array[] = [];
  for (let c = 0; c < count; c++) {
    // The side channel carries one more bit.
    const side = (assignment === 8 && c === 1) || (assignment === 9 && c === 0) || (assignment === 10 && c === 1);
    ch.push(subframe(bits, blockSize, sampleBits + (side ? 1 : 0)));
  }
  bits.align();
  bits.read(16); // CRC-16
  if (assignment >= 8) {
    const [a, d] = ch as [Float64Array, Float64Array];
    for (let i = 0; i < blockSize; i++) {
      const x = a[i]!;
      const y = d[i]!;
      if (assignment === 8)
        d[i] = x - y; // left, side → right = left − side
      else if (assignment === 9)
        a[i] = x + y; // side, right → left = side + right
      else {
        const mid = x * 2 + (y & 1); // mid, side
        a[i] = Math.floor((mid + y) / 2);
        d[i] = Math.floor((mid - y) / 2);
      }
    }
  }
  return { channels: ch, sampleBits, bytes: bits.pos >> 3 };
}

/** A frame's channels averaged to mono and scaled to signed 16-bit. */
function toMono16(f: Frame): Int16Array {
  const n = f.channels[0]!.length;
  const out = new Int16Array(n);
  const scale = 2 ** (16 - f.sampleBits) / f.channels.length;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (const c of f.channels) sum += c[i]!;
    const v = Math.round(sum * scale);
    out[i] = Math.min(32767, Math.max(-32768, v));
  }
  return out;
}

/** `onFrame` sees each frame's full-precision channels (tests check them against the stream's MD5). */
export function createFlacDecoder(onFrame?: (channels: Float64Array[], sampleBits: number) => void): FlacDecoder {
  let buffer = new Uint8Array(0);
  let info: FlacFormat | undefined;
  let headerDone = false;
  let skip = 0; // bytes of a metadata block still to drop
  let lastBlock = false;
  let metadataBytes = 0;

  const take = (n: number) => {
    const head = buffer.subarray(0, n);
    buffer = buffer.subarray(n);
    return head;
  };

  /** Reads "fLaC" and the metadata blocks; true once the first frame may start. */
  const header = (): boolean => {
    if (metadataBytes === 0) {
      if (buffer.length < 4) return false;
      if (String.fromCharCode(...take(4)) !== "fLaC") throw new FlacFormatError("not a FLAC stream");
      metadataBytes = 4;
    }
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, buffer.length);
        take(n);
        skip -= n;
        if (skip > 0) return false;
      }
      if (lastBlock) return true;
      if (buffer.length < 4) return false;
      const type = buffer[0]! & 0x7f;
      const length = (buffer[1]! << 16) | (buffer[2]! << 8) | buffer[3]!;
      if (type === 0 && buffer.length < 4 + 34) return false;
      lastBlock = (buffer[0]! & 0x80) !== 0;
      take(4);
      metadataBytes += 4 + length;
      if (metadataBytes > MAX_METADATA_BYTES) throw new FlacFormatError("FLAC metadata too long");
      if (type === 0) {
        const s = buffer;
        const sampleRate = (s[10]! << 12) | (s[11]! << 4) | (s[12]! >> 4);
        info = { sampleRate, channels: ((s[12]! >> 1) & 7) + 1, bitsPerSample: (((s[12]! & 1) << 4) | (s[13]! >> 4)) + 1 };
        if (!sampleRate) throw new FlacFormatError("FLAC STREAMINFO without a sample rate");
      } else if (!info) throw new FlacFormatError("FLAC metadata before STREAMINFO");
      skip = length;
    }
  };

  return {
    get format() {
      return headerDone ? info : undefined;
    },
    push(chunk) {
      const joined = new Uint8Array(buffer.length + chunk.length);
      joined.set(buffer);
      joined.set(chunk, buffer.length);
      buffer = joined;
      if (!headerDone) {
        headerDone = header();
        if (!headerDone) return new Int16Array(0);
      }
      const parts: Int16Array[] = [];
      while (buffer.length > 0) {
        let decoded: Frame;
        try {
          decoded = frame(buffer, info as FlacFormat);
        } catch (e) {
          if (e instanceof NeedMore) break;
          throw e;
        }
        onFrame?.(decoded.channels, decoded.sampleBits);
        parts.push(toMono16(decoded));
        take(decoded.bytes);
      }
      buffer = buffer.slice(); // keep only the unconsumed tail, not the joined array behind it
      if (parts.length === 1) return parts[0]!;
      const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    },
    end() {
      if (!headerDone) throw new FlacFormatError("FLAC stream ended before its audio");
      if (buffer.length > 0) throw new FlacFormatError("FLAC stream ended inside a frame");
    },
  };
}
