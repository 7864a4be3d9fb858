// End to end through createTranscoder, pure: synthesised audio in, odd-sized chunks, the output decoded
// with the G.711 decoders and measured. Also the first-byte behaviour and a timing log line.
import { describe, expect, it } from "vitest";
import { alawDecode, alawEncode, mulawDecode, mulawEncode } from "../../../src/audio/g711";
import { contentTypeFor, createTranscoder, type TranscodeSource, WavFormatError } from "../../../src/audio/transcode";
import { createWavReader, wavHeader } from "../../../src/audio/wav";
import {
  concat,
  dB,
  fromS16le,
  oddChunks,
  runSteps,
  sine,
  toneAmplitude,
  toS16le,
  zeroCrossingFrequency,
} from "../../helpers/audio-signal";
import { nth } from "../../helpers/items";

const raw = (encoding: "pcm_s16le" | "mulaw" | "alaw", sampleRate: number): TranscodeSource => ({ container: "raw", encoding, sampleRate });
const middleSecond = (s: Int16Array, rate: number) => s.subarray(rate / 2, rate / 2 + rate);

function expectTone(samples: Int16Array, rate: number, frequency: number, amplitude: number, toleranceDb: number) {
  const mid = middleSecond(samples, rate);
  expect(zeroCrossingFrequency(mid, rate)).toBeCloseTo(frequency, 0);
  expect(Math.abs(dB(toneAmplitude(mid, rate, frequency) / amplitude))).toBeLessThan(toleranceDb);
}

describe("transcoding", () => {
  it("24 kHz s16 → 8 kHz µ-law in odd chunks keeps the tone", () => {
    const bytes = toS16le(sine(24000, 1000, 3, 8000));
    const out = runSteps(createTranscoder(raw("pcm_s16le", 24000), { format: "ulaw", sampleRate: 8000 }), oddChunks(bytes, 7));
    expect(out).toHaveLength(3 * 8000);
    expectTone(mulawDecode(out), 8000, 1000, 8000, 0.1);
  });

  it("8 kHz µ-law → 24 kHz pcm, and 8 kHz A-law → 48 kHz wav, keep the tone", () => {
    const tone = sine(8000, 440, 3, 12000);
    const pcm = runSteps(createTranscoder(raw("mulaw", 8000), { format: "pcm", sampleRate: 24000 }), oddChunks(mulawEncode(tone), 3));
    expect(pcm).toHaveLength(3 * 24000 * 2);
    expectTone(fromS16le(pcm), 24000, 440, 12000, 0.1);

    const wav = runSteps(createTranscoder(raw("alaw", 8000), { format: "wav", sampleRate: 48000 }), oddChunks(alawEncode(tone), 4));
    const reader = createWavReader();
    const samples = fromS16le(reader.push(wav)!);
    expect(reader.format).toMatchObject({ encoding: "pcm_s16le", sampleRate: 48000, channels: 1, dataBytes: undefined });
    expect(samples).toHaveLength(3 * 48000);
    expectTone(samples, 48000, 440, 12000, 0.1);
  });

  it("streamed WAV (44.1 kHz stereo, 24-bit) → 8 kHz A-law, header split anywhere", () => {
    const left = sine(44100, 600, 2, 20000);
    const right = sine(44100, 600, 2, 10000);
    const body = new Uint8Array(left.length * 6);
    const view = new DataView(body.buffer);
    for (let i = 0; i < left.length; i++) {
      view.setInt16(i * 6 + 1, left[i]!, true); // 24-bit = the 16-bit value shifted up a byte
      view.setInt16(i * 6 + 4, right[i]!, true);
    }
    const head = wavHeader({ encoding: "pcm_s16le", sampleRate: 44100, channels: 2 });
    const hv = new DataView(head.buffer);
    hv.setUint32(28, 44100 * 6, true);
    hv.setUint16(32, 6, true);
    hv.setUint16(34, 24, true);
    const out = runSteps(
      createTranscoder({ container: "wav" }, { format: "alaw", sampleRate: 8000 }),
      oddChunks(concat([head, body]), 11, 41),
    );
    expect(out).toHaveLength(2 * 8000);
    expectTone(alawDecode(out), 8000, 600, 15000, 0.15); // the mean of both channels
  });

  it("gives the same bytes whatever the chunking, from WAV too", () => {
    const bytes = concat([wavHeader({ encoding: "pcm_s16le", sampleRate: 48000 }), toS16le(sine(48000, 300, 0.5, 9000))]);
    const target = { format: "ulaw", sampleRate: 16000 } as const;
    const once = runSteps(createTranscoder({ container: "wav" }, target), [bytes]);
    for (const seed of [5, 6]) expect(runSteps(createTranscoder({ container: "wav" }, target), oddChunks(bytes, seed, 63))).toEqual(once);
  });

  it("passes through what is already in the target's encoding and rate", () => {
    const t = createTranscoder(raw("mulaw", 8000), { format: "ulaw", sampleRate: 8000 });
    const chunk = Uint8Array.of(1, 2, 3);
    expect(t.push(chunk)).toBe(chunk);
    expect(t.push(new Uint8Array(0))).toBeUndefined();
    expect(t.end()).toBeUndefined();
    expect(() => t.push(chunk)).toThrow();
  });

  it("sends a WAV header with the first audio, never alone before it", () => {
    const t = createTranscoder({ container: "wav" }, { format: "wav", sampleRate: 16000 });
    expect(t.push(wavHeader({ encoding: "pcm_s16le", sampleRate: 16000 }))).toBeUndefined();
    const first = t.push(toS16le(Int16Array.of(100, 200)))!;
    expect(first.length).toBe(44 + 4);
    expect(fromS16le(first.subarray(44))).toEqual(Int16Array.of(100, 200));
    // An answer with no audio at all is still a valid (empty) WAV.
    expect(createTranscoder(raw("pcm_s16le", 24000), { format: "wav", sampleRate: 8000 }).end()).toHaveLength(44);
    expect(createTranscoder(raw("pcm_s16le", 24000), { format: "ulaw", sampleRate: 8000 }).end()).toBeUndefined();
  });

  it("fails a WAV stream that ends inside its header", () => {
    const t = createTranscoder({ container: "wav" }, { format: "pcm", sampleRate: 8000 });
    expect(t.push(wavHeader({ encoding: "pcm_s16le", sampleRate: 8000 }).subarray(0, 30))).toBeUndefined();
    expect(() => t.end()).toThrow(WavFormatError);
  });

  it("emits its first byte as soon as the filter's look-ahead has arrived, and logs the cost", async () => {
    // 24 kHz → 8 kHz: the filter reaches 24 samples at 8 kHz ahead = 72 input samples, so the first output
    // sample (at time 0) is due with the 73rd input sample, byte 146.
    const bytes = toS16le(sine(24000, 1000, 0.01, 8000));
    const t = createTranscoder(raw("pcm_s16le", 24000), { format: "ulaw", sampleRate: 8000 });
    let firstAt = -1;
    for (let i = 0; i < bytes.length && firstAt < 0; i++) if (t.push(bytes.subarray(i, i + 1))) firstAt = i + 1;
    expect(firstAt).toBe(146);

    // Timing, logged not asserted (workerd's clock only moves across I/O, hence the waits).
    const tenSeconds = toS16le(sine(24000, 1000, 10, 8000));
    const chunks = Array.from({ length: Math.ceil(tenSeconds.length / 4096) }, (_, i) => tenSeconds.subarray(i * 4096, (i + 1) * 4096));
    const tick = () => new Promise((r) => setTimeout(r, 0));
    await tick();
    const t0 = Date.now();
    const out = runSteps(createTranscoder(raw("pcm_s16le", 24000), { format: "ulaw", sampleRate: 8000 }), chunks);
    await tick();
    const elapsed = Date.now() - t0;
    await tick();
    const t1 = Date.now();
    const first = createTranscoder(raw("pcm_s16le", 24000), { format: "ulaw", sampleRate: 8000 }).push(nth(chunks, 0, "chunk"));
    await tick();
    console.log(
      `transcode 10 s of 24 kHz s16 → 8 kHz µ-law in 4 KiB chunks: ${elapsed} ms (${out.length} bytes out); ` +
        `first push of 4096 bytes → ${first?.length} bytes out in ${Date.now() - t1} ms; first byte needs 146 input bytes`,
    );
    expect(out).toHaveLength(80000);
  });

  it("names each target's content type", () => {
    expect(["pcm", "wav", "ulaw", "alaw"].map((format) => contentTypeFor({ format: format as "pcm", sampleRate: 8000 }))).toEqual([
      "audio/pcm",
      "audio/wav",
      "audio/basic",
      "audio/x-alaw-basic",
    ]);
    expect(contentTypeFor({ format: "ulaw", sampleRate: 16000 })).toBe("audio/x-mulaw");
  });
});
