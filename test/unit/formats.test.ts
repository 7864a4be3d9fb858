// Every format from every speech provider (API.md §4.1): native where the provider makes it, converted at
// the edge from its pcm/wav while streaming, 400 otherwise — and Hugging Face's model-chosen audio.
// The mocks answer PCM-family requests with a real tone, so what comes back is decoded and measured.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { sttCostMc } from "../../src/metering/prices";
import { api, BASE, bearer, eventually, faultFor, marker, mockControl, newKeyUser, upstreamRequests, usageOf } from "../helpers/api";
import { env } from "../helpers/env";
import { expectSpeechTone } from "../helpers/speech-check";
// @ts-expect-error plain JS module shared with the mock server
import { mockTone, mockToneSeconds } from "../mocks/tone.mjs";

beforeEach(async () => {
  await mockControl("/reset", { method: "POST" });
});

const HF_BYOK = { "x-provider-key-huggingface": "byok-hf-key" };

/**
 * The real worker with a Hugging Face platform key (the test deployment has none, so that elsewhere it
 * shows a provider usable only with the caller's key): metered Hugging Face requests.
 */
async function withHfPlatformKey(path: string, init: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${BASE}${path}`, init), { ...env, HUGGINGFACE_API_KEY: "platform-hf-key" } as any, ctx);
  const bytes = await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return new Response(bytes, res);
}

async function speak(auth: Record<string, string>, body: Record<string, unknown>) {
  return api("/v1/synthesize", { method: "POST", headers: auth, json: body });
}

describe("converted and native telephony audio", () => {
  const cases: { provider: string; format: "ulaw" | "alaw" | "pcm" | "wav"; sampleRate: number; type: string; asked: RegExp | object }[] = [
    // ElevenLabs makes 8 kHz µ-law itself: passed through.
    { provider: "elevenlabs", format: "ulaw", sampleRate: 8000, type: "audio/basic", asked: /output_format=ulaw_8000/ },
    // OpenAI only has 24 kHz pcm: resampled to 8 kHz and companded here.
    { provider: "openai", format: "ulaw", sampleRate: 8000, type: "audio/basic", asked: { response_format: "pcm" } },
    { provider: "openai", format: "alaw", sampleRate: 16000, type: "audio/x-alaw-basic", asked: { response_format: "pcm" } },
    // Resemble streams WAV (no 24 kHz): its 32 kHz WAV is read and resampled down to raw pcm.
    { provider: "resembleai", format: "pcm", sampleRate: 24000, type: "audio/pcm", asked: { sample_rate: "32000" } },
    // ElevenLabs has no wav: its pcm gets a streamed WAV header.
    { provider: "elevenlabs", format: "wav", sampleRate: 16000, type: "audio/wav", asked: /output_format=pcm_16000/ },
    // µ-law off 8 kHz has its own content type; Inworld's µ-law is made from its PCM.
    { provider: "inworld", format: "ulaw", sampleRate: 16000, type: "audio/x-mulaw", asked: { audioConfig: { audioEncoding: "PCM" } } },
    { provider: "fishaudio", format: "alaw", sampleRate: 8000, type: "audio/x-alaw-basic", asked: { format: "pcm", sample_rate: 8000 } },
  ];
  for (const c of cases) {
    it(`${c.provider} ${c.format} at ${c.sampleRate} Hz: the tone, at that rate`, async () => {
      const u = await newKeyUser();
      const text = `telephony from ${c.provider}`;
      const headers = { ...bearer(u.key), ...(c.provider === "openai" ? { "x-provider-key-openai": "byok" } : {}) };
      const res = await speak(headers, { provider: c.provider, text, format: c.format, sampleRate: c.sampleRate });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(res.headers.get("content-type")).toBe(c.type);
      const decoded = expectSpeechTone(new Uint8Array(await res.arrayBuffer()), c.format, c.sampleRate, text);
      if (c.format === "wav") expect(decoded.formatTag).toBe(1);
      const [req] = await upstreamRequests(c.provider);
      expect(req.specErrors).toEqual([]);
      if (c.asked instanceof RegExp) expect(`${req.path}?${new URLSearchParams(req.query)}`).toMatch(c.asked);
      else expect(req.body).toMatchObject(c.asked);
    });
  }

  it("a converted stream starts while the provider still holds back the rest", async () => {
    const u = await newKeyUser();
    const slow = marker();
    await faultFor(slow, { provider: "openai", mode: "slow", delayMs: 1500 });
    const started = Date.now();
    const res = await speak(
      { ...bearer(u.key), "x-provider-key-openai": "byok" },
      { provider: "openai", text: `first bytes early ${slow}`, format: "alaw", sampleRate: 22050 },
    );
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.value!.byteLength).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(1200);
    const parts = [first.value!];
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    // OpenAI's 24 kHz pcm, resampled to 22.05 kHz and A-law coded as it streamed.
    expectSpeechTone(new Uint8Array(Buffer.concat(parts)), "alaw", 22050, `first bytes early ${slow}`);
    expect((await upstreamRequests("openai"))[0].body.response_format).toBe("pcm");
  });

  it("an idempotent retry replays the converted audio byte for byte, with its content type, uncharged", async () => {
    const u = await newKeyUser();
    const headers = { ...bearer(u.key), "idempotency-key": `fmt-${crypto.randomUUID()}` };
    const body = { provider: "deepgram", text: "replayed telephony", format: "ulaw", sampleRate: 16000 };
    const first = await speak(headers, body);
    const bytes = new Uint8Array(await first.arrayBuffer());
    await eventually(
      () => usageOf(u.jwt),
      (x) => x.requestCount === 1,
    );
    const again = await speak(headers, body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("content-type")).toBe("audio/x-mulaw");
    expect(Buffer.from(await again.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    expect(await upstreamRequests("deepgram")).toHaveLength(1);
  });

  it("speech is charged by characters whatever the format: converting costs nothing extra", async () => {
    const u = await newKeyUser("pro");
    const res = await speak(bearer(u.key), { provider: "elevenlabs", text: "a".repeat(100), format: "alaw", sampleRate: 48000 });
    expect(res.headers.get("x-usage-cost")).toBe("14.94");
    await res.arrayBuffer();
  });
});

describe("Hugging Face speech (hf-inference)", () => {
  it("no format: the model's audio as it comes (FLAC), with its content type; the model id in the path", async () => {
    const u = await newKeyUser();
    const res = await speak({ ...bearer(u.key), ...HF_BYOK }, { provider: "huggingface", text: "as the model likes" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/flac");
    expect(res.headers.get("x-usage-bypassed")).toBe("true");
    expectSpeechTone(new Uint8Array(await res.arrayBuffer()), "flac", 16000, "as the model likes");
    const [req] = await upstreamRequests("huggingface");
    expect(req.path).toBe("/hf-inference/models/facebook/mms-tts-eng");
    expect(req.body).toEqual({ inputs: "as the model likes" });
    expect(req.headers.authorization).toBe("Bearer byok-hf-key");
    expect(req.specOperation).not.toBeNull();
    expect(req.specErrors).toEqual([]);
  });

  it("the model's FLAC or WAV, decoded and converted: µ-law at 8 kHz, wav at the model's own rate", async () => {
    const u = await newKeyUser();
    const headers = { ...bearer(u.key), ...HF_BYOK };
    for (const model of [undefined, "voxgate/tone-wav"]) {
      const ulaw = await speak(headers, { provider: "huggingface", model, text: "hf telephony", format: "ulaw" });
      expect(ulaw.status, model).toBe(200);
      expect(ulaw.headers.get("content-type")).toBe("audio/basic");
      expectSpeechTone(new Uint8Array(await ulaw.arrayBuffer()), "ulaw", 8000, "hf telephony");
      const wav = await speak(headers, { provider: "huggingface", model, text: "hf wav", format: "wav" });
      const decoded = expectSpeechTone(new Uint8Array(await wav.arrayBuffer()), "wav", 16000, "hf wav");
      expect(decoded.formatTag).toBe(1);
    }
  });

  it("a model answering what cannot be decoded (MP3): 400 unsupported_format, and the charge is refunded", async () => {
    const u = await newKeyUser("pro");
    const before = (await usageOf(u.jwt)).credits.used;
    const res = await withHfPlatformKey("/v1/synthesize", {
      method: "POST",
      headers: { ...bearer(u.key), "content-type": "application/json" },
      body: JSON.stringify({ provider: "huggingface", model: "voxgate/tone-mp3", text: "mp3 only", format: "pcm" }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("unsupported_format");
    expect(body.error.message).toContain("audio/mpeg");
    const [req] = await upstreamRequests("huggingface");
    expect(req.headers.authorization).toBe("Bearer platform-hf-key");
    expect((await usageOf(u.jwt)).credits.used).toBe(before);
  });

  it("mp3 cannot come from a model that chooses its format; a rate without a format is refused too", async () => {
    const u = await newKeyUser();
    for (const body of [{ format: "mp3" }, { sampleRate: 16000 }]) {
      const res = await speak({ ...bearer(u.key), ...HF_BYOK }, { provider: "huggingface", text: "x", ...body });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.code).toBe("unsupported_format");
    }
    expect(await upstreamRequests("huggingface")).toHaveLength(0);
  });

  it("a model id that would change the URL's shape is refused (400 validation_failed), nothing sent", async () => {
    const u = await newKeyUser();
    for (const model of ["../../v1/chat/completions", "org/../x", "a/b/c", "org/name?x=1", "org%2Fname", "org\\name", ".hidden"]) {
      const res = await speak({ ...bearer(u.key), ...HF_BYOK }, { provider: "huggingface", model, text: "x" });
      expect(res.status, model).toBe(400);
      const error = ((await res.json()) as any).error;
      expect(error.code).toBe("validation_failed");
      expect(error.fields[0].path).toBe("model");
    }
    expect(await upstreamRequests("huggingface")).toHaveLength(0);
  });

  it("transcription: the raw audio to the model's task endpoint, {text} back, billed on the measured length", async () => {
    const u = await newKeyUser();
    const wav: Uint8Array = mockTone("a second or so of audio", { sampleRate: 8000, container: "wav" });
    const seconds: number = mockToneSeconds("a second or so of audio");
    const form = new FormData();
    form.append("file", new File([wav], "clip.wav", { type: "audio/wav" }));
    form.append("provider", "huggingface");
    const res = await withHfPlatformKey("/v1/transcribe", { method: "POST", headers: bearer(u.key), body: form });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({
      success: true,
      text: `mock transcript of ${wav.length} bytes`,
      durationSeconds: seconds,
      provider: "huggingface",
      model: "openai/whisper-large-v3",
    });
    // Hugging Face reports no duration: the length measured from the WAV is what is charged.
    expect(Number(res.headers.get("x-usage-cost"))).toBe(sttCostMc("huggingface", seconds)! / 1000);
    const [req] = await upstreamRequests("huggingface");
    expect(req.path).toBe("/hf-inference/models/openai/whisper-large-v3");
    expect(req.headers["content-type"]).toBe("audio/wav");
    expect(req.body).toEqual({ size: wav.length, contentType: "audio/wav" });
    expect(req.specErrors).toEqual([]);
  });
});
