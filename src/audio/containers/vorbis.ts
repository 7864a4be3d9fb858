// Vorbis packet durations (Vorbis I spec §4.3.8): a packet decodes to prev/4 + cur/4 samples, where
// each block size (short or long) comes from the identification header and the packet's mode, and
// a mode's long/short flag sits at the end of the setup header. The modes are read backwards from
// the setup header's framing bit, as ffmpeg's vorbis_parser does, since everything before them
// (codebooks, floors, residues) would need a full decoder to step over.
// `!` on byte reads: the identification header is read only when 30 bytes long, and the setup header's
// bit reader stops before its first bit.

/** Real setup headers are a few KB to a few tens of KB; a larger one is not read. */
export const VORBIS_SETUP_MAX_BYTES = 256 * 1024;
const MAX_MODES = 64;

export interface VorbisStream {
  rate: number;
  shortBlock: number;
  longBlock: number;
  /** Per mode: does it use the long block? */
  modeLong: boolean[];
  modeBits: number;
}

/** Rate and block sizes from the identification header ("\x01vorbis"…), or null. */
export function vorbisIdentification(id: ArrayLike<number>): Pick<VorbisStream, "rate" | "shortBlock" | "longBlock"> | null {
  if (id.length < 30 || id[0] !== 1) return null;
  const rate = (id[12]! | (id[13]! << 8) | (id[14]! << 16) | (id[15]! << 24)) >>> 0;
  const shortBlock = 1 << (id[28]! & 0xf);
  const longBlock = 1 << (id[28]! >> 4);
  // The spec allows 64–8192, with short ≤ long.
  if (rate === 0 || shortBlock < 64 || longBlock > 8192 || shortBlock > longBlock) return null;
  return { rate, shortBlock, longBlock };
}

/** The modes' long-block flags from a setup header ("\x05vorbis"…), or null if they can't be found. */
export function vorbisModes(setup: ArrayLike<number>): boolean[] | null {
  if (setup.length < 8 || setup[0] !== 5) return null;
  // Bits are packed from each byte's lowest bit; reading them backwards gives each field's value
  // highest bit first.
  let bit = setup.length * 8;
  const read = (n: number) => {
    let value = 0;
    for (let k = 0; k < n; k++) {
      bit--;
      value = (value << 1) | ((setup[bit >> 3]! >> (bit & 7)) & 1);
    }
    return value;
  };
  while (bit > 0 && read(1) === 0); // zero padding, then the framing bit
  // Each mode, last first: mapping (8 bits, < 64), transform type and window type (16 zero bits each),
  // block flag. Before the first mode: the 6-bit mode count − 1. As in ffmpeg, the longest run whose
  // count field matches is taken (a false match can only make the run longer, never shorter).
  const flags: boolean[] = [];
  let count = 0;
  while (bit >= 41 + 6 && flags.length < MAX_MODES) {
    if (read(8) > 63 || read(16) !== 0 || read(16) !== 0) break;
    flags.push(read(1) === 1);
    const saved = bit;
    if (read(6) + 1 === flags.length) count = flags.length;
    bit = saved;
  }
  if (count === 0) return null;
  return flags.slice(0, count).reverse();
}

export function vorbisStream(id: ArrayLike<number>, setup: ArrayLike<number>): VorbisStream | null {
  const ident = vorbisIdentification(id);
  const modeLong = vorbisModes(setup);
  if (!ident || !modeLong) return null;
  const modeBits = modeLong.length > 1 ? 32 - Math.clz32(modeLong.length - 1) : 0;
  return { ...ident, modeLong, modeBits };
}

/** Counts the samples of a stream's audio packets, fed their first byte (undefined when empty). */
export class VorbisCounter {
  samples = 0;
  private previous = 0;

  constructor(private readonly stream: VorbisStream) {}

  get seconds(): number {
    return this.samples / this.stream.rate;
  }

  add(first: number | undefined): void {
    // Empty packets and non-audio packets (lowest bit set) decode to nothing.
    if (first === undefined || first & 1) return;
    const mode = (first >> 1) & ((1 << this.stream.modeBits) - 1);
    if (mode >= this.stream.modeLong.length) return;
    const block = this.stream.modeLong[mode] ? this.stream.longBlock : this.stream.shortBlock;
    // The first audio packet only primes the overlap.
    if (this.previous > 0) this.samples += (this.previous + block) / 4;
    this.previous = block;
  }
}
