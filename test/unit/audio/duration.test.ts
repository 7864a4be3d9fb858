// measureAudio on real audio, in workerd: every fixture's expected length is the 2.500 s SoX cut
// before encoding (test/fixtures/audio/README.md), and every WAV's is the samples written here.
import { describe, expect, it } from "vitest";
import { plausible } from "../../../src/audio/containers/reading";
import {
  fileNameFor,
  LOSSY_MAX_BITS_PER_SECOND,
  measureAudio,
  SIZE_BOUND_BITS_PER_SECOND,
  sizeBoundSeconds,
} from "../../../src/audio/duration";
import { ENCODER_EXTRA_SECONDS, FIXTURE_SECONDS, FIXTURES, type FixtureName, fixture, makeWav, PLAIN_MP3_SECONDS } from "./audio-files";

describe("measureAudio reads each container's real duration", () => {
  for (const name of Object.keys(FIXTURES) as FixtureName[]) {
    it(`${name}: the encoded 2.5 s, never less`, async () => {
      const { format, type } = FIXTURES[name];
      const measured = await measureAudio(fixture(name), type);
      expect(measured).toMatchObject({ source: "container", format });
      expect(measured.seconds).toBeGreaterThanOrEqual(FIXTURE_SECONDS);
      expect(measured.seconds).toBeLessThanOrEqual(FIXTURE_SECONDS + ENCODER_EXTRA_SECONDS);
    });
  }

  it("reads a Blob as it reads its bytes", async () => {
    const bytes = fixture("speech.opus");
    const fromBlob = await measureAudio(new Blob([bytes], { type: "audio/ogg" }), "audio/ogg");
    expect(fromBlob).toEqual(await measureAudio(bytes, "audio/ogg"));
    expect(fromBlob.source).toBe("container");
  });

  it("needs no content type", async () => {
    expect((await measureAudio(fixture("speech.m4a"))).source).toBe("container");
    expect((await measureAudio(fixture("speech.flac"), "application/octet-stream")).source).toBe("container");
  });

  it("counts every frame of a 25 MiB MP3 (2,600 copies of a bare 97-frame stream)", async () => {
    const plain = fixture("speech-44k-plain.mp3");
    const copies = Math.ceil((25 * 1024 * 1024) / plain.length);
    const big = new Uint8Array(plain.length * copies);
    for (let k = 0; k < copies; k++) big.set(plain, k * plain.length);
    const measured = await measureAudio(big, "audio/mpeg");
    expect(measured.source).toBe("container");
    expect(measured.seconds).toBeCloseTo(copies * PLAIN_MP3_SECONDS, 3);
  });
});

describe("WAV: the bytes present at the format's rate", () => {
  it("16 kHz mono 16-bit, 3 s", async () => {
    const wav = makeWav({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames: 48000 });
    expect(await measureAudio(wav, "audio/wav")).toEqual({ seconds: 3, source: "container", format: "wav" });
  });

  it("48 kHz stereo 32-bit float, 1.5 s", async () => {
    const wav = makeWav({ sampleRate: 48000, channels: 2, bitsPerSample: 32, formatTag: 3, frames: 72000 });
    expect((await measureAudio(wav)).seconds).toBe(1.5);
  });

  it("8 kHz μ-law and 22.05 kHz 24-bit WAVE_FORMAT_EXTENSIBLE", async () => {
    const ulaw = makeWav({ sampleRate: 8000, channels: 1, bitsPerSample: 8, formatTag: 7, frames: 20000 });
    expect((await measureAudio(ulaw)).seconds).toBe(2.5);
    const ext = makeWav({ sampleRate: 22050, channels: 2, bitsPerSample: 24, frames: 44100, extensible: true });
    expect(await measureAudio(ext)).toMatchObject({ seconds: 2, source: "container" });
  });

  it("skips chunks before the data (LIST, fact, odd-sized and padded)", async () => {
    const list = new TextEncoder().encode("INFOISFT\x0d\x00\x00\x00Lavf59.27.100\x00");
    const wav = makeWav({
      sampleRate: 16000,
      channels: 1,
      bitsPerSample: 16,
      frames: 16000,
      chunksBefore: [
        ["LIST", list],
        ["fact", new Uint8Array(4)],
        ["junk", new Uint8Array(3)],
      ],
    });
    expect((await measureAudio(wav)).seconds).toBe(1);
  });

  it("a header-only WAV (no audio in it) gets the size bound: a reservation is never 0", async () => {
    const wav = makeWav({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames: 0 });
    const measured = await measureAudio(wav);
    expect(measured).toEqual({ seconds: sizeBoundSeconds(wav.length), source: "size_bound", format: "wav" });
    expect(measured.seconds).toBeGreaterThan(0);
  });

  it("a compressed WAV (IMA ADPCM) gets the size bound: its blocks aren't counted", async () => {
    const wav = makeWav({ sampleRate: 8000, channels: 1, bitsPerSample: 4, formatTag: 0x11, frames: 8000 });
    expect(await measureAudio(wav)).toEqual({ seconds: sizeBoundSeconds(wav.length), source: "size_bound", format: "wav" });
  });
});

describe("the size bound", () => {
  it("is bytes × 8 at the lowest speech bitrate, with no ceiling", () => {
    expect(SIZE_BOUND_BITS_PER_SECOND).toBeLessThanOrEqual(2_150); // Speex's lowest mode, the lowest codec named
    expect(sizeBoundSeconds(2_000_000)).toBe(8_000);
    expect(sizeBoundSeconds(25 * 1024 * 1024)).toBeGreaterThan(600);
  });

  it("the plausibility rule: 10 MiB claiming 1 s is not believed, claiming 160 s (at 512 kbit/s) is", () => {
    const tenMiB = 10 * 1024 * 1024;
    expect(plausible(1, tenMiB, 512_000)).toBeNull();
    expect(plausible(164, tenMiB, 512_000)).toBe(164);
    expect(plausible(Number.NaN, 1000, LOSSY_MAX_BITS_PER_SECOND)).toBeNull();
    expect(plausible(0, 0, LOSSY_MAX_BITS_PER_SECOND)).toBe(0); // no audio bytes, no audio
  });

  it("is never below any fixture's real length (the bound over-reserves every real file)", () => {
    for (const name of Object.keys(FIXTURES) as FixtureName[]) {
      expect(sizeBoundSeconds(FIXTURES[name].bytes.length)).toBeGreaterThan(FIXTURE_SECONDS + ENCODER_EXTRA_SECONDS);
    }
  });
});

describe("the file name an upload goes out under (OpenAI and Groq read the format from it)", () => {
  it("gets the extension of the container its bytes are, keeps one that already names it, and is left alone when unknown", () => {
    expect(fileNameFor("audio", "wav")).toBe("audio.wav");
    expect(fileNameFor("blob", "webm")).toBe("blob.webm");
    expect(fileNameFor("PTT-0001.opus", "ogg")).toBe("PTT-0001.ogg");
    expect(fileNameFor("clip.bin", "mp3")).toBe("clip.mp3");
    expect(fileNameFor("talk.M4A", "mp4")).toBe("talk.M4A");
    expect(fileNameFor("note.oga", "ogg")).toBe("note.oga");
    expect(fileNameFor("song.mpga", "mp3")).toBe("song.mpga");
    expect(fileNameFor("", "flac")).toBe("audio.flac");
    expect(fileNameFor("clip.bin", undefined)).toBe("clip.bin");
  });
});
