// One adapter on its own: what ElevenLabs gets asked and how its answers are read (no network).
import { describe, expect, it } from "vitest";
import { planSpeech } from "../../../src/gateway/speech-output";
import { elevenlabs } from "../../../src/providers/elevenlabs";

const ctx = { urls: { api: "https://eleven.test" }, key: "xi-secret" };

describe("ElevenLabs adapter", () => {
  it("speech: the voice in the path, the format in the query, the key in xi-api-key, text and model in the body", () => {
    const { upstream, envelope } = elevenlabs.tts!.request(
      { text: "Hello", voiceId: "v1", model: "eleven_flash_v2_5", format: "pcm", sampleRate: 16000 },
      ctx,
    );
    expect(upstream.url).toBe("https://eleven.test/v1/text-to-speech/v1/stream?output_format=pcm_16000");
    expect(upstream.init.method).toBe("POST");
    expect(upstream.init.headers["xi-api-key"]).toBe("xi-secret");
    expect(JSON.parse(upstream.init.body as string)).toEqual({ text: "Hello", model_id: "eleven_flash_v2_5" });
    expect(envelope).toEqual({ kind: "raw" });
  });

  it("speech formats: mp3 by rate, μ-law and A-law natively only at 8 kHz, wav made from its pcm", () => {
    const tts = elevenlabs.tts!;
    const url = (format: "mp3" | "ulaw" | "alaw", sampleRate?: number) =>
      tts.request({ text: "x", voiceId: "v", model: "m", format, sampleRate }, ctx).upstream.url;
    expect(url("mp3")).toMatch(/output_format=mp3_44100_128$/);
    expect(url("mp3", 22050)).toMatch(/output_format=mp3_22050_32$/);
    expect(url("ulaw")).toMatch(/output_format=ulaw_8000$/);
    expect(url("alaw")).toMatch(/output_format=alaw_8000$/);
    expect(planSpeech(tts, "ulaw", 8000)).toMatchObject({ kind: "native", contentType: "audio/basic" });
    expect(planSpeech(tts, "ulaw", 16000)).toMatchObject({ kind: "convert", ask: { format: "pcm", sampleRate: 16000 } });
    // The spec's output_format has no wav_*: WAV is framed here from pcm.
    expect(planSpeech(tts, "wav", undefined)).toMatchObject({ kind: "convert", ask: { format: "pcm", sampleRate: 24000 } });
  });

  it("transcription: words without spacing, the duration it reports (else none: the gateway charges the measured length)", () => {
    const stt = elevenlabs.stt!;
    const body = {
      language_code: "en",
      text: "hi there",
      words: [
        { text: "hi", start: 0, end: 0.4, type: "word" },
        { text: " ", start: 0.4, end: 0.5, type: "spacing" },
        { text: "there", start: 0.5, end: 1.2, type: "word" },
      ],
    };
    const input = { model: "scribe_v1", audio: { data: new Blob(["x"]), filename: "a.wav", contentType: "audio/wav" } };
    expect(stt.parse({ ...body, audio_duration_secs: 3.5 }, input)).toMatchObject({
      text: "hi there",
      durationSeconds: 3.5,
      language: "en",
    });
    // The last word ends at 1.2 s; the audio may run on (silence is billed too): that is no duration.
    expect(stt.parse(body, input)).toEqual({
      text: "hi there",
      durationSeconds: undefined,
      language: "en",
      words: [
        { word: "hi", start: 0, end: 0.4 },
        { word: "there", start: 0.5, end: 1.2 },
      ],
    });
  });

  it("errors: the message in detail, whether detail is a string or an object", () => {
    expect(elevenlabs.errorMessage(401, JSON.stringify({ detail: { status: "invalid_api_key", message: "Invalid API key" } }))).toBe(
      "Invalid API key",
    );
    expect(elevenlabs.errorMessage(400, JSON.stringify({ detail: "voice not found" }))).toBe("voice not found");
    expect(elevenlabs.errorMessage(500, "<html>oops</html>")).toBeUndefined();
  });

  it("the key check: a valid key without user_read answers 401 missing_permissions, and counts as valid", () => {
    const check = elevenlabs.verify(ctx);
    expect(check.upstream.url).toBe("https://eleven.test/v1/user");
    expect(check.valid(200, "{}")).toBe(true);
    expect(check.valid(401, JSON.stringify({ detail: { status: "missing_permissions" } }))).toBe(true);
    expect(check.valid(401, JSON.stringify({ detail: { status: "invalid_api_key" } }))).toBe(false);
  });
});
