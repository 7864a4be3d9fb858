// A provider's reported duration is charged only when the audio sent can have it (src/metering/estimates.ts,
// plausibleSeconds): a unit mix-up — Fish's Python SDK calls /v1/asr's `duration` milliseconds, its spec and
// live-tested docs seconds — must not charge 1000× what the recording's measured length reserved (API.md §6).
import { describe, expect, it } from "vitest";
import { plausibleSeconds, sttChargeMc } from "../../src/metering/estimates";
import { sttCostMc } from "../../src/metering/prices";
import { pcmWavFile } from "../helpers/audio-signal";
import { call, ledgerOf, until, userOn } from "../helpers/reliability";

const auth = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

function upload(seconds: number, fields: Record<string, string>): FormData {
  const form = new FormData();
  form.append("file", new File([pcmWavFile(8000, new Int16Array(8000 * seconds))], "clip.wav", { type: "audio/wav" }));
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

describe("Fish Audio ASR duration", () => {
  it("in seconds it is charged as reported; in milliseconds (a unit mix-up) neither shown nor charged 1000×", async () => {
    const user = await userOn("pro");
    const cost = sttCostMc("fishaudio", 12) ?? 0;
    const seconds = await call("/v1/transcribe", { method: "POST", headers: auth(user.jwt), body: upload(12, { provider: "fishaudio" }) });
    expect(seconds.status).toBe(200);
    expect(((await seconds.json()) as any).durationSeconds).toBe(12);
    expect(Number(seconds.headers.get("x-usage-cost"))).toBe(cost / 1000);
    // The mock answers 12000 for this recording when asked to (test/mocks/providers/fishaudio.mjs): the
    // measured 12 s, which was reserved, stands in for it.
    const body = upload(12, { provider: "fishaudio", language: "mock-duration-ms" });
    const ms = await call("/v1/transcribe", { method: "POST", headers: auth(user.jwt), body });
    expect(ms.status).toBe(200);
    expect(((await ms.json()) as any).durationSeconds).toBe(12);
    expect(Number(ms.headers.get("x-usage-cost"))).toBe(cost / 1000);
    const ledger = await until(
      () => ledgerOf(user.id),
      (l) => l.reservedMc === 0 && l.requestCount === 2,
    );
    expect(ledger.usedMc).toBe(2 * cost);
    expect(ledger.paygMc).toBeGreaterThanOrEqual(0); // no debt
  });
});

describe("the bound on a reported duration: measured × 1.5 + 1 s", () => {
  it("a little over the measured length is believed (providers round up); far over is not", () => {
    expect(plausibleSeconds(10, 10)).toBe(10);
    expect(plausibleSeconds(16, 10)).toBe(16);
    expect(plausibleSeconds(16.01, 10)).toBeUndefined();
    expect(plausibleSeconds(1, 0)).toBe(1);
    expect(plausibleSeconds(10_000, 10)).toBeUndefined();
    expect(plausibleSeconds(undefined, 10)).toBeUndefined();
  });

  it("for every seconds-billed provider: a report 1000× the measured length is charged as the measured length", () => {
    for (const provider of ["openai", "deepgram", "elevenlabs", "fishaudio", "cartesia", "groq", "inworld"]) {
      expect(sttChargeMc(provider, "m", false, 30, { seconds: 30_000 }), provider).toBe(sttCostMc(provider, 30));
      expect(sttChargeMc(provider, "m", false, 30, { seconds: 31 }), provider).toBe(sttCostMc(provider, 31));
    }
  });
});
