// Planning a speech format from an adapter's declared outputs, and the converting decoder: native,
// converted or refused; the first converted bytes leave with the provider's first chunk.
import { describe, expect, it } from "vitest";
import { audioDecoder } from "../../../src/gateway/decoders";
import { converting, modelAudioSource, planSpeech, speechContentType } from "../../../src/gateway/speech-output";
import { huggingface } from "../../../src/providers/huggingface";
import { openai } from "../../../src/providers/openai";
import { PROVIDERS } from "../../../src/providers/registry";
import { resembleai } from "../../../src/providers/resembleai";
import { sine, toS16le } from "../../helpers/audio-signal";
// @ts-expect-error plain JS module shared with the mock server
import { linearFromUlaw } from "../../mocks/tone.mjs";

describe("planSpeech", () => {
  it("no format: mp3, natively", () => {
    expect(planSpeech(openai.tts!, undefined, undefined)).toEqual({
      kind: "native",
      format: "mp3",
      sampleRate: undefined,
      contentType: "audio/mpeg",
    });
  });

  it("pcm without a rate is 24 kHz from everyone: native where offered, else converted", () => {
    expect(planSpeech(openai.tts!, "pcm", undefined)).toMatchObject({ kind: "native", sampleRate: 24000 });
    expect(planSpeech(resembleai.tts!, "pcm", undefined)).toMatchObject({
      kind: "convert",
      ask: { format: "wav", sampleRate: 32000 },
      target: { format: "pcm", sampleRate: 24000 },
      contentType: "audio/pcm",
    });
  });

  it("mp3/opus/aac/flac only where produced; a rate no one offers is refused", () => {
    expect(planSpeech(resembleai.tts!, "opus", undefined).kind).toBe("unsupported");
    expect(planSpeech(openai.tts!, "mp3", 44100).kind).toBe("unsupported");
    expect(planSpeech(openai.tts!, "ulaw", 11025).kind).toBe("unsupported");
  });

  it("a model that chooses its format: as it comes without a format; WAV-sourced conversion with one", () => {
    const tts = huggingface.tts!;
    expect(planSpeech(tts, undefined, undefined)).toEqual({ kind: "as-is" });
    expect(planSpeech(tts, undefined, 16000).kind).toBe("unsupported");
    expect(planSpeech(tts, "mp3", undefined).kind).toBe("unsupported");
    // The source is read from the answer's content type (modelAudioSource).
    expect(planSpeech(tts, "ulaw", undefined)).toEqual({
      kind: "convert",
      ask: undefined,
      source: undefined,
      target: { format: "ulaw", sampleRate: 8000 },
      contentType: "audio/basic",
    });
    // wav without a rate: at the model's own rate.
    expect(planSpeech(tts, "wav", undefined)).toMatchObject({ kind: "convert", target: { format: "wav", sampleRate: undefined } });
    expect(modelAudioSource("audio/x-wav")).toEqual({ container: "wav" });
    expect(modelAudioSource("audio/flac; charset=binary")).toEqual({ container: "flac" });
    expect(modelAudioSource("audio/mpeg")).toBeUndefined();
    expect(planSpeech(tts, "alaw", 12000).kind).toBe("unsupported");
  });

  it("content types: µ-law is audio/basic only at 8 kHz", () => {
    expect(speechContentType("ulaw", 8000)).toBe("audio/basic");
    expect(speechContentType("ulaw", 16000)).toBe("audio/x-mulaw");
    expect(speechContentType("alaw", 8000)).toBe("audio/x-alaw-basic");
    expect(speechContentType("flac", undefined)).toBe("audio/flac");
  });

  it("every output an adapter declares is one it can be asked for", () => {
    for (const tts of PROVIDERS.flatMap((p) => (p.tts ? [p.tts] : []))) {
      for (const o of tts.outputs) {
        for (const rate of o.sampleRates) {
          expect(() =>
            tts.request(
              { text: "x", voiceId: "v", model: "m", format: o.format, sampleRate: rate },
              { urls: { api: "https://x" }, key: "k" },
            ),
          ).not.toThrow();
        }
      }
    }
  });
});

describe("converting (decoder → transcoder)", () => {
  it("SSE base64 24 kHz pcm → 8 kHz µ-law: bytes for the first event already, the tone intact at the end", () => {
    const tone = sine(24000, 440, 0.5, 12000);
    const pcm = toS16le(tone);
    const events = [pcm.subarray(0, 3000), pcm.subarray(3000, 15001), pcm.subarray(15001)].map((b) =>
      new TextEncoder().encode(`data: ${JSON.stringify({ type: "chunk", data: btoa(String.fromCharCode(...b)) })}\n\n`),
    );
    const decoder = converting(
      audioDecoder({ kind: "sse", audioOf: (p) => p.data }),
      { container: "raw", encoding: "pcm_s16le", sampleRate: 24000 },
      { format: "ulaw", sampleRate: 8000 },
    );
    const out = events.map((e) => decoder.chunk(e));
    expect(out[0]?.byteLength).toBeGreaterThan(0); // the first event converts at once
    const all = [...out, decoder.end()].filter((b): b is Uint8Array => b !== undefined);
    const codes = new Uint8Array(all.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of all) {
      codes.set(b, at);
      at += b.length;
    }
    expect(codes.length).toBe(4000); // 0.5 s at 8 kHz, exactly
    const samples = Int16Array.from(codes, linearFromUlaw);
    expect(Math.max(...samples.subarray(1000, 3000))).toBeGreaterThan(11000);
  });
});
