// The FLAC decoder's bit reader (flac-decoder.ts): big-endian bits over the bytes received so far, with the
// unary and Rice codes FLAC's residuals use. Reading past the end throws `NeedMore`: the decoder retries
// the frame when the next chunk arrives.

/** Thrown by the bit reader when the frame goes past the bytes received so far. */
export class NeedMore extends Error {}

export class Bits {
  pos = 0; // in bits
  constructor(private readonly b: Uint8Array) {}
  read(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.pos >> 3;
      if (byte >= this.b.length) throw new NeedMore();
      v = v * 2 + ((this.b[byte]! >> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v;
  }
  signed(n: number): number {
    if (n === 0) return 0;
    const v = this.read(n);
    return v >= 2 ** (n - 1) ? v - 2 ** n : v;
  }
  unary(): number {
    let zeros = 0;
    while (this.read(1) === 0) zeros++;
    return zeros;
  }
  /** Rice-coded signed value with parameter k. */
  rice(k: number): number {
    const u = this.unary() * 2 ** k + this.read(k);
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  align() {
    this.pos = (this.pos + 7) & ~7;
  }
}
