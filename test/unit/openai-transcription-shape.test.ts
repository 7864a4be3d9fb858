// The OpenAI-compatible transcription's answers against OpenAI's own spec (API.md §4: the official SDK
// works unchanged): verbose_json validates as CreateTranscriptionResponseVerboseJson for every STT provider
// — Whisper's segment details passed on where the provider gives them (OpenAI, Groq), documented neutral
// values where it cannot (openai-captions.ts NEUTRAL_SEGMENT), segments cut like the srt cues where it gives
// only words — and the 415 for a body a transcription route does not take names the bodies that route takes.
import { SELF } from "cloudflare:test";
import Ajv2020 from "ajv/dist/2020";
import OpenAI, { toFile } from "openai";
import { beforeEach, describe, expect, it } from "vitest";
import { NEUTRAL_SEGMENT } from "../../src/api/openai-captions";
import { BASE, bearer, mockControl, newKeyUser, openAiTranscribe, transcriptionForm } from "../helpers/api";
import { call, userOn } from "../helpers/reliability";
// @ts-expect-error plain JS module shared with the mock server
import { mockDurationSeconds, mockTranscriptFor } from "../mocks/audio.mjs";
// The same file as /work/shared/reference/specs/openai.json (the mocks' spec copy; workerd reads no disk).
import openAiSpec from "../mocks/specs/openai.json";

beforeEach(async () => {
  await mockControl("/reset", { method: "POST" });
});

const BYTES = 6000;
const TRANSCRIPT = mockTranscriptFor(BYTES);
const SECONDS = mockDurationSeconds(BYTES);

const upload = (model: string, extra: [string, string][] = []) => transcriptionForm(model, BYTES, extra);
const transcribe = openAiTranscribe;

/** OpenAI's schema for a verbose_json transcription, compiled from its published spec (OpenAPI 3.1 = JSON Schema 2020-12). */
function verboseJsonValidator() {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, validateFormats: false });
  ajv.addSchema(openAiSpec as object, "openai");
  return ajv.compile({ $ref: "openai#/components/schemas/CreateTranscriptionResponseVerboseJson" });
}

/** srt cues as {start, end, text} (seconds), to compare with verbose_json's segments. */
function srtCues(srt: string) {
  const seconds = (t: string) => {
    const [h, m, s] = t.replace(",", ".").split(":");
    return Number(h) * 3600 + Number(m) * 60 + Number(s);
  };
  return srt
    .trim()
    .split("\n\n")
    .map((block) => {
      const [, times, ...text] = block.split("\n");
      const [start = NaN, end = NaN] = (times ?? "").split(" --> ").map(seconds);
      return { start, end, text: text.join("\n") };
    });
}

describe("POST /v1/audio/transcriptions response_format=verbose_json: OpenAI's spec shape", () => {
  const MODELS = [
    "whisper-1",
    "groq/whisper-large-v3",
    "deepgram/nova-3",
    "elevenlabs/scribe_v1",
    "cartesia/ink-whisper",
    "fishaudio/transcribe-1",
    "gpt-4o-transcribe",
  ];

  it("every STT provider's verbose_json validates against CreateTranscriptionResponseVerboseJson (ajv, the spec's own schema), with segments the srt has", async () => {
    const u = await newKeyUser();
    const validate = verboseJsonValidator();
    for (const model of MODELS) {
      const res = await transcribe(u.key, upload(model, [["response_format", "verbose_json"]]));
      expect(res.status, `${model}: ${await res.clone().text()}`).toBe(200);
      const body = (await res.json()) as any;
      expect(validate(body), `${model}: ${JSON.stringify(validate.errors)}`).toBe(true);
      // Every segment field the spec requires, not only those the schema happens to list today.
      for (const s of body.segments)
        expect(Object.keys(s).sort(), model).toEqual(
          ["id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob", "compression_ratio", "no_speech_prob"].sort(),
        );
      // The same timings and text as the srt for the same audio (Deepgram and ElevenLabs answered segments: []).
      const srt = await transcribe(u.key, upload(model, [["response_format", "srt"]]));
      const cues = srtCues(await srt.text());
      expect(cues.length, model).toBeGreaterThan(0);
      expect(
        body.segments.map((s: any) => ({ start: Math.round(s.start * 1000), end: Math.round(s.end * 1000), text: s.text.trim() })),
        model,
      ).toEqual(cues.map((c) => ({ start: Math.round(c.start * 1000), end: Math.round(c.end * 1000), text: c.text })));
    }
  });

  it("OpenAI and Groq: Whisper's own segment details are passed on; elsewhere the documented neutral values", async () => {
    const u = await newKeyUser();
    // The mock's Whisper segment: avg_logprob -0.1 (not the neutral 0), so a passed-on value is told from a filled one.
    const whisper = {
      id: 0,
      seek: 0,
      start: 0,
      end: SECONDS,
      text: TRANSCRIPT,
      tokens: [],
      temperature: 0,
      avg_logprob: -0.1,
      compression_ratio: 1,
      no_speech_prob: 0,
    };
    for (const model of ["whisper-1", "groq/whisper-large-v3"]) {
      const body = (await (await transcribe(u.key, upload(model, [["response_format", "verbose_json"]]))).json()) as any;
      expect(body.segments, model).toEqual([whisper]);
    }
    const deepgram = (await (await transcribe(u.key, upload("deepgram/nova-3", [["response_format", "verbose_json"]]))).json()) as any;
    expect(deepgram.segments).toEqual([
      { id: 0, start: 0, end: 4.8, text: "mock transcript of 6000", ...NEUTRAL_SEGMENT },
      { id: 1, start: 4.8, end: SECONDS, text: "bytes", ...NEUTRAL_SEGMENT },
    ]);
    expect(NEUTRAL_SEGMENT).toEqual({ seek: 0, tokens: [], temperature: 0, avg_logprob: 0, compression_ratio: 1, no_speech_prob: 0 });
  });

  it("the official SDK's verbose_json: segments typed as OpenAI's TranscriptionSegment", async () => {
    const u = await newKeyUser();
    const c = new OpenAI({
      apiKey: u.key,
      baseURL: `${BASE}/v1`,
      maxRetries: 0,
      fetch: ((url: any, init: any) => SELF.fetch(url, init)) as any,
    });
    const file = await toFile(new Uint8Array(BYTES), "a.wav", { type: "audio/wav" });
    const t = await c.audio.transcriptions.create({ file, model: "elevenlabs/scribe_v1", response_format: "verbose_json" });
    expect(t.segments?.length).toBeGreaterThan(0);
    const s = t.segments?.[0] as OpenAI.Audio.TranscriptionSegment;
    expect(typeof s.seek + typeof s.avg_logprob + typeof s.compression_ratio + typeof s.no_speech_prob + typeof s.temperature).toBe(
      "numbernumbernumbernumbernumber",
    );
    expect(Array.isArray(s.tokens)).toBe(true);
  });
});

describe("the 415 on the transcription routes says what that route takes", () => {
  it("/v1/audio/transcriptions: multipart only (JSON and audio bytes refused, never offered); /v1/transcribe: multipart, audio bytes or JSON with an audioUrl", async () => {
    const u = await userOn("pro");
    const post = (path: string, type: string, body: string) =>
      call(path, { method: "POST", headers: { ...bearer(u.jwt), "content-type": type }, body });
    for (const [type, body] of <[string, string][]>[
      ["text/plain", "hello"],
      ["application/json", JSON.stringify({ model: "whisper-1", audioUrl: "https://example.com/a.wav" })],
      ["audio/wav", "RIFF"],
    ]) {
      const res = await post("/v1/audio/transcriptions", type, body);
      expect(res.status, type).toBe(415);
      const { error } = (await res.json()) as any;
      expect(error, type).toMatchObject({ code: "unsupported_media_type", type: "invalid_request_error" });
      expect(error.message, type).toBe("Send multipart/form-data (file, model and the other fields), as OpenAI's API takes it.");
      expect(error.message, type).not.toMatch(/json|audio\/\*/i);
    }
    const native = await post("/v1/transcribe", "text/plain", "hello");
    expect(native.status).toBe(415);
    const { error } = (await native.json()) as any;
    expect(error.code).toBe("unsupported_media_type");
    expect(error.message).toBe("Send multipart/form-data, the audio bytes (audio/*), or application/json with an audioUrl.");
  });
});
