// WAV framing: the header writer's bytes, and the incremental reader on headers as providers and common
// tools write them (streamed sizes, LIST/fact chunks, extensible fmt), split anywhere.
import { describe, expect, it } from "vitest";
import { createSampleDecoder } from "../../../src/audio/samples";
import { createWavReader, WAV_UNKNOWN_SIZE, WavFormatError, wavHeader } from "../../../src/audio/wav";
import { concat } from "../../helpers/audio-signal";

/** A RIFF chunk built by hand, independently of the writer under test. */
function chunk(id: string, body: Uint8Array, size = body.length): Uint8Array {
  const head = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < 4; i++) head.setUint8(i, id.charCodeAt(i));
  head.setUint32(4, size, true);
  return concat([new Uint8Array(head.buffer), body, body.length % 2 ? new Uint8Array(1) : undefined]);
}

function fmtBody(tag: number, channels: number, rate: number, bits: number, extra?: Uint8Array): Uint8Array {
  const v = new DataView(new ArrayBuffer(16));
  v.setUint16(0, tag, true);
  v.setUint16(2, channels, true);
  v.setUint32(4, rate, true);
  v.setUint32(8, (rate * channels * bits) / 8, true);
  v.setUint16(12, (channels * bits) / 8, true);
  v.setUint16(14, bits, true);
  return concat([new Uint8Array(v.buffer), extra]);
}

function riff(size: number, ...chunks: Uint8Array[]): Uint8Array {
  const head = new DataView(new ArrayBuffer(12));
  for (let i = 0; i < 4; i++) {
    head.setUint8(i, "RIFF".charCodeAt(i));
    head.setUint8(8 + i, "WAVE".charCodeAt(i));
  }
  head.setUint32(4, size, true);
  return concat([new Uint8Array(head.buffer), ...chunks]);
}

const text = (s: string) => new TextEncoder().encode(s);
const audio = Uint8Array.from({ length: 301 }, (_, i) => (i * 37) & 0xff);

function readAll(bytes: Uint8Array, cuts: number[]) {
  const reader = createWavReader();
  const parts: (Uint8Array | undefined)[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    parts.push(reader.push(bytes.subarray(at, cut)));
    at = cut;
  }
  return { data: concat(parts), format: reader.format };
}

describe("WAV header writer", () => {
  it("writes a 44-byte PCM 16-bit header with streamed sizes", () => {
    const h = wavHeader({ encoding: "pcm_s16le", sampleRate: 24000 });
    const v = new DataView(h.buffer);
    expect(h.length).toBe(44);
    expect(new TextDecoder().decode(h.subarray(0, 4)) + new TextDecoder().decode(h.subarray(8, 16))).toBe("RIFFWAVEfmt ");
    expect([v.getUint32(4, true), v.getUint32(40, true)]).toEqual([0xffffffff, 0xffffffff]);
    expect([v.getUint32(16, true), v.getUint16(20, true), v.getUint16(22, true), v.getUint32(24, true)]).toEqual([16, 1, 1, 24000]);
    expect([v.getUint32(28, true), v.getUint16(32, true), v.getUint16(34, true)]).toEqual([48000, 2, 16]);
    expect(new TextDecoder().decode(h.subarray(36, 40))).toBe("data");
  });

  it("writes A-law (6) and µ-law (7) with an 18-byte fmt and a fact chunk, and known sizes", () => {
    for (const [encoding, tag] of [
      ["alaw", 6],
      ["mulaw", 7],
    ] as const) {
      const h = wavHeader({ encoding, sampleRate: 8000, dataBytes: 801 });
      const v = new DataView(h.buffer);
      expect(h.length).toBe(58);
      expect([v.getUint32(16, true), v.getUint16(20, true), v.getUint32(28, true), v.getUint16(32, true), v.getUint16(34, true)]).toEqual([
        18,
        tag,
        8000,
        1,
        8,
      ]);
      expect(new TextDecoder().decode(h.subarray(38, 42))).toBe("fact");
      expect(v.getUint32(46, true)).toBe(801);
      expect(v.getUint32(54, true)).toBe(801);
      expect(v.getUint32(4, true)).toBe(58 - 8 + 801 + 1); // RIFF size counts the data's pad byte
    }
    expect(new DataView(wavHeader({ encoding: "pcm_s16le", sampleRate: 16000, dataBytes: 320 }).buffer).getUint32(4, true)).toBe(36 + 320);
  });
});

describe("WAV reader", () => {
  const streamed = riff(WAV_UNKNOWN_SIZE, chunk("fmt ", fmtBody(1, 1, 22050, 16)), chunk("data", new Uint8Array(0), 0xffffffff));

  it("strips a header split at every possible byte, and reports the format", () => {
    const bytes = concat([streamed, audio]);
    for (let cut = 0; cut <= streamed.length + 1; cut++) {
      const { data, format } = readAll(bytes, [cut]);
      expect(data).toEqual(audio);
      expect(format).toEqual({
        formatTag: 1,
        encoding: "pcm_s16le",
        sampleRate: 22050,
        channels: 1,
        bitsPerSample: 16,
        dataBytes: undefined,
      });
    }
    expect(
      readAll(
        bytes,
        Array.from({ length: bytes.length }, (_, i) => i),
      ).data,
    ).toEqual(audio); // byte by byte
  });

  it("reads its own writer's headers", () => {
    for (const encoding of ["pcm_s16le", "alaw", "mulaw"] as const) {
      const { data, format } = readAll(concat([wavHeader({ encoding, sampleRate: 48000 }), audio]), [3, 40, 51]);
      expect(data).toEqual(audio);
      expect(format?.encoding).toBe(encoding);
      expect(format?.sampleRate).toBe(48000);
    }
  });

  it("skips LIST and fact chunks (odd sizes padded) before the data, as ffmpeg and sox write them", () => {
    const bytes = riff(
      1000,
      chunk("LIST", text("INFOISFT\u000e\u0000\u0000\u0000Lavf60.16.100\u0000")),
      chunk("fmt ", fmtBody(7, 1, 8000, 8, new Uint8Array(2))),
      chunk("fact", new Uint8Array(4)),
      chunk("odd ", text("abc")),
      chunk("data", new Uint8Array(0), 0),
      audio,
    );
    const { data, format } = readAll(bytes, [10, 11, 75]);
    expect(data).toEqual(audio);
    expect(format).toMatchObject({ encoding: "mulaw", sampleRate: 8000, dataBytes: undefined });
  });

  it("stops at the end of a data chunk of known size and drops what follows", () => {
    const bytes = riff(
      500,
      chunk("fmt ", fmtBody(1, 2, 44100, 16)),
      chunk("data", audio.subarray(0, 200)),
      chunk("LIST", text("INFOjunk")),
    );
    const { data, format } = readAll(bytes, [50, 250]);
    expect(data).toEqual(audio.subarray(0, 200));
    expect(format).toMatchObject({ channels: 2, dataBytes: 200 });
  });

  it("reads WAVE_FORMAT_EXTENSIBLE by its subformat (float32 here) and RF64", () => {
    const ext = new Uint8Array(24);
    new DataView(ext.buffer).setUint16(0, 22, true); // cbSize
    new DataView(ext.buffer).setUint16(8, 3, true); // subformat GUID begins with the format tag
    const bytes = concat([riff(0, chunk("fmt ", fmtBody(0xfffe, 2, 48000, 32, ext)), chunk("data", new Uint8Array(0), 0xffffffff)), audio]);
    bytes.set(text("RF64"), 0);
    expect(readAll(bytes, [20]).format).toMatchObject({ formatTag: 3, encoding: "pcm_f32le", channels: 2, bitsPerSample: 32 });
  });

  it("refuses what isn't a WAV it can read", () => {
    expect(() => createWavReader().push(text("ID3\u0004\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000"))).toThrow(WavFormatError);
    expect(() => createWavReader().push(riff(100, chunk("data", audio)))).toThrow(/before its fmt/);
    expect(() => createWavReader().push(riff(100, chunk("fmt ", fmtBody(2, 1, 8000, 4))))).toThrow(/format 2/);
    expect(() => createWavReader().push(riff(100, chunk("fmt ", fmtBody(1, 1, 8000, 12))))).toThrow(/12 bits/);
  });
});

describe("sample decoding", () => {
  const frames = (bytes: number[], encoding: Parameters<typeof createSampleDecoder>[0], channels: number) => {
    const d = createSampleDecoder(encoding, channels);
    // One byte at a time: every sample straddles a chunk boundary.
    const out = bytes.flatMap((b) => Array.from(d.decode(Uint8Array.of(b))));
    return { out, held: d.heldBytes };
  };

  it("converts 24-bit, 32-bit, float, unsigned 8-bit and G.711 to s16", () => {
    expect(frames([0x00, 0x80, 0x12, 0xff, 0xff, 0x7f, 0x00, 0x00, 0x80], "pcm_s24le", 1).out).toEqual([0x1280, 32767, -32768]);
    expect(frames([0x00, 0x00, 0x34, 0x12, 0x00, 0x00, 0x00, 0x80], "pcm_s32le", 1).out).toEqual([0x1234, -32768]);
    const f = new DataView(new ArrayBuffer(16));
    for (const [i, x] of [0.5, -1, 1.5, -0.25].entries()) f.setFloat32(i * 4, x, true);
    expect(frames(Array.from(new Uint8Array(f.buffer)), "pcm_f32le", 1).out).toEqual([16384, -32768, 32767, -8192]);
    expect(frames([0, 128, 255], "pcm_u8", 1).out).toEqual([-32768, 0, 32512]);
    expect(frames([0xff, 0x80, 0xd5], "mulaw", 1).out).toEqual([0, 32124, 716]);
    expect(frames([0xd5, 0x2a], "alaw", 1).out).toEqual([8, -32256]);
  });

  it("downmixes stereo to mono and holds back a partial frame", () => {
    const { out, held } = frames([0xe8, 0x03, 0xb8, 0x0b, 0x18, 0xfc, 0x48, 0xf4, 0x01], "pcm_s16le", 2); // (1000,3000) (-1000,-3000) + 1 byte
    expect(out).toEqual([2000, -2000]);
    expect(held).toBe(1);
  });
});
