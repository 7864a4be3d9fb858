// A transcription reports what the provider was actually asked for (API.md §4): Fish's /v1/asr takes no
// model — it runs Fish's one ASR model, reported as `transcribe-1` always; a caller naming another gets 400
// validation_failed naming `model` (it could not be sent, so it is not echoed back as if used). Hugging
// Face's hf-inference ASR (raw audio as the body) has no language field: `language` is refused naming it,
// never dropped silently. Refused before anything is reserved or sent.
import { describe, expect, it } from "vitest";
import { bearer, marker, upstreamRequests } from "../helpers/api";
import { pcmWavFile, sine } from "../helpers/audio-signal";
import { backgroundDone, call, keyOf, ledgerOf, userOn } from "../helpers/reliability";

/** Multipart with a file named after `tag` (the mock records file names: a request can be found by it). */
function upload(tag: string, fields: Record<string, string>): FormData {
  const form = new FormData();
  form.append("file", new File([pcmWavFile(8000, sine(8000, 440, 1, 8000))], `${tag}.wav`, { type: "audio/wav" }));
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

const sent = async (provider: string, tag: string) => (await upstreamRequests(provider)).filter((r) => JSON.stringify(r).includes(tag));

async function expectRefused(res: Response, field: string, openai = false) {
  const body = (await res.clone().json()) as any;
  expect(res.status, JSON.stringify(body)).toBe(400);
  if (openai) {
    expect(body.error.param).toBe(field);
  } else {
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.fields.map((f: any) => f.path)).toEqual([field]);
  }
}

describe("Fish Audio transcription reports the model it used", () => {
  it("no model → model transcribe-1, and no model field upstream; transcribe-1 named → the same", async () => {
    const u = await userOn("scale");
    const auth = bearer((await keyOf(u)).key);
    for (const fields of [{ provider: "fishaudio" }, { provider: "fishaudio", model: "transcribe-1" }] as Record<string, string>[]) {
      const tag = marker();
      const res = await call("/v1/transcribe", { method: "POST", headers: auth, body: upload(tag, fields) });
      const body = (await res.json()) as any;
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect([body.provider, body.model]).toEqual(["fishaudio", "transcribe-1"]);
      const [req] = await sent("fishaudio", tag);
      expect(req?.path).toBe("/v1/asr");
      expect(Object.keys(req.body.fields ?? {})).not.toContain("model");
    }
  });

  it("another model → 400 validation_failed naming model (native and OpenAI routes); nothing sent or charged", async () => {
    const u = await userOn("scale");
    const auth = bearer((await keyOf(u)).key);
    const tag = marker();
    await expectRefused(
      await call("/v1/transcribe", { method: "POST", headers: auth, body: upload(tag, { provider: "fishaudio", model: "custom-model" }) }),
      "model",
    );
    await expectRefused(
      await call("/v1/audio/transcriptions", { method: "POST", headers: auth, body: upload(tag, { model: "fishaudio/custom-model" }) }),
      "model",
      true,
    );
    const ok = await call("/v1/audio/transcriptions", {
      method: "POST",
      headers: auth,
      body: upload(marker(), { model: "fishaudio/transcribe-1" }),
    });
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(await sent("fishaudio", tag)).toHaveLength(0);
    await backgroundDone();
    const before = await ledgerOf(u.id);
    expect(before.reservedMc).toBe(0);
  });

  it("GET /v1/providers and /v1/models name it", async () => {
    const u = await userOn("scale");
    const auth = bearer((await keyOf(u)).key);
    const providers = (await (await call("/v1/providers", { headers: auth })).json()) as any;
    const fish = providers.providers.find((p: any) => p.id === "fishaudio");
    expect(fish.operations.stt.defaultModel).toBe("transcribe-1");
    const models = ((await (await call("/v1/models", { headers: auth })).json()) as any).data.map((m: any) => m.id);
    expect(models).toContain("fishaudio/transcribe-1");
    expect(models).not.toContain("fishaudio/default");
  });
});

describe("Hugging Face transcription does not drop a language", () => {
  it("language → 400 validation_failed naming language (native and OpenAI routes), nothing reserved; without it → 200", async () => {
    const u = await userOn("scale");
    // Hugging Face has no platform key here: the caller's own (BYOK).
    const auth = { ...bearer((await keyOf(u)).key), "x-provider-key-huggingface": "byok-hf-key" };
    await expectRefused(
      await call("/v1/transcribe", { method: "POST", headers: auth, body: upload(marker(), { provider: "huggingface", language: "fr" }) }),
      "language",
    );
    await expectRefused(
      await call("/v1/audio/transcriptions", {
        method: "POST",
        headers: auth,
        body: upload(marker(), { model: "huggingface/openai/whisper-large-v3", language: "fr" }),
      }),
      "language",
      true,
    );
    await backgroundDone();
    expect([(await ledgerOf(u.id)).usedMc, (await ledgerOf(u.id)).reservedMc]).toEqual([0, 0]);
    const ok = await call("/v1/transcribe", { method: "POST", headers: auth, body: upload(marker(), { provider: "huggingface" }) });
    expect(ok.status, await ok.clone().text()).toBe(200);
    // A fallback that cannot take the language drops out; the provider asked for still serves it.
    const chained = await call("/v1/transcribe", {
      method: "POST",
      headers: auth,
      body: upload(marker(), { provider: "openai", language: "fr", fallback: JSON.stringify(["huggingface"]) }),
    });
    expect(chained.status, await chained.clone().text()).toBe(200);
  });
});
