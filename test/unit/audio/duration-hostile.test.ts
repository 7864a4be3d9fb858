// measureAudio against a caller who forges headers to reserve less than the audio costs. Each forged
// file keeps the real audio of a fixture (2.500 s, from SoX) or of a WAV built here, so the expected
// length is known from what was encoded, not from the parser.
import { describe, expect, it } from "vitest";
import { measureAudio, sizeBoundSeconds } from "../../../src/audio/duration";
import { ENCODER_EXTRA_SECONDS, FIXTURE_SECONDS, find, fixture, makeWav, noise } from "./audio-files";

const realLength = (seconds: number) => {
  expect(seconds).toBeGreaterThanOrEqual(FIXTURE_SECONDS);
  expect(seconds).toBeLessThanOrEqual(FIXTURE_SECONDS + ENCODER_EXTRA_SECONDS);
};
const sizeBound = (bytes: Uint8Array) => sizeBoundSeconds(bytes.length);

describe("WAV headers that lie", () => {
  it("a data chunk claiming 1 s with 10 minutes after it: 10 minutes", async () => {
    const wav = makeWav({ sampleRate: 8000, channels: 1, bitsPerSample: 8, frames: 600 * 8000, declaredDataBytes: 8000 });
    expect(await measureAudio(wav, "audio/wav")).toEqual({ seconds: 600, source: "container", format: "wav" });
  });

  it("a data chunk claiming 10 hours with 1 s present: 1 s", async () => {
    const wav = makeWav({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames: 16000, declaredDataBytes: 36000 * 32000 });
    expect((await measureAudio(wav)).seconds).toBe(1);
  });

  it("a byte-rate field 100× too high changes nothing (decoders don't read it)", async () => {
    const wav = makeWav({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames: 32000, declaredByteRate: 3_200_000 });
    expect((await measureAudio(wav)).seconds).toBe(2);
  });

  it("a sample rate no transcription audio has (4 GHz) falls back to the size bound", async () => {
    const wav = makeWav({ sampleRate: 4_000_000_000, channels: 1, bitsPerSample: 8, frames: 10 * 1024 * 1024 });
    expect(await measureAudio(wav)).toEqual({ seconds: sizeBound(wav), source: "size_bound", format: "wav" });
  });

  it("a block size that disagrees with the sample layout falls back to the size bound", async () => {
    const wav = makeWav({ sampleRate: 8000, channels: 1, bitsPerSample: 16, frames: 8000 });
    new DataView(wav.buffer).setUint16(32, 64, true);
    expect((await measureAudio(wav)).source).toBe("size_bound");
  });
});

describe("MP3: frames are counted, Xing and ID3 claims ignored", () => {
  for (const frames of [1, 1_000_000]) {
    it(`a Xing header claiming ${frames} frames`, async () => {
      const mp3 = fixture("speech-16k-vbr.mp3");
      const xing = find(mp3, "Xing");
      expect(new DataView(mp3.buffer).getUint32(xing + 4) & 1).toBe(1); // the frames field is present
      new DataView(mp3.buffer).setUint32(xing + 8, frames);
      realLength((await measureAudio(mp3, "audio/mpeg")).seconds);
    });
  }

  it("junk spliced between frames does not hide the frames after it", async () => {
    const mp3 = fixture("speech-44k-cbr.mp3");
    const cut = Math.floor(mp3.length / 2);
    const spliced = new Uint8Array(mp3.length + 5000);
    spliced.set(mp3.subarray(0, cut));
    spliced.set(noise(5000), cut);
    spliced.set(mp3.subarray(cut), cut + 5000);
    realLength((await measureAudio(spliced)).seconds);
  });

  it("a stream cut in half: about half, and container-measured", async () => {
    const mp3 = fixture("speech-8k-cbr.mp3"); // CBR: bytes are proportional to time
    const half = await measureAudio(mp3.subarray(0, mp3.length / 2));
    expect(half.source).toBe("container");
    expect(half.seconds).toBeGreaterThan(FIXTURE_SECONDS / 2 - 0.2);
    expect(half.seconds).toBeLessThan(FIXTURE_SECONDS / 2 + 0.3);
  });
});

describe("FLAC: frames are counted, STREAMINFO's total is a claim", () => {
  for (const total of [0, 1]) {
    it(`STREAMINFO total samples forged to ${total}`, async () => {
      const flac = fixture("speech.flac");
      const at = find(flac, "fLaC") + 8 + 13; // STREAMINFO: the 36-bit total starts in the low nibble of byte 13
      flac.set([flac[at]! & 0xf0, 0, 0, 0, total], at);
      realLength((await measureAudio(flac, "audio/flac")).seconds);
    });
  }

  it("a truncated file: less than the whole, more than nothing", async () => {
    const flac = fixture("speech.flac");
    const measured = await measureAudio(flac.subarray(0, Math.floor(flac.length * 0.6)));
    expect(measured.source).toBe("container");
    expect(measured.seconds).toBeGreaterThan(0.5);
    expect(measured.seconds).toBeLessThanOrEqual(FIXTURE_SECONDS);
  });
});

describe("Ogg, WebM and MP4 claims", () => {
  it("Ogg Opus: a last granule position forged to 0.01 s changes nothing (packets are counted)", async () => {
    const ogg = fixture("speech.opus");
    new DataView(ogg.buffer).setBigInt64(find(ogg, "OggS", true) + 6, 480n, true);
    realLength((await measureAudio(ogg, "audio/ogg")).seconds);
  });

  it("Ogg Vorbis: every granule position forged to 1 ms changes nothing (packets are counted by mode)", async () => {
    const ogg = fixture("speech-vorbis.ogg");
    for (let at = indexFrom(ogg, "OggS", 0); at >= 0; at = indexFrom(ogg, "OggS", at + 4)) {
      new DataView(ogg.buffer).setBigInt64(at + 6, 16n, true);
    }
    realLength((await measureAudio(ogg)).seconds);
  });

  for (const name of ["speech.webm", "speech-vorbis.webm", "speech-aac.mkv.webm", "speech-mp3.mkv.webm", "speech-pcm.mkv.webm"] as const) {
    it(`${name}: a Segment Duration forged to 1 ms changes nothing (its blocks are counted)`, async () => {
      const webm = fixture(name);
      forgeMatroskaDuration(webm, 1);
      realLength((await measureAudio(webm)).seconds);
    });
  }

  it("a WebM or Ogg upload cut short: the packets present, still measured", async () => {
    for (const name of ["speech-live.webm", "speech.opus", "speech-vorbis.webm"] as const) {
      const whole = fixture(name);
      const cut = await measureAudio(whole.subarray(0, Math.floor(whole.length * 0.6)));
      expect(cut).toMatchObject({ source: "container" });
      expect(cut.seconds).toBeGreaterThan(0.5);
      expect(cut.seconds).toBeLessThan(FIXTURE_SECONDS);
    }
  });

  for (const name of ["speech-flac.mkv.webm", "speech-mp3-zlib.mkv.webm"] as const) {
    it(`${name} (frames not counted): a Duration forged to 1 ms is implausible for its bytes → size bound`, async () => {
      const mka = fixture(name);
      forgeMatroskaDuration(mka, 1);
      expect(await measureAudio(mka)).toEqual({ seconds: sizeBound(mka), source: "size_bound", format: "webm" });
    });
  }

  it("M4A: an mvhd duration forged to 1 tick changes nothing (the sample table is read)", async () => {
    const m4a = fixture("speech.m4a");
    new DataView(m4a.buffer).setUint32(find(m4a, "mvhd") + 4 + 16, 1);
    realLength((await measureAudio(m4a)).seconds);
  });

  it("AAC in M4A: sample durations and timescale forged change nothing (access units × 1024 at the esds rate)", async () => {
    const m4a = fixture("speech.m4a");
    forgeSampleDurations(m4a);
    new DataView(m4a.buffer).setUint32(find(m4a, "mdhd") + 4 + 12, 1_000_000);
    realLength((await measureAudio(m4a)).seconds);
  });

  for (const name of ["speech-opus.mp4", "speech-mp3.mp4"] as const) {
    it(`${name}: sample durations and timescale forged change nothing (each sample's own header is read)`, async () => {
      const mp4 = fixture(name);
      forgeSampleDurations(mp4);
      new DataView(mp4.buffer).setUint32(find(mp4, "mdhd") + 4 + 12, 1_000_000);
      realLength((await measureAudio(mp4)).seconds);
    });
  }

  it("fragmented Opus MP4: every trun sample duration forged to 1 tick changes nothing", async () => {
    const mp4 = fixture("speech-opus-fragmented.mp4");
    const v = new DataView(mp4.buffer);
    let forged = 0;
    for (let at = indexFrom(mp4, "trun", 0) + 4; at >= 4; at = indexFrom(mp4, "trun", at) + 4) {
      const flags = v.getUint32(at) & 0xffffff;
      const fields = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length;
      let o = at + 8 + (flags & 0x1 ? 4 : 0) + (flags & 0x4 ? 4 : 0);
      expect(flags & 0x100).toBe(0x100); // ffmpeg writes each sample's duration
      for (let s = 0; s < v.getUint32(at + 4); s++, o += fields * 4, forged++) v.setUint32(o, 1);
    }
    expect(forged).toBe(126);
    realLength((await measureAudio(mp4)).seconds);
  });

  it("FLAC in MP4 (not counted): sample durations forged to 1 tick are implausible for the bytes → size bound", async () => {
    const mp4 = fixture("speech-flac.mp4");
    forgeSampleDurations(mp4);
    expect(await measureAudio(mp4)).toEqual({ seconds: sizeBound(mp4), source: "size_bound", format: "mp4" });
  });

  it("M4A cut before its moov box (the index is at the end) → size bound", async () => {
    const m4a = fixture("speech.m4a").subarray(0, find(fixture("speech.m4a"), "moov") - 4);
    expect(await measureAudio(m4a)).toEqual({ seconds: sizeBound(m4a), source: "size_bound", format: "mp4" });
  });
});

describe("not audio", () => {
  it("random bytes → size bound", async () => {
    const bytes = noise(1024 * 1024);
    expect(await measureAudio(bytes, "audio/mpeg")).toEqual({ seconds: sizeBound(bytes), source: "size_bound" });
  });

  it("an empty blob → 0 s by the size bound", async () => {
    expect(await measureAudio(new Blob([]))).toEqual({ seconds: 0, source: "size_bound" });
  });

  it("20 MiB of zeros → size bound", async () => {
    const zeros = new Uint8Array(20 * 1024 * 1024);
    expect(await measureAudio(new Blob([zeros]))).toEqual({ seconds: sizeBound(zeros), source: "size_bound" });
  });

  it("a WAV labelled audio/mpeg → size bound (a provider trusting the label could decode other audio)", async () => {
    const wav = makeWav({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames: 16000 });
    expect(await measureAudio(wav, "audio/mpeg")).toEqual({ seconds: sizeBound(wav), source: "size_bound", format: "wav" });
    expect((await measureAudio(wav, "audio/x-wav; codecs=1")).source).toBe("container");
  });
});

/** Segment Info's Duration (an 8-byte float in TimestampScale units, ms by default) set to `value`. */
function forgeMatroskaDuration(mkv: Uint8Array, value: number): void {
  new DataView(mkv.buffer).setFloat64(findBytes(mkv, [0x44, 0x89, 0x88]) + 3, value);
}

/** Every stts entry's sample duration set to 1 tick. */
function forgeSampleDurations(mp4: Uint8Array): void {
  const v = new DataView(mp4.buffer);
  const stts = find(mp4, "stts") + 4;
  for (let e = 0; e < v.getUint32(stts + 4); e++) v.setUint32(stts + 8 + e * 8 + 4, 1);
}

function indexFrom(b: Uint8Array, marker: string, from: number): number {
  try {
    return find(b.subarray(from), marker) + from;
  } catch {
    return -1;
  }
}

function findBytes(b: Uint8Array, bytes: number[]): number {
  for (let i = 0; i + bytes.length <= b.length; i++) if (bytes.every((x, k) => b[i + k] === x)) return i;
  throw new Error("bytes not found");
}
