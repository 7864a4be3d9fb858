// The bodies /v1/transcribe takes (API.md §4, §6, §8): multipart, the audio bytes themselves (fields in
// the query) or JSON with an audioUrl. Audio with nothing in it is refused before anything is reserved —
// no metered transcription is ever charged 0 — and a body the route cannot read says what it is.
import { describe, expect, it } from "vitest";
import { sizeBoundSeconds } from "../../src/audio/duration";
import { sttCostMc } from "../../src/metering/prices";
import { bearer, upstreamRequests } from "../helpers/api";
import { call, inAccount, ledgerOf, until, userOn } from "../helpers/reliability";
import { fixture, makeWav } from "./audio/audio-files";

function upload(bytes: Uint8Array, fields: Record<string, string>): FormData {
  const form = new FormData();
  form.append("file", new File([bytes], "clip.wav", { type: "audio/wav" }));
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

describe("audio with nothing in it", () => {
  it("an empty file is 400 validation_failed for every provider, even with no credits left: nothing called, reserved or charged", async () => {
    const u = await userOn("free");
    await inAccount(u.id, (i) => {
      i.ledger.charge("tts", 2_500_000, 2_500_000, Date.now());
    });
    const before = await ledgerOf(u.id);
    const called = (await upstreamRequests("openai")).length + (await upstreamRequests("deepgram")).length;
    for (const provider of ["openai", "deepgram", "groq", "elevenlabs"]) {
      const res = await call("/v1/transcribe", { method: "POST", headers: bearer(u.jwt), body: upload(new Uint8Array(0), { provider }) });
      expect(res.status, provider).toBe(400);
      const body = (await res.json()) as any;
      expect(body.error.code).toBe("validation_failed");
      expect(body.error.fields[0].path).toBe("file");
    }
    expect((await upstreamRequests("openai")).length + (await upstreamRequests("deepgram")).length).toBe(called);
    const after = await ledgerOf(u.id);
    expect(after.usedMc).toBe(before.usedMc);
    expect(after.reservedMc).toBe(0);
  });

  it("a WAV that is only a header is reserved and charged at its size bound, never 0", async () => {
    const u = await userOn("pro");
    const wav = makeWav({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames: 0 });
    const res = await call("/v1/transcribe", { method: "POST", headers: bearer(u.jwt), body: upload(wav, { provider: "openai" }) });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    // The mock reports no duration for an empty WAV, so the bound is what is charged.
    const expected = sttCostMc("openai", sizeBoundSeconds(wav.length)) as number;
    expect(expected).toBeGreaterThan(0);
    expect(Number(res.headers.get("x-usage-cost"))).toBeGreaterThan(0);
    const l = await until(
      () => ledgerOf(u.id),
      (v) => v.reservedMc === 0,
    );
    expect(l.usedMc).toBeGreaterThan(0);
  });
});

describe("the body's content type", () => {
  it("the audio bytes themselves (audio/wav, application/octet-stream) are transcribed, fields in the query", async () => {
    const u = await userOn("pro");
    const wav = makeWav({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames: 16000 });
    for (const type of ["audio/wav", "application/octet-stream"]) {
      const res = await call("/v1/transcribe?provider=deepgram", {
        method: "POST",
        headers: { ...bearer(u.jwt), "content-type": type },
        body: wav,
      });
      const body = (await res.json()) as any;
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.provider).toBe("deepgram");
      // One second of 16 kHz 16-bit audio, as the provider hears it.
      expect(body.durationSeconds).toBe(1);
      // Charged what the provider reported.
      expect(Number(res.headers.get("x-usage-cost"))).toBe(sttCostMc("deepgram", body.durationSeconds)! / 1000);
    }
  });

  it("OpenAI and Groq tell the format by the file name: a nameless body, a browser's 'blob' or 'voice.opus' goes out named for its container", async () => {
    const u = await userOn("pro");
    const wav = makeWav({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames: 16000 });
    const ogg = fixture("speech.opus");
    const webm = fixture("speech.webm");
    const named = (bytes: Uint8Array, name: string, type: string, provider: string) => {
      const form = new FormData();
      form.append("file", new File([bytes], name, { type }));
      form.append("provider", provider);
      return form;
    };
    const cases: { provider: string; init: RequestInit; sent: string }[] = [
      // The audio bytes themselves: no name at all.
      { provider: "openai", init: { headers: { "content-type": "audio/wav" }, body: wav }, sent: "audio.wav" },
      { provider: "groq", init: { headers: { "content-type": "application/octet-stream" }, body: wav }, sent: "audio.wav" },
      // MediaRecorder's Blob is uploaded as "blob"; a WhatsApp voice note as .opus (Ogg, which OpenAI takes as .ogg).
      { provider: "openai", init: { body: named(webm, "blob", "audio/webm", "openai") }, sent: "blob.webm" },
      { provider: "groq", init: { body: named(ogg, "voice.opus", "audio/ogg", "groq") }, sent: "voice.ogg" },
      // A name that already says the container is kept.
      { provider: "openai", init: { body: named(ogg, "note.oga", "audio/ogg", "openai") }, sent: "note.oga" },
    ];
    for (const c of cases) {
      const query = c.init.body instanceof FormData ? "" : `?provider=${c.provider}`;
      const headers = { ...bearer(u.jwt), ...(c.init.headers as Record<string, string> | undefined) };
      const res = await call(`/v1/transcribe${query}`, { method: "POST", ...c.init, headers });
      expect(res.status, `${c.sent}: ${await res.clone().text()}`).toBe(200);
      const [req] = (await upstreamRequests(c.provider)).slice(-1);
      expect(req.body.files.file.filename).toBe(c.sent);
      expect(req.specErrors).toEqual([]);
    }
  });

  it("the OpenAI-compatible route takes multipart only: audio bytes there are 415 unsupported_media_type in OpenAI's shape", async () => {
    const u = await userOn("pro");
    const res = await call("/v1/audio/transcriptions", {
      method: "POST",
      headers: { ...bearer(u.jwt), "content-type": "audio/wav" },
      body: makeWav({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames: 1600 }),
    });
    expect(res.status).toBe(415);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("unsupported_media_type");
  });

  it("a multipart body that cannot be parsed is 400 bad_request naming multipart, not 'invalid JSON'", async () => {
    const u = await userOn("pro");
    for (const type of ["multipart/form-data; boundary=xx", "multipart/form-data"]) {
      const res = await call("/v1/transcribe", {
        method: "POST",
        headers: { ...bearer(u.jwt), "content-type": type },
        body: "--xx\r\nbad",
      });
      expect(res.status, type).toBe(400);
      const body = (await res.json()) as any;
      expect(body.error.code, type).toBe("bad_request");
      expect(body.error.message, type).toMatch(/multipart/i);
    }
  });
});

describe("a multipart body of many parts", () => {
  it("more than 64 parts is 400 validation_failed naming the body, before the form is parsed: nothing called, reserved or charged", async () => {
    const u = await userOn("pro");
    const wav = makeWav({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames: 1600 });
    const before = await ledgerOf(u.id);
    const called = (await upstreamRequests("openai")).length;
    for (const path of ["/v1/transcribe", "/v1/audio/transcriptions"]) {
      // 20,000 empty parts (a 25 MiB body holds 200,000: seconds of the runtime's form parser).
      const form = upload(wav, { provider: "openai", model: "whisper-1" });
      for (let i = 0; i < 20_000; i++) form.append("x", "");
      const res = await call(path, { method: "POST", headers: bearer(u.jwt), body: form });
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as any;
      expect(body.error.code, path).toBe("validation_failed");
      expect(JSON.stringify(body.error), path).toMatch(/64 multipart parts/);
    }
    expect((await upstreamRequests("openai")).length).toBe(called);
    const after = await ledgerOf(u.id);
    expect(after.usedMc).toBe(before.usedMc);
    expect(after.reservedMc).toBe(0);
  });

  it("a file with its fields, a field repeated, is read as before (64 parts and fewer)", async () => {
    const u = await userOn("pro");
    const wav = makeWav({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames: 16000 });
    const form = upload(wav, { model: "whisper-1", response_format: "verbose_json" });
    form.append("timestamp_granularities[]", "word");
    form.append("timestamp_granularities[]", "segment");
    while (form.getAll("x").length + 5 < 64) form.append("x", "");
    const res = await call("/v1/audio/transcriptions", { method: "POST", headers: bearer(u.jwt), body: form });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text).text).toEqual(expect.any(String));
  });
});

describe("fields in a multipart body or the query", () => {
  it("provider, model and language are held to the JSON body's rules: 400 validation_failed naming the field, nothing echoed, called or charged", async () => {
    const u = await userOn("pro");
    const wav = makeWav({ sampleRate: 16000, channels: 1, bitsPerSample: 16, frames: 1600 });
    const before = await ledgerOf(u.id);
    const called = (await upstreamRequests("deepgram")).length;
    const cases: [string, Record<string, string>][] = [
      ["provider", { provider: "p".repeat(100_000) }],
      ["model", { provider: "deepgram", model: "m".repeat(5000) }],
      ["language", { provider: "deepgram", language: "l".repeat(100_000) }],
    ];
    for (const [field, fields] of cases) {
      const multipart = await call("/v1/transcribe", { method: "POST", headers: bearer(u.jwt), body: upload(wav, fields) });
      const query = await call(`/v1/transcribe?${new URLSearchParams(fields)}`, {
        method: "POST",
        headers: { ...bearer(u.jwt), "content-type": "audio/wav" },
        body: wav,
      });
      for (const [way, res] of [
        ["multipart", multipart],
        ["query", query],
      ] as const) {
        const text = await res.text();
        expect(res.status, `${way} ${field}`).toBe(400);
        expect(text.length, `${way} ${field}: the value is not echoed`).toBeLessThan(2000);
        const body = JSON.parse(text);
        expect(body.error.code).toBe("validation_failed");
        expect(body.error.fields.map((f: any) => f.path)).toEqual([field]);
      }
    }
    expect((await upstreamRequests("deepgram")).length).toBe(called);
    const after = await ledgerOf(u.id);
    expect([after.usedMc, after.reservedMc]).toEqual([before.usedMc, 0]);
  });
});

describe("a raw audio upload whose client goes away mid-body", () => {
  for (const length of [undefined, "900000"]) {
    it(`is a 400 like a multipart one's, not an unhandled error logged as 500 (${length ? "Content-Length" : "chunked"}); nothing reaches the provider, nothing charged (an audit)`, async () => {
      const user = await userOn("pro");
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 3) controller.enqueue(new Uint8Array(32_000));
          else controller.error(new Error("Network connection lost."));
        },
      });
      const before = (await upstreamRequests("deepgram")).length;
      const headers: Record<string, string> = { ...bearer(user.jwt), "content-type": "audio/wav" };
      if (length) headers["content-length"] = length;
      const res = await call("/v1/transcribe?provider=deepgram", { method: "POST", headers, body, duplex: "half" } as any);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error).toMatchObject({ code: "bad_request", message: expect.stringMatching(/could not be read/) });
      expect((await upstreamRequests("deepgram")).length).toBe(before);
      expect((await ledgerOf(user.id)).usedMc).toBe(0);
    });
  }
});
