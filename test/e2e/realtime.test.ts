// Realtime voice through a real `wrangler dev` (issue 16): live transcription through each listen
// provider, streaming speech through each speak provider, and OpenAI Realtime through the official SDK —
// each over the provider's own WebSocket protocol (the mocks in test/mocks/realtime/), charged exactly.
// Governance (credits running out, revocation, caps, client tokens, faults): realtime-governance.test.ts.
import OpenAI from "openai";
import { OpenAIRealtimeWS } from "openai/realtime/ws";
import { beforeEach, describe, expect, it } from "vitest";
import { llmCostMc, sttCostMc, ttsCostMc } from "../../src/metering/prices";
// @ts-expect-error plain JS module shared with the mock server
import { mockAudio } from "../mocks/audio.mjs";
// @ts-expect-error plain JS module shared with the mock server
import { ListenMeter } from "../mocks/realtime/listen.mjs";
import { bearer, call, mock, payingUser, settled, workerUrl } from "./client";
import { connect, loopbackConnection, upstreamSession, usage } from "./ws-client";

beforeEach(async () => {
  await mock("/reset", { method: "POST" });
});

/** Every place a client credential could leak to the provider: the upgrade's headers and the text frames. */
const sentUpstream = (rec: any) => JSON.stringify([rec.headers, rec.query, rec.textFrames]);

const LISTEN_PATHS: Record<string, string> = {
  deepgram: "/v1/listen",
  elevenlabs: "/v1/speech-to-text/realtime",
  cartesia: "/stt/websocket",
};

describe("listen: a 10 s PCM stream through each provider", () => {
  for (const provider of ["deepgram", "elevenlabs", "cartesia"]) {
    it(`${provider}: transcripts as the audio flows, exactly 10 s charged`, async () => {
      const u = await payingUser("pro");
      const c = await connect(`/v1/realtime/listen?provider=${provider}&encoding=linear16&sampleRate=16000`, { headers: bearer(u.key) });
      // 100 frames of 100 ms (16 kHz, 16-bit mono: 3,200 bytes each); the mock's schedule predicts the finals.
      const meter = new ListenMeter(32_000);
      const expected: { text: string; start: number; end: number }[] = [];
      for (let i = 0; i < 100; i++) {
        c.send(Buffer.alloc(3200, i % 251));
        for (const seg of meter.push(3200)) if (seg.isFinal) expected.push(seg);
      }
      c.send({ type: "close" });
      expect(await c.closed()).toEqual({ code: 1000, reason: "" });

      const transcripts = c.all("transcript");
      expect(transcripts.filter((t) => t.isFinal).map((t) => [t.text, t.start, t.end])).toEqual(
        expected.map((s) => [s.text, s.start, s.end]),
      );
      expect(expected).toHaveLength(10);
      expect(transcripts.some((t) => !t.isFinal)).toBe(true); // interim results too
      const cost = sttCostMc(provider, 10)!;
      expect(c.all("usage").at(-1)).toEqual({ type: "usage", seconds: 10, cost: cost / 1000 });

      const used = await settled(
        () => usage(u.jwt),
        (b) => b.breakdown.stt > 0,
      );
      expect(used.breakdown.stt).toBe(cost / 1000);
      expect(used.credits.used).toBe(cost / 1000);

      const rec = await upstreamSession(provider, LISTEN_PATHS[provider]!);
      expect([rec.audioSeconds, rec.received.audioBytes, rec.key, rec.protocolErrors]).toEqual([
        10,
        320_000,
        `platform-${provider}-key`,
        [],
      ]);
      expect(sentUpstream(rec)).not.toContain(u.key);

      // The session is one entry of the request log (API.md §7.1), written once it ended, with its cost.
      const logged = await settled(
        async () => ((await (await call("/v1/requests", { headers: bearer(u.jwt) })).json()) as any).requests,
        (rows: any[]) => rows.some((r) => r.path === "/v1/realtime/listen"),
      );
      expect(logged.find((r: any) => r.path === "/v1/realtime/listen")).toMatchObject({
        method: "GET",
        status: 101,
        provider,
        cost: cost / 1000,
      });
    });
  }
});

const SPEAK_FORMATS: Record<string, { path: string; format: string }> = {
  elevenlabs: { path: "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/multi-stream-input", format: "pcm_24000" },
  cartesia: { path: "/tts/websocket", format: "raw" },
  deepgram: { path: "/v1/speak", format: "linear16" },
};

describe("speak: text sent in pieces through each provider", () => {
  for (const provider of ["elevenlabs", "cartesia", "deepgram"]) {
    it(`${provider}: audio streams back per flush, charged per character`, async () => {
      const u = await payingUser("pro");
      const { path, format } = SPEAK_FORMATS[provider]!;
      const c = await connect(`/v1/realtime/speak?provider=${provider}&format=pcm`, { headers: bearer(u.key) });
      for (const text of ["Hello ", "from ", "Voxgate."]) c.send({ type: "text", text });
      c.send({ type: "flush" });
      await c.json("done");
      expect(c.audio()).toEqual(Buffer.from(mockAudio("Hello from Voxgate.", format)));
      c.send({ type: "text", text: "Second part." });
      c.send({ type: "flush" });
      c.send({ type: "flush" }); // nothing new to speak: answered at once, in order
      await c.json("done");
      await c.json("done");
      c.send({ type: "close" });
      expect(await c.closed()).toEqual({ code: 1000, reason: "" });
      expect(c.audio()).toEqual(Buffer.concat([mockAudio("Hello from Voxgate.", format), mockAudio("Second part.", format)]));

      const characters = "Hello from Voxgate.Second part.".length;
      const cost = ttsCostMc(provider, characters, true)!; // an API key: the developer discount
      expect(c.all("usage").at(-1)).toMatchObject({ type: "usage", characters, cost: cost / 1000 });
      const used = await settled(
        () => usage(u.jwt),
        (b) => b.breakdown.tts > 0,
      );
      expect(used.breakdown.tts).toBe(cost / 1000);
      const rec = await upstreamSession(provider, path);
      expect([rec.received.characters, rec.key, rec.protocolErrors]).toEqual([characters, `platform-${provider}-key`, []]);
      expect(sentUpstream(rec)).not.toContain(u.key);
    });
  }
});

describe("OpenAI Realtime through the official SDK", () => {
  it("OpenAIRealtimeWS with a Voxgate key and baseURL: audio deltas, charged from response.done usage", async () => {
    const u = await payingUser("pro");
    const client = new OpenAI({ apiKey: u.key, baseURL: `${workerUrl()}/v1` });
    // The SDK forces wss:; wrangler dev is plain HTTP on loopback, so hand ws a plain TCP connection.
    const rt = new OpenAIRealtimeWS({ model: "openai/gpt-realtime", options: { createConnection: loopbackConnection as any } }, client);
    const audio: string[] = [];
    const events: string[] = [];
    const done = new Promise<any>((resolve, reject) => {
      rt.on("event", (e) => events.push(e.type));
      rt.on("error", reject);
      rt.on("response.output_audio.delta", (e) => audio.push(e.delta));
      rt.on("response.done", resolve);
    });
    rt.socket.on("open", () => {
      rt.send({ type: "session.update", session: { type: "realtime", output_modalities: ["audio"] } });
      rt.send({
        type: "conversation.item.create",
        item: { type: "message", role: "user", content: [{ type: "input_text", text: "Say hi" }] },
      });
      rt.send({ type: "response.create" });
    });
    const response = (await done).response;
    const closed = new Promise((resolve) => rt.socket.on("close", resolve));
    rt.close();
    await closed;
    expect(events.slice(0, 2)).toEqual(["session.created", "session.updated"]);
    expect(audio.length).toBeGreaterThanOrEqual(2);
    expect(Buffer.concat(audio.map((a) => Buffer.from(a, "base64")))).toEqual(Buffer.from(mockAudio("Echo: Say hi", "audio/pcm")));

    const cost = llmCostMc("gpt-realtime", response.usage.input_tokens, response.usage.output_tokens)!;
    expect(cost).toBeGreaterThan(0);
    const used = await settled(
      () => usage(u.jwt),
      (b) => b.breakdown.llm > 0,
    );
    expect(used.breakdown.llm).toBe(cost / 1000);
    const rec = await upstreamSession("openai", "/v1/realtime");
    expect([rec.query.model, rec.headers.authorization, rec.protocolErrors]).toEqual(["gpt-realtime", "Bearer platform-openai-key", []]);
    expect(sentUpstream(rec)).not.toContain(u.key);
  });
});
