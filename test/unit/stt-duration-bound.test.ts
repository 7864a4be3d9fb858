// A provider's reported duration past what a transcription reserved (its measured length) is charged as
// reported, the excess as debt (API.md §6: "never dropped") — a Fish report in milliseconds too (its Python SDK
// says milliseconds, its spec and live-tested docs seconds). A realtime turn's report is still vetted against
// the audio measured for it (plausibleSeconds).
import { describe, expect, it } from "vitest";
import { plausibleSeconds, sttChargeMc } from "../../src/metering/estimates";
import { sttCostMc } from "../../src/metering/prices";
import { pcmWavFile } from "../helpers/audio-signal";
import { call, ledgerOf, until, userOn } from "../helpers/reliability";
// @ts-expect-error plain JS module shared with the mock server
import { flacFile } from "../mocks/tone.mjs";

const auth = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

function upload(seconds: number, fields: Record<string, string>): FormData {
  const form = new FormData();
  form.append("file", new File([pcmWavFile(8000, new Int16Array(8000 * seconds))], "clip.wav", { type: "audio/wav" }));
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

describe("a reported duration past the reservation (API.md §6: the excess is charged, never dropped)", () => {
  it("Fish's report 1000× the measured length (its milliseconds) is shown and charged as reported — more than was reserved", async () => {
    const user = await userOn("pro");
    const cost = sttCostMc("fishaudio", 12) ?? 0;
    const seconds = await call("/v1/transcribe", { method: "POST", headers: auth(user.jwt), body: upload(12, { provider: "fishaudio" }) });
    expect(seconds.status).toBe(200);
    expect(((await seconds.json()) as any).durationSeconds).toBe(12);
    expect(Number(seconds.headers.get("x-usage-cost"))).toBe(cost / 1000);
    // The mock answers 12000 for this recording when asked to (test/mocks/providers/fishaudio.mjs): the
    // reservation was the measured 12 s; what the provider reported is what it bills, so it is charged.
    const body = upload(12, { provider: "fishaudio", language: "mockms" });
    const ms = await call("/v1/transcribe", { method: "POST", headers: auth(user.jwt), body });
    expect(ms.status).toBe(200);
    expect(((await ms.json()) as any).durationSeconds).toBe(12_000);
    const reported = sttCostMc("fishaudio", 12_000) ?? 0;
    expect(Number(ms.headers.get("x-usage-cost"))).toBe(reported / 1000);
    const ledger = await until(
      () => ledgerOf(user.id),
      (l) => l.reservedMc === 0 && l.requestCount === 2,
    );
    expect(ledger.usedMc).toBe(cost + reported);
  });

  it("past what is left, the excess is debt: a negative PAYG balance, and the next metered request is 402", async () => {
    const user = await userOn("free"); // 2,500 credits; 12,000 s on Fish is 1,600
    const first = await call("/v1/transcribe", {
      method: "POST",
      headers: auth(user.jwt),
      body: upload(12, { provider: "fishaudio", language: "mockms" }),
    });
    expect(first.status).toBe(200);
    const second = await call("/v1/transcribe", {
      method: "POST",
      headers: auth(user.jwt),
      body: upload(12, { provider: "fishaudio", language: "mockms" }),
    });
    expect(second.status).toBe(200);
    const ledger = await until(
      () => ledgerOf(user.id),
      (l) => l.reservedMc === 0 && l.requestCount === 2,
    );
    const each = sttCostMc("fishaudio", 12_000) ?? 0;
    expect(ledger.usedMc).toBe(2 * each);
    expect(ledger.paygMc).toBe(2_500_000 - 2 * each); // beyond the plan's 2,500 credits: debt
    const after = await call("/v1/transcribe", { method: "POST", headers: auth(user.jwt), body: upload(1, { provider: "fishaudio" }) });
    expect(after.status).toBe(402);
  });
});

describe("what a report is charged", () => {
  it("an HTTP transcription: any figure as reported (1000× included); no figure (NaN, 0, negative) → the measured bound", () => {
    for (const provider of ["openai", "deepgram", "elevenlabs", "fishaudio", "cartesia", "groq", "inworld"]) {
      expect(sttChargeMc(provider, "m", false, 30, { seconds: 30_000 }), provider).toBe(sttCostMc(provider, 30_000));
      expect(sttChargeMc(provider, "m", false, 30, { seconds: 31 }), provider).toBe(sttCostMc(provider, 31));
      for (const none of [Number.NaN, 0, -5, Number.POSITIVE_INFINITY, undefined])
        expect(sttChargeMc(provider, "m", false, 30, { seconds: none }), `${provider} ${none}`).toBe(sttCostMc(provider, 30));
    }
  });

  it("a realtime turn's report is believed up to measured × 1.5 + 1 s (plausibleSeconds)", () => {
    expect(plausibleSeconds(10, 10)).toBe(10);
    expect(plausibleSeconds(16, 10)).toBe(16);
    expect(plausibleSeconds(16.01, 10)).toBeUndefined();
    expect(plausibleSeconds(1, 0)).toBe(1);
    expect(plausibleSeconds(10_000, 10)).toBeUndefined();
    expect(plausibleSeconds(undefined, 10)).toBeUndefined();
  });
});

describe("durationSeconds as shown", () => {
  it("a 1 s FLAC (frame durations summed as floats) is shown as 1, not 0.9999999999999998", async () => {
    const user = await userOn("pro");
    const form = new FormData();
    const samples = new Int16Array(16_000).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16_000)));
    form.append("file", new File([flacFile(samples, 16_000)], "clip.flac", { type: "audio/flac" }));
    form.append("provider", "huggingface"); // reports no duration: the measured one is shown (its key: the caller's)
    const res = await call("/v1/transcribe", {
      method: "POST",
      headers: { ...auth(user.jwt), "x-provider-key-huggingface": "hf_callers_own_key" },
      body: form,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).durationSeconds).toBe(1);
  });
});
