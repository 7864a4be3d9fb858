// GET /v1/providers (API.md §4.1, §6): what each provider offers, in which formats, at what price, for any
// authenticated caller — read from the same registry, planner and price table the gateway uses.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { api, BASE, bearer, jwtFor, newKeyUser, uniqueSub } from "../helpers/api";
import { env } from "../helpers/env";

const providers = async (auth: Record<string, string>) => {
  const res = await api("/v1/providers", { headers: auth });
  return { res, body: res.status === 200 ? ((await res.json()) as any) : undefined };
};
const byId = (body: any, id: string) => body.providers.find((p: any) => p.id === id);
const format = (provider: any, f: string) => provider.operations.tts.formats.find((x: any) => x.format === f);

describe("GET /v1/providers", () => {
  it("needs credentials (401), then answers any user: an API key or a free user's JWT", async () => {
    expect((await api("/v1/providers")).status).toBe(401);
    const u = await newKeyUser("starter");
    expect((await providers(bearer(u.key))).res.status).toBe(200);
    const free = await providers(bearer(await jwtFor(uniqueSub())));
    expect(free.res.status).toBe(200);
    expect(free.res.headers.get("x-ratelimit-limit")).toBe("30");
  });

  it("every provider, with its operations, defaults, prices and the failover breaker's health", async () => {
    const { body } = await providers(bearer(await jwtFor(uniqueSub())));
    expect(body.providers.map((p: any) => p.id)).toEqual([
      "elevenlabs",
      "openai",
      "anthropic",
      "cartesia",
      "deepgram",
      "fishaudio",
      "inworld",
      "resembleai",
      "groq",
      "huggingface",
    ]);
    const eleven = byId(body, "elevenlabs");
    expect(eleven).toMatchObject({
      name: "ElevenLabs",
      byokHeader: "X-Provider-Key-ElevenLabs",
      platformKey: true,
      health: { state: "closed", since: null, retryAt: null },
      operations: {
        tts: {
          defaultModel: "eleven_flash_v2_5",
          defaultFormat: "mp3",
          price: { creditsPer1000Characters: 166, apiKeyDiscountPercent: 10 },
        },
        stt: { defaultModel: "scribe_v1", price: { creditsPerMinute: 6 } },
        llm: null,
      },
    });
    expect(byId(body, "anthropic").operations).toMatchObject({ tts: null, stt: null, llm: { defaultModel: expect.any(String) } });
    expect(byId(body, "openai").operations.llm.price).toEqual({
      modelPrefix: "gpt-4.1-mini",
      inputCreditsPer1000Tokens: 1,
      outputCreditsPer1000Tokens: 3,
    });
    // Every operation every provider offers has a price (API.md §6).
    for (const p of body.providers) {
      for (const op of ["tts", "stt"] as const) if (p.operations[op]) expect(p.operations[op].price, `${p.id} ${op}`).not.toBeNull();
      if (p.operations.llm) expect(p.operations.llm.price, `${p.id} llm`).not.toBeNull();
    }
    expect(body.llmPrices).toContainEqual({ modelPrefix: "gpt-realtime", inputCreditsPer1000Tokens: 32, outputCreditsPer1000Tokens: 64 });
  });

  it("realtime: which providers serve live transcription, streaming speech and OpenAI's Realtime protocol", async () => {
    const { body } = await providers(bearer(await jwtFor(uniqueSub())));
    const realtime = Object.fromEntries(body.providers.map((p: any) => [p.id, p.operations.realtime]));
    expect(realtime.deepgram).toMatchObject({ listen: { defaultModel: expect.any(String) }, speak: { defaultVoice: expect.any(String) } });
    expect(realtime.elevenlabs).toMatchObject({ listen: expect.any(Object), speak: expect.any(Object), openaiRealtime: false });
    expect(realtime.cartesia).toMatchObject({ listen: expect.any(Object), speak: expect.any(Object) });
    expect(realtime.openai).toEqual({ listen: null, speak: null, openaiRealtime: true });
    for (const id of ["anthropic", "fishaudio", "inworld", "resembleai", "groq", "huggingface"]) expect(realtime[id], id).toBeNull();
  });

  it("formats: native and converted rates as the gateway serves them", async () => {
    const { body } = await providers(bearer(await jwtFor(uniqueSub())));
    const eleven = byId(body, "elevenlabs");
    expect(format(eleven, "ulaw")).toEqual({
      format: "ulaw",
      native: [8000],
      converted: [16000, 22050, 24000, 44100, 48000],
      byDefault: { delivery: "native", sampleRate: 8000 },
      condition: null,
    });
    expect(format(eleven, "wav")).toMatchObject({ native: [], byDefault: { delivery: "converted", sampleRate: 24000 } });
    expect(format(eleven, "aac")).toBeUndefined();
    expect(format(byId(body, "openai"), "alaw")).toMatchObject({ native: [], converted: [8000, 16000, 22050, 24000, 44100, 48000] });
    // Every speech provider serves pcm, wav, ulaw and alaw at every rate of API.md §4.1.
    for (const p of body.providers.filter((x: any) => x.operations.tts)) {
      for (const f of ["pcm", "wav", "ulaw", "alaw"]) {
        const offer = format(p, f);
        expect([...offer.native, ...offer.converted], `${p.id} ${f}`).toEqual(
          expect.arrayContaining([8000, 16000, 22050, 24000, 44100, 48000]),
        );
      }
    }
  });

  it("Hugging Face: speech and transcription, the model's own format by default, converted only from WAV", async () => {
    const { body } = await providers(bearer(await jwtFor(uniqueSub())));
    const hf = byId(body, "huggingface");
    expect(hf.platformKey).toBe(false); // the test deployment has no Hugging Face platform key
    expect(hf.operations.tts).toMatchObject({
      defaultModel: "facebook/mms-tts-eng",
      defaultFormat: "model",
      price: { creditsPer1000Characters: 4 },
    });
    expect(hf.operations.stt).toEqual({ defaultModel: "openai/whisper-large-v3", price: { creditsPerMinute: 3 } });
    expect(hf.operations.tts.formats.map((f: any) => f.format)).toEqual(["wav", "pcm", "ulaw", "alaw"]);
    expect(format(hf, "ulaw").condition).toMatch(/WAV/);
  });

  it("prices and plans as PRICES sets them", async () => {
    const ctx = createExecutionContext();
    const vars = { PRICES: JSON.stringify({ tts: { huggingface: 2.5 }, llm: { "my-model": { input: 1, output: 2 } } }) };
    const res = await worker.fetch(
      new Request(`${BASE}/v1/providers`, { headers: bearer(await jwtFor(uniqueSub())) }),
      { ...env, ...vars } as any,
      ctx,
    );
    const body = (await res.json()) as any;
    await waitOnExecutionContext(ctx);
    expect(byId(body, "huggingface").operations.tts.price.creditsPer1000Characters).toBe(2.5);
    expect(body.llmPrices).toContainEqual({ modelPrefix: "my-model", inputCreditsPer1000Tokens: 1, outputCreditsPer1000Tokens: 2 });
  });

  it("is documented in /openapi.json", async () => {
    const doc = (await (await api("/openapi.json")).json()) as any;
    expect(doc.paths["/v1/providers"].get.responses["200"]).toBeDefined();
    expect(doc.components.schemas.Provider).toBeDefined();
  });
});
