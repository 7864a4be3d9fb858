// `speed` and `instructions` on POST /v1/audio/speech (API.md §4): passed on in the chosen provider's own
// field where it has the knob (TtsAdapter.speed, .instructions), within that provider's range; refused with
// 400 validation_failed naming the field and the range where it has none or the value is outside it —
// before anything is reserved or sent, so nothing is charged. Speed 1 (or none) changes nothing upstream.
import { beforeEach, describe, expect, it } from "vitest";
import { api, bearer, marker, mockControl, newKeyUser, type TestUser, upstreamRequests, usageOf } from "../helpers/api";
import { ledgerOf, until } from "../helpers/reliability";

beforeEach(async () => {
  await mockControl("/reset", { method: "POST" });
});

const HF_KEY = { "x-provider-key-huggingface": "byok-hf" };

const speech = (u: { key: string }, json: Record<string, unknown>, headers: Record<string, string> = {}) =>
  api("/v1/audio/speech", { method: "POST", headers: { ...bearer(u.key), ...headers }, json });

/** The mock's records of `provider` whose body carries `mark` (each test's text is its own). */
async function sent(provider: string, mark: string): Promise<any[]> {
  return (await upstreamRequests(provider)).filter((r) => JSON.stringify(r.body ?? "").includes(mark));
}

/** The account as /v1/usage and the ledger show it, once settlement (waitUntil) has landed. */
async function account(u: TestUser): Promise<string> {
  const ledger = await until(
    () => ledgerOf(u.id),
    (l: any) => l.reservedMc === 0,
  );
  return JSON.stringify({ usage: await usageOf(u.jwt), ledger });
}

/** 400 validation_failed in OpenAI's shape naming `param`, nothing sent to `provider`, nothing charged; its message. */
async function expectRefused(
  u: TestUser & { key: string },
  provider: string,
  body: Record<string, unknown>,
  param: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const before = await account(u);
  const mark = marker();
  const res = await speech(u, { voice: "alloy", ...body, input: `say ${mark}` }, headers);
  const json = (await res.json()) as any;
  expect(res.status, JSON.stringify(json)).toBe(400);
  expect(json).toEqual({
    success: false,
    error: { message: expect.any(String), type: "invalid_request_error", param, code: "validation_failed" },
    requestId: expect.any(String),
  });
  expect(await sent(provider, mark)).toEqual([]);
  expect(await account(u)).toBe(before);
  return json.error.message as string;
}

/** Each provider with a speaking rate: a speed inside its range, where it lands, and one inside OpenAI's 0.25–4 but outside its own. */
const KNOBS = [
  {
    provider: "openai",
    model: "openai/gpt-4o-mini-tts",
    speed: 1.25,
    lands: (r: any) => r.body.speed,
    outside: undefined,
    range: "0.25–4",
  },
  {
    provider: "elevenlabs",
    model: "elevenlabs/eleven_flash_v2_5",
    speed: 1.15,
    lands: (r: any) => r.body.voice_settings?.speed,
    outside: 1.25,
    range: "0.7–1.2",
  },
  {
    provider: "cartesia",
    model: "cartesia/sonic-3",
    speed: 1.25,
    lands: (r: any) => r.body.generation_config?.speed,
    outside: 2,
    range: "0.6–1.5",
  },
  { provider: "fishaudio", model: "fishaudio/s1", speed: 1.25, lands: (r: any) => r.body.prosody?.speed, outside: 3, range: "0.5–2" },
  {
    provider: "deepgram",
    model: "deepgram/aura-2-thalia-en",
    speed: 1.25,
    lands: (r: any) => Number(r.query.speed),
    outside: 0.5,
    range: "0.7–1.5",
  },
  {
    provider: "inworld",
    model: "inworld/inworld-tts-1.5-mini",
    speed: 1.25,
    lands: (r: any) => r.body.audioConfig?.speakingRate,
    outside: 2,
    range: "0.5–1.5",
  },
] as const;

describe("speed on /v1/audio/speech", () => {
  for (const k of KNOBS) {
    it(`${k.provider}: speed ${k.speed} reaches it in its own field, spec-clean and charged as usual`, async () => {
      const u = await newKeyUser();
      const mark = marker();
      const res = await speech(u, { model: k.model, voice: "alloy", input: `say ${mark}`, speed: k.speed });
      expect(res.status, res.status === 200 ? "" : await res.clone().text()).toBe(200);
      expect(res.headers.get("x-provider-used")).toBe(k.provider);
      expect(Number(res.headers.get("x-usage-cost"))).toBeGreaterThan(0);
      await res.arrayBuffer();
      const [req, ...more] = await sent(k.provider, mark);
      expect(more).toEqual([]);
      expect(k.lands(req)).toBe(k.speed);
      expect(req.specErrors).toEqual([]);
    });

    if (k.outside !== undefined) {
      it(`${k.provider}: speed ${k.outside} (inside OpenAI's range, outside ${k.range}) is 400 naming speed and the range; nothing charged`, async () => {
        const u = await newKeyUser();
        const message = await expectRefused(u, k.provider, { model: k.model, speed: k.outside }, "speed");
        expect(message).toContain(k.range);
        expect(message).toContain(String(k.outside));
      });
    }
  }

  it("outside OpenAI's own 0.25–4 is 400 naming speed, for every provider", async () => {
    const u = await newKeyUser();
    for (const speed of [0.2, 4.5]) {
      expect(await expectRefused(u, "openai", { model: "gpt-4o-mini-tts", speed }, "speed")).toContain("0.25–4.0");
    }
    await expectRefused(u, "openai", { model: "gpt-4o-mini-tts", speed: "fast" }, "speed");
  });

  it("a model of the provider without the knob is 400 naming speed: Cartesia before sonic-3, Deepgram Aura-1", async () => {
    const u = await newKeyUser();
    expect(await expectRefused(u, "cartesia", { model: "cartesia/sonic-2", speed: 1.25 }, "speed")).toContain("sonic-3");
    // A Deepgram voice names its model: aura-asteria-en is Aura-1.
    const message = await expectRefused(
      u,
      "deepgram",
      { model: "deepgram/aura-2-thalia-en", voice: "aura-asteria-en", speed: 1.25 },
      "speed",
    );
    expect(message).toContain("aura-2");
  });

  it("providers without a speaking rate (Resemble AI, Hugging Face) refuse speed ≠ 1 with 400 naming speed; nothing charged", async () => {
    const u = await newKeyUser();
    expect(await expectRefused(u, "resembleai", { model: "resembleai/default", speed: 1.25 }, "speed")).toMatch(/ResembleAI has no speed/);
    const hf = await expectRefused(u, "huggingface", { model: "huggingface/facebook/mms-tts-eng", speed: 0.9 }, "speed", HF_KEY);
    expect(hf).toMatch(/HuggingFace has no speed/);
  });
});

describe("instructions on /v1/audio/speech", () => {
  it("reach OpenAI's gpt-4o-mini-tts as `instructions`, spec-clean", async () => {
    const u = await newKeyUser();
    const mark = marker();
    const res = await speech(u, {
      model: "gpt-4o-mini-tts",
      voice: "coral",
      input: `say ${mark}`,
      instructions: "Speak warmly.",
      speed: 0.5,
    });
    expect(res.status, res.status === 200 ? "" : await res.clone().text()).toBe(200);
    await res.arrayBuffer();
    const [req] = await sent("openai", mark);
    expect(req.body).toEqual({
      model: "gpt-4o-mini-tts",
      input: `say ${mark}`,
      voice: "coral",
      response_format: "mp3",
      instructions: "Speak warmly.",
      speed: 0.5,
    });
    expect(req.specErrors).toEqual([]);
  });

  it("are 400 naming instructions for tts-1 (OpenAI: they do not work there) and for every other provider; nothing charged", async () => {
    const u = await newKeyUser();
    expect(await expectRefused(u, "openai", { model: "tts-1", instructions: "Speak warmly." }, "instructions")).toContain("tts-1");
    for (const k of KNOBS.filter((k) => k.provider !== "openai")) {
      await expectRefused(u, k.provider, { model: k.model, instructions: "Speak warmly." }, "instructions");
    }
    await expectRefused(u, "resembleai", { model: "resembleai/default", instructions: "Speak warmly." }, "instructions");
  });
});

describe("speed 1 or none", () => {
  const ALL = [
    ...KNOBS.map((k) => ({ provider: k.provider, model: k.model, headers: {} })),
    { provider: "resembleai", model: "resembleai/default", headers: {} },
    { provider: "huggingface", model: "huggingface/facebook/mms-tts-eng", headers: HF_KEY },
  ];
  for (const { provider, model, headers } of ALL) {
    it(`${provider}: the request sent is the same as without speed (speed 1, null, empty instructions add nothing)`, async () => {
      const u = await newKeyUser();
      const mark = marker();
      const bodies = [{}, { speed: 1 }, { speed: 1.0, instructions: "" }, { speed: null, instructions: null }];
      for (const extra of bodies) {
        const res = await speech(u, { model, voice: "alloy", input: `say ${mark}`, ...extra }, headers);
        expect(res.status, res.status === 200 ? "" : await res.clone().text()).toBe(200);
        await res.arrayBuffer();
      }
      const reqs = await sent(provider, mark);
      expect(reqs).toHaveLength(bodies.length);
      const wire = reqs.map((r) => JSON.stringify({ path: r.path, query: r.query, body: r.body }));
      for (const w of wire.slice(1)) expect(w).toBe(wire[0]);
      expect(wire[0]).not.toMatch(/speed|speakingRate|instructions|generation_config|prosody|voice_settings/);
    });
  }
});
