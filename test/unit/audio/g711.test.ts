// G.711 against the standard's reference code and its published tables.
import { describe, expect, it } from "vitest";
import {
  ALAW_DECODE,
  alawDecode,
  alawEncode,
  alawEncodeSample,
  MULAW_DECODE,
  mulawDecode,
  mulawEncode,
  mulawEncodeSample,
} from "../../../src/audio/g711";

// Decoded values of µ-law codes 0x80..0xFF (codes 0x00..0x7F are their negatives) and of A-law codes
// 0x00..0x7F (0x80..0xFF are their negatives), in 16-bit units: the tables of Sun's g711.c, CPython's
// audioop and the ITU-T G.191 STL expanders, i.e. G.711 Tables 1a/2a scaled by 8 (A-law) or 4 (µ-law).
const MULAW_POSITIVE = [
  32124, 31100, 30076, 29052, 28028, 27004, 25980, 24956, 23932, 22908, 21884, 20860, 19836, 18812, 17788, 16764, 15996, 15484, 14972,
  14460, 13948, 13436, 12924, 12412, 11900, 11388, 10876, 10364, 9852, 9340, 8828, 8316, 7932, 7676, 7420, 7164, 6908, 6652, 6396, 6140,
  5884, 5628, 5372, 5116, 4860, 4604, 4348, 4092, 3900, 3772, 3644, 3516, 3388, 3260, 3132, 3004, 2876, 2748, 2620, 2492, 2364, 2236, 2108,
  1980, 1884, 1820, 1756, 1692, 1628, 1564, 1500, 1436, 1372, 1308, 1244, 1180, 1116, 1052, 988, 924, 876, 844, 812, 780, 748, 716, 684,
  652, 620, 588, 556, 524, 492, 460, 428, 396, 372, 356, 340, 324, 308, 292, 276, 260, 244, 228, 212, 196, 180, 164, 148, 132, 120, 112,
  104, 96, 88, 80, 72, 64, 56, 48, 40, 32, 24, 16, 8, 0,
];
const ALAW_NEGATIVE = [
  -5504, -5248, -6016, -5760, -4480, -4224, -4992, -4736, -7552, -7296, -8064, -7808, -6528, -6272, -7040, -6784, -2752, -2624, -3008,
  -2880, -2240, -2112, -2496, -2368, -3776, -3648, -4032, -3904, -3264, -3136, -3520, -3392, -22016, -20992, -24064, -23040, -17920, -16896,
  -19968, -18944, -30208, -29184, -32256, -31232, -26112, -25088, -28160, -27136, -11008, -10496, -12032, -11520, -8960, -8448, -9984,
  -9472, -15104, -14592, -16128, -15616, -13056, -12544, -14080, -13568, -344, -328, -376, -360, -280, -264, -312, -296, -472, -456, -504,
  -488, -408, -392, -440, -424, -88, -72, -120, -104, -24, -8, -56, -40, -216, -200, -248, -232, -152, -136, -184, -168, -1376, -1312,
  -1504, -1440, -1120, -1056, -1248, -1184, -1888, -1824, -2016, -1952, -1632, -1568, -1760, -1696, -688, -656, -752, -720, -560, -528,
  -624, -592, -944, -912, -1008, -976, -816, -784, -880, -848,
];

const muSegment = (code: number) => (~code >> 4) & 7;
const aSegment = (code: number) => ((code ^ 0x55) >> 4) & 7;
const allSamples = () => Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

describe("G.711 decoding", () => {
  it("matches the reference tables for all 256 codes", () => {
    for (let c = 0; c < 128; c++) {
      expect(MULAW_DECODE[0x80 + c]).toBe(MULAW_POSITIVE[c]);
      expect(MULAW_DECODE[c]).toBe(-MULAW_POSITIVE[c]! || 0);
      expect(ALAW_DECODE[c]).toBe(ALAW_NEGATIVE[c]);
      expect(ALAW_DECODE[0x80 + c]).toBe(-ALAW_NEGATIVE[c]!);
    }
    expect(mulawDecode(Uint8Array.of(0xff, 0x7f, 0x80, 0x00))).toEqual(Int16Array.of(0, 0, 32124, -32124));
    expect(alawDecode(Uint8Array.of(0xd5, 0x55, 0xaa, 0x2a))).toEqual(Int16Array.of(8, -8, 32256, -32256));
  });
});

describe("G.711 encoding", () => {
  it("gives the standard codes for silence and full scale", () => {
    expect([0, -1, 32767, -32768, 40000, -40000].map(mulawEncodeSample)).toEqual([0xff, 0x7f, 0x80, 0x00, 0x80, 0x00]);
    expect([0, -1, 32767, -32768, 40000, -40000].map(alawEncodeSample)).toEqual([0xd5, 0x55, 0xaa, 0x2a, 0xaa, 0x2a]);
  });

  it("changes segment exactly at G.711's decision values", () => {
    // µ-law segment ends in 14-bit units (G.711 Table 2a); A-law's in 16-bit units (Table 1a × 8).
    const muEnds = [31, 95, 223, 479, 991, 2015, 4063];
    muEnds.forEach((end, s) => {
      expect(muSegment(mulawEncodeSample(4 * end - 1))).toBe(s);
      expect(muSegment(mulawEncodeSample(4 * end))).toBe(s + 1);
      expect(mulawEncodeSample(4 * end) & 0x0f).toBe(0x0f); // first step of the next segment
    });
    [256, 512, 1024, 2048, 4096, 8192, 16384].forEach((end, s) => {
      expect(aSegment(alawEncodeSample(end - 1))).toBe(s);
      expect(aSegment(alawEncodeSample(end))).toBe(s + 1);
    });
  });

  it("round-trips every code: encode(decode(c)) === c (µ-law's negative zero 0x7F becomes 0xFF)", () => {
    for (let c = 0; c < 256; c++) {
      expect(alawEncodeSample(ALAW_DECODE[c]!)).toBe(c);
      expect(mulawEncodeSample(MULAW_DECODE[c]!)).toBe(c === 0x7f ? 0xff : c);
    }
  });

  it("is monotonic, antisymmetric and within half a step of every 16-bit input", () => {
    const x = allSamples();
    const mu = mulawEncode(x);
    const a = alawEncode(x);
    let previousMu = -Infinity;
    let previousA = -Infinity;
    const failures: string[] = []; // one expect per sample would dominate the run time
    for (let i = 0; i < x.length; i++) {
      // Indices within the 65,536 samples and 256 codes: the `!` reads are in range.
      const s = x[i]!;
      const muCode = mu[i]!;
      const aCode = a[i]!;
      const yMu = MULAW_DECODE[muCode]!;
      const yA = ALAW_DECODE[aCode]!;
      if (yMu < previousMu || yA < previousA) failures.push(`not monotonic at ${s}`);
      previousMu = yMu;
      previousA = yA;
      // The STL codes -1-x like x with the sign flipped (one's complement magnitude).
      if (muCode !== (mu[65535 - i]! ^ 0x80) || aCode !== (a[65535 - i]! ^ 0x80)) failures.push(`not antisymmetric at ${s}`);
      // Step sizes in 16-bit units: µ-law 8·2^segment; A-law 16 in segments 0–1, then doubling.
      const muStep = 8 << muSegment(muCode);
      const aSeg = aSegment(aCode);
      const aStep = aSeg < 2 ? 16 : 16 << (aSeg - 1);
      // µ-law clips above 8159 in 14-bit units
      if (Math.abs(s) <= 32635 && Math.abs(yMu - s) > muStep / 2 + 4) failures.push(`µ-law error at ${s}: ${yMu}`);
      if (Math.abs(yA - s) > aStep / 2 + 1) failures.push(`A-law error at ${s}: ${yA}`);
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });

  it("array and single-sample forms agree", () => {
    const x = allSamples();
    const mu = mulawEncode(x);
    const a = alawEncode(x);
    const differ = x.filter((s, i) => mu[i] !== mulawEncodeSample(s) || a[i] !== alawEncodeSample(s));
    expect(differ.length).toBe(0);
  });
});
