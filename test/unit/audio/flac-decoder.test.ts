// The streaming FLAC decoder against real encoder output: every sample checked through the MD5 the encoder
// stored in STREAMINFO (over the original audio), for each stereo decorrelation, fixed and LPC subframes,
// 8-, 16- and 24-bit audio; fed whole or in odd pieces; broken streams refused.
import { describe, expect, it } from "vitest";
import { createFlacDecoder, FlacFormatError } from "../../../src/audio/flac-decoder";
import { createTranscoder } from "../../../src/audio/transcode";
import mono24 from "../../fixtures/audio/flac-mono-24bit-22k.flac?inline";
import monoFixed from "../../fixtures/audio/flac-mono-fixed-16k.flac?inline";
import indep from "../../fixtures/audio/flac-stereo-indep.flac?inline";
import leftSide from "../../fixtures/audio/flac-stereo-left_side.flac?inline";
import midSide from "../../fixtures/audio/flac-stereo-mid_side.flac?inline";
import rightSide from "../../fixtures/audio/flac-stereo-right_side.flac?inline";
import speech8bit from "../../fixtures/audio/speech.flac?inline";

const bytesOf = (dataUrl: string) => Uint8Array.from(atob(dataUrl.slice(dataUrl.indexOf(",") + 1)), (c) => c.charCodeAt(0));

const FILES = {
  "flac-stereo-mid_side.flac": bytesOf(midSide),
  "flac-stereo-left_side.flac": bytesOf(leftSide),
  "flac-stereo-right_side.flac": bytesOf(rightSide),
  "flac-stereo-indep.flac": bytesOf(indep),
  "flac-mono-24bit-22k.flac": bytesOf(mono24),
  "flac-mono-fixed-16k.flac": bytesOf(monoFixed),
  "speech.flac": bytesOf(speech8bit),
};

/** STREAMINFO's total samples and MD5 (bytes 8.. of the file: the first metadata block's body). */
function streamInfo(b: Uint8Array) {
  const body = b.subarray(8, 8 + 34);
  const total = (body[13]! & 0x0f) * 2 ** 32 + ((body[14]! << 24) >>> 0) + (body[15]! << 16) + (body[16]! << 8) + body[17]!;
  return { total, md5: [...body.subarray(18, 34)].map((x) => x.toString(16).padStart(2, "0")).join("") };
}

/** Decode in pieces of `sizes` (cycled); the mono output and every frame's full-precision channels. */
function decode(bytes: Uint8Array, sizes: number[] = [bytes.length]) {
  const frames: { channels: Float64Array[]; bits: number }[] = [];
  const d = createFlacDecoder((channels, bits) => frames.push({ channels: channels.map((c) => c.slice()), bits }));
  const mono: number[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    for (const s of d.push(bytes.subarray(at, at + n))) mono.push(s);
    at += n;
  }
  d.end();
  return { mono: Int16Array.from(mono), frames, format: d.format };
}

/** The audio as FLAC's MD5 covers it: interleaved, little-endian signed, ceil(bits/8) bytes a sample. */
async function md5Of(frames: { channels: Float64Array[]; bits: number }[]) {
  const width = Math.ceil(frames[0]!.bits / 8);
  const total = frames.reduce((n, f) => n + f.channels.length * f.channels[0]!.length, 0);
  const out = new Uint8Array(total * width);
  let at = 0;
  for (const f of frames) {
    for (let i = 0; i < f.channels[0]!.length; i++) {
      for (const c of f.channels) {
        let v = c[i]!;
        for (let k = 0; k < width; k++) {
          out[at++] = ((v % 256) + 256) % 256;
          v = Math.floor(v / 256);
        }
      }
    }
  }
  return [...new Uint8Array(await crypto.subtle.digest("MD5", out))].map((x) => x.toString(16).padStart(2, "0")).join("");
}

describe("createFlacDecoder", () => {
  for (const [name, bytes] of Object.entries(FILES)) {
    it(`${name}: every sample, by the encoder's MD5`, async () => {
      const { frames, mono, format } = decode(bytes);
      const info = streamInfo(bytes);
      expect(frames.reduce((n, f) => n + f.channels[0]!.length, 0)).toBe(info.total);
      expect(mono.length).toBe(info.total);
      expect(await md5Of(frames)).toBe(info.md5);
      expect(format?.sampleRate).toBeGreaterThan(0);
    });
  }

  it("the same audio decorrelated four ways decodes to the same mono samples", () => {
    const [first, ...rest] = ["mid_side", "left_side", "right_side", "indep"].map(
      (m) => decode(FILES[`flac-stereo-${m}.flac` as keyof typeof FILES]).mono,
    );
    for (const r of rest) expect(Buffer.from(r!.buffer).equals(Buffer.from(first!.buffer))).toBe(true);
  });

  it("pieces of any size give the same samples as the whole file; 24-bit is scaled to 16", () => {
    const bytes = FILES["flac-mono-24bit-22k.flac"];
    const whole = decode(bytes);
    const pieces = decode(bytes, [1, 7, 333, 4096, 2]);
    expect(Buffer.from(pieces.mono.buffer).equals(Buffer.from(whole.mono.buffer))).toBe(true);
    expect(whole.format).toEqual({ sampleRate: 22050, channels: 1, bitsPerSample: 24 });
    const raw = whole.frames.flatMap((f) => [...f.channels[0]!]);
    expect(whole.mono[1000]).toBe(Math.round(raw[1000]! / 256));
  });

  it("refuses what is not FLAC, and a stream that ends inside its header or a frame", () => {
    expect(() => createFlacDecoder().push(new TextEncoder().encode("RIFF....WAVE"))).toThrow(FlacFormatError);
    const bytes = FILES["flac-mono-fixed-16k.flac"];
    const cutHeader = createFlacDecoder();
    cutHeader.push(bytes.subarray(0, 20));
    expect(() => cutHeader.end()).toThrow(FlacFormatError);
    const cutFrame = createFlacDecoder();
    cutFrame.push(bytes.subarray(0, bytes.length - 10));
    expect(() => cutFrame.end()).toThrow(/inside a frame/);
  });
});

describe("FLAC through the transcoder", () => {
  it("16 kHz FLAC → 8 kHz µ-law: every input sample accounted for, output as frames complete", () => {
    const bytes = FILES["flac-mono-fixed-16k.flac"];
    const samples = streamInfo(bytes).total;
    const t = createTranscoder({ container: "flac" }, { format: "ulaw", sampleRate: 8000 });
    let out = 0;
    let firstOutputAt: number | undefined;
    for (let at = 0; at < bytes.length; at += 2000) {
      const b = t.push(bytes.subarray(at, at + 2000));
      if (b?.length && firstOutputAt === undefined) firstOutputAt = at;
      out += b?.length ?? 0;
    }
    out += t.end()?.length ?? 0;
    expect(out).toBe(Math.ceil(samples / 2));
    expect(firstOutputAt).toBeLessThan(bytes.length / 2);
  });
});
