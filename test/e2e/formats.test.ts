// The provider × operation × format matrix (docs/PROVIDERS.md), walked through a real `wrangler dev` against
// the mock providers: every cell either works — the audio decoded and measured where it is PCM-family —
// or is refused with the right code; every request that reaches a provider validates against its spec.
import OpenAI from "openai";
import { beforeEach, describe, expect, it } from "vitest";
import { SPEECH_FORMATS } from "../../src/audio/plan";
import { type FormatOffer, speechContentType, speechFormats } from "../../src/gateway/speech-output";
import { PROVIDERS } from "../../src/providers/registry";
import type { AudioFormat, ProviderAdapter } from "../../src/providers/types";
import { expectMockAudio } from "../helpers/provider-cases";
import { decodeSpeech, expectSpeechTone, expectTone, type ToneFormat } from "../helpers/speech-check";
// @ts-expect-error plain JS module shared with the mock server
import { mockTone } from "../mocks/tone.mjs";
import { bearer, call, mock, payingUser, upstream, workerUrl } from "./client";

beforeEach(async () => {
  await mock("/reset", { method: "POST" });
});

/** The test deployment has no Hugging Face platform key: its requests carry the caller's own. */
const BYOK = { "x-provider-key-huggingface": "byok-hf-key" };
const TONE_FORMATS = new Set<AudioFormat>(["pcm", "wav", "ulaw", "alaw"]);
/** Hugging Face models the mock answers with WAV and with MP3 (its default model answers FLAC). */
const HF_WAV_MODEL = "voxgate/tone-wav";
const HF_MP3_MODEL = "voxgate/tone-mp3";

async function expectNoSpecErrors(provider: string) {
  const reqs = await upstream(provider);
  for (const r of reqs) expect(r.specErrors, `${provider} ${r.method} ${r.path}`).toEqual([]);
  return reqs;
}

async function speak(key: string, body: Record<string, unknown>) {
  return call("/v1/synthesize", { method: "POST", headers: { ...bearer(key), ...BYOK }, json: body });
}

/** One cell at one rate (undefined: no sampleRate named): 200 with the right content type and audio. */
async function expectServed(key: string, p: ProviderAdapter, offer: FormatOffer, rate: number | undefined) {
  const text = `${p.id} ${offer.format} ${rate ?? "default"}`;
  const res = await speak(key, { provider: p.id, text, format: offer.format, sampleRate: rate });
  const where = `${p.id} ${offer.format} at ${rate ?? "its default rate"}`;
  expect(res.status, `${where}: ${await res.clone().text()}`).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const effective = rate ?? offer.byDefault.sampleRate ?? undefined;
  if (!TONE_FORMATS.has(offer.format)) {
    expect(res.headers.get("content-type"), where).toBe(speechContentType(offer.format, effective));
    expectMockAudio(bytes, text);
    return;
  }
  const format = offer.format as ToneFormat;
  if (effective === undefined) {
    // A WAV at the provider's own rate: its header says which.
    expect(format, where).toBe("wav");
    const decoded = decodeSpeech(bytes, "wav");
    expectTone(decoded.samples, decoded.sampleRate ?? 0, text);
    return;
  }
  expect(res.headers.get("content-type"), where).toBe(speechContentType(format, effective));
  expectSpeechTone(bytes, format, effective, text);
}

const speechProviders = PROVIDERS.filter((p) => p.tts);

describe("speech: every provider × every format", () => {
  for (const p of speechProviders) {
    const offers = speechFormats(p.tts!);
    it(`${p.id}: every format at every rate it is offered at; the rest 400 unsupported_format`, async () => {
      const u = await payingUser("scale");
      for (const format of SPEECH_FORMATS) {
        const offer = offers.find((o) => o.format === format);
        if (!offer) {
          const res = await speak(u.key, { provider: p.id, text: "refused", format });
          expect(res.status, `${p.id} ${format}`).toBe(400);
          expect(((await res.json()) as any).error.code, `${p.id} ${format}`).toBe("unsupported_format");
          continue;
        }
        await expectServed(u.key, p, offer, undefined);
        for (const rate of [...offer.native, ...offer.converted]) await expectServed(u.key, p, offer, rate);
        // A rate neither the provider nor the edge offers for this format.
        const res = await speak(u.key, { provider: p.id, text: "odd rate", format, sampleRate: 11025 });
        expect(res.status, `${p.id} ${format} at 11025 Hz`).toBe(400);
      }
      const reqs = await expectNoSpecErrors(p.id);
      expect(reqs.length).toBeGreaterThan(0);
    });
  }

  it("the telephony case for every speech provider: 8 kHz µ-law, decoded back to the tone", async () => {
    const u = await payingUser("scale");
    const cases = speechProviders.map((p) => ({ provider: p.id, model: undefined as string | undefined }));
    cases.push({ provider: "huggingface", model: HF_WAV_MODEL }); // FLAC by default; WAV too
    for (const c of cases) {
      const text = `twilio media stream via ${c.provider} ${c.model ?? ""}`;
      const res = await speak(u.key, { ...c, text, format: "ulaw", sampleRate: 8000 });
      expect(res.status, c.provider).toBe(200);
      expect(res.headers.get("content-type"), c.provider).toBe("audio/basic");
      expectSpeechTone(new Uint8Array(await res.arrayBuffer()), "ulaw", 8000, text);
    }
  });

  it("no format: mp3 from every provider but Hugging Face, whose model's own audio comes with its type", async () => {
    const u = await payingUser("scale");
    for (const p of speechProviders) {
      const res = await speak(u.key, { provider: p.id, text: `default from ${p.id}` });
      expect(res.status, p.id).toBe(200);
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (p.tts?.modelChoosesFormat) {
        expect(res.headers.get("content-type"), p.id).toBe("audio/flac");
        expectSpeechTone(bytes, "flac", 16000, `default from ${p.id}`); // the model's own FLAC, untouched
      } else {
        expect(res.headers.get("content-type"), p.id).toBe("audio/mpeg");
        expectMockAudio(bytes, `default from ${p.id}`);
      }
    }
    // A Hugging Face model answering what cannot be decoded (MP3): its converted cells are refused.
    const mp3 = await speak(u.key, { provider: "huggingface", model: HF_MP3_MODEL, text: "mp3 model", format: "alaw" });
    expect(mp3.status).toBe(400);
    expect(((await mp3.json()) as any).error.code).toBe("unsupported_format");
  });
});

describe("transcription and chat: every provider × operation", () => {
  for (const p of PROVIDERS) {
    it(`${p.id}: each operation it offers works, the others are 400 unsupported_operation`, async () => {
      const u = await payingUser("scale");
      const headers = { ...bearer(u.key), ...BYOK };
      // Speech was walked above; here only its refusal where it is not offered.
      if (!p.tts) {
        const res = await speak(u.key, { provider: p.id, text: "no voice here" });
        expect(((await res.json()) as any).error.code).toBe("unsupported_operation");
      }
      const form = new FormData();
      form.append("file", new File([mockTone("a short clip", { sampleRate: 16000, container: "wav" })], "clip.wav", { type: "audio/wav" }));
      form.append("provider", p.id);
      const stt = await call("/v1/transcribe", { method: "POST", headers, body: form });
      if (p.stt) {
        expect(stt.status, `${p.id} stt: ${await stt.clone().text()}`).toBe(200);
        expect(((await stt.json()) as any).provider).toBe(p.id);
      } else {
        expect(stt.status).toBe(400);
        expect(((await stt.json()) as any).error.code).toBe("unsupported_operation");
      }
      const chat = await call("/v1/chat", {
        method: "POST",
        headers,
        json: { provider: p.id, model: p.llm?.defaultModel ?? "any-model", messages: [{ role: "user", content: "hello" }] },
      });
      if (p.llm) {
        expect(chat.status, `${p.id} llm: ${await chat.clone().text()}`).toBe(200);
        expect(((await chat.json()) as any).message.content).toBe("Echo: hello");
      } else {
        expect(chat.status).toBe(400);
        expect(((await chat.json()) as any).error.code).toBe("unsupported_operation");
      }
      await expectNoSpecErrors(p.id);
    });
  }
});

describe("the OpenAI-compatible speech route maps response_format onto the same machinery", () => {
  it("each of OpenAI's formats from each speech provider: served, or OpenAI's error shape (the SDK's BadRequestError)", async () => {
    const u = await payingUser("scale");
    const client = new OpenAI({ apiKey: u.key, baseURL: `${workerUrl()}/v1`, maxRetries: 0, defaultHeaders: BYOK });
    for (const p of speechProviders) {
      const offers = speechFormats(p.tts!);
      for (const format of ["mp3", "opus", "aac", "flac", "wav", "pcm"] as const) {
        const offer = offers.find((o) => o.format === format);
        const model = `${p.id}/${p.tts?.defaultModel || "default"}`;
        const input = `openai ${format} via ${p.id}`;
        const request = client.audio.speech.create({ model, voice: "alloy", input, response_format: format });
        if (!offer) {
          const err = (await request.catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
          expect(err, `${p.id} ${format}`).toBeInstanceOf(OpenAI.BadRequestError);
          expect(err.code).toBe("unsupported_format");
          expect(err.param).toBe("response_format");
          continue;
        }
        const res = await request;
        const bytes = new Uint8Array(await res.arrayBuffer());
        if (format === "pcm")
          expectSpeechTone(bytes, "pcm", 24000, input); // OpenAI's pcm: 24 kHz whoever speaks
        else if (format === "wav") {
          const decoded = decodeSpeech(bytes, "wav");
          expectTone(decoded.samples, decoded.sampleRate ?? 0, input);
        } else expectMockAudio(bytes, input);
      }
      await expectNoSpecErrors(p.id);
    }
  });
});
