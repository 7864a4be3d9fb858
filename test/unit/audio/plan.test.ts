// Choosing native output or edge conversion, for provider capability lists shaped like the real ones.
import { describe, expect, it } from "vitest";
import { type NativeOutput, planSpeechOutput } from "../../../src/audio/plan";

// Shapes from reference/providers.md: ElevenLabs (pcm at many rates, ulaw/alaw at 8 kHz), OpenAI (24 kHz
// only), Resemble (WAV only).
const elevenlabs: NativeOutput[] = [
  { format: "mp3", sampleRates: [22050, 24000, 44100] },
  { format: "pcm", sampleRates: [8000, 16000, 22050, 24000, 32000, 44100, 48000] },
  { format: "ulaw", sampleRates: [8000] },
  { format: "alaw", sampleRates: [8000] },
];
const openai: NativeOutput[] = [
  { format: "mp3", sampleRates: [24000] },
  { format: "opus", sampleRates: [24000] },
  { format: "wav", sampleRates: [24000] },
  { format: "pcm", sampleRates: [24000] },
];
const resemble: NativeOutput[] = [
  { format: "wav", sampleRates: [8000, 16000, 22050, 32000, 44100, 48000] },
  { format: "mp3", sampleRates: [22050, 44100] },
];

describe("planSpeechOutput", () => {
  it("uses the provider's own format when it has it at that rate (or no rate was named)", () => {
    expect(planSpeechOutput(elevenlabs, { format: "ulaw", sampleRate: 8000 })).toEqual({
      kind: "native",
      format: "ulaw",
      sampleRate: 8000,
    });
    expect(planSpeechOutput(openai, { format: "mp3" })).toEqual({ kind: "native", format: "mp3", sampleRate: undefined });
  });

  it("converts G.711 from PCM at the same rate when it can", () => {
    expect(planSpeechOutput(elevenlabs, { format: "ulaw", sampleRate: 16000 })).toEqual({
      kind: "convert",
      ask: { format: "pcm", sampleRate: 16000 },
      source: { container: "raw", encoding: "pcm_s16le", sampleRate: 16000 },
      target: { format: "ulaw", sampleRate: 16000 },
    });
  });

  it("resamples from the nearest rate above, else the nearest below", () => {
    expect(planSpeechOutput(openai, { format: "ulaw" })).toMatchObject({
      ask: { format: "pcm", sampleRate: 24000 },
      target: { format: "ulaw", sampleRate: 8000 },
    });
    expect(planSpeechOutput(openai, { format: "pcm", sampleRate: 48000 })).toMatchObject({
      ask: { format: "pcm", sampleRate: 24000 },
      target: { sampleRate: 48000 },
    });
    expect(planSpeechOutput(resemble, { format: "alaw", sampleRate: 24000 })).toMatchObject({
      ask: { format: "wav", sampleRate: 32000 },
      source: { container: "wav" },
      target: { format: "alaw", sampleRate: 24000 },
    });
  });

  it("prefers raw PCM to WAV at the same rate, and frames WAV from PCM", () => {
    expect(planSpeechOutput(openai, { format: "alaw", sampleRate: 24000 })).toMatchObject({ ask: { format: "pcm", sampleRate: 24000 } });
    expect(planSpeechOutput(elevenlabs, { format: "wav", sampleRate: 22050 })).toMatchObject({
      ask: { format: "pcm", sampleRate: 22050 },
      target: { format: "wav", sampleRate: 22050 },
    });
  });

  it("refuses what can't be converted", () => {
    expect(planSpeechOutput(resemble, { format: "opus" }).kind).toBe("unsupported");
    expect(planSpeechOutput(elevenlabs, { format: "mp3", sampleRate: 8000 }).kind).toBe("unsupported");
    expect(planSpeechOutput(elevenlabs, { format: "pcm", sampleRate: 11025 }).kind).toBe("unsupported");
    expect(planSpeechOutput([{ format: "mp3", sampleRates: [44100] }], { format: "ulaw" }).kind).toBe("unsupported");
  });
});
