// The realtime provider adapters, the OpenAI meter, the uniform protocol's parsing and the client-token
// format, as pure functions (the relays and their wire formats run end to end in test/e2e/realtime*.test.ts).
import { describe, expect, it } from "vitest";
import { getConfig } from "../../../src/config";
import { realtimeCostMc } from "../../../src/metering/realtime";
import { SPEECH_TEXT_MAX_CHARS } from "../../../src/providers/text-limit";
import { newClientToken, tokenUser } from "../../../src/realtime/client-token";
import { listenCommand, speakCommand } from "../../../src/realtime/protocol";
import { cartesiaListen, cartesiaSpeak } from "../../../src/realtime/providers/cartesia";
import { deepgramListen, deepgramSpeak } from "../../../src/realtime/providers/deepgram";
import { elevenlabsListen, elevenlabsSpeak } from "../../../src/realtime/providers/elevenlabs";
import { RealtimeMeter } from "../../../src/realtime/providers/openai";
import { SPEAK_PROVIDERS } from "../../../src/realtime/providers/registry";
import { env } from "../../helpers/env";

const up = { urls: { api: "https://provider.test" }, key: "provider-secret-key" };
const listenParams = { model: "m", encoding: "linear16" as const, sampleRate: 16_000 };
const j = (x: unknown) => JSON.stringify(x);

describe("listen adapters", () => {
  it("ElevenLabs wraps audio as base64 chunks and commits on finalize/end", () => {
    const s = elevenlabsListen.start(listenParams, up);
    expect(s.target).toEqual({
      url: "https://provider.test/v1/speech-to-text/realtime?model_id=m&audio_format=pcm_16000&include_timestamps=true",
      headers: { "xi-api-key": "provider-secret-key" },
    });
    expect(JSON.parse(s.audio(new Uint8Array([1, 2, 3]).buffer) as string)).toEqual({
      message_type: "input_audio_chunk",
      audio_base_64: "AQID",
      commit: false,
      sample_rate: 16_000,
    });
    expect(JSON.parse(s.end() as string)).toMatchObject({ audio_base_64: "", commit: true });
  });

  it("ElevenLabs: a committed transcript takes its times from the words; one without them is sent at the next message", () => {
    const s = elevenlabsListen.start(listenParams, up);
    s.audio(new ArrayBuffer(32_000)); // 1 s sent
    expect(s.idle?.()).toBe(false);
    expect(s.read(j({ message_type: "committed_transcript", text: "word1 word2" }))).toEqual([]);
    const final = s.read(
      j({
        message_type: "committed_transcript_with_timestamps",
        text: "word1 word2",
        words: [
          { text: "word1", start: 0, end: 0.5, type: "word" },
          { text: " ", start: 0.5, end: 0.5, type: "spacing" },
          { text: "word2", start: 0.5, end: 1, type: "word" },
        ],
      }),
    );
    expect(final).toEqual([{ type: "transcript", text: "word1 word2", isFinal: true, start: 0, end: 1 }]);
    expect(s.idle?.()).toBe(true);
    s.audio(new ArrayBuffer(16_000)); // 1.5 s
    expect(s.read(j({ message_type: "committed_transcript", text: "word3" }))).toEqual([]);
    expect(s.read(j({ message_type: "partial_transcript", text: "word4" }))).toEqual([
      { type: "transcript", text: "word3", isFinal: true, start: 1, end: 1.5 },
      { type: "transcript", text: "word4", isFinal: false, start: 1.5, end: 1.5 },
    ]);
    expect(s.read(j({ message_type: "quota_exceeded", error: "Out of quota" }))).toEqual([{ type: "error", message: "Out of quota" }]);
  });

  it("a BCP 47 language (en-US) goes to Cartesia and ElevenLabs as ISO 639-1 (en), to Deepgram as it is", () => {
    const params = { ...listenParams, language: "en-US" };
    expect(new URL(cartesiaListen.start(params, up).target.url).searchParams.get("language")).toBe("en");
    expect(new URL(elevenlabsListen.start(params, up).target.url).searchParams.get("language_code")).toBe("en");
    expect(new URL(deepgramListen.start(params, up).target.url).searchParams.get("language")).toBe("en-US");
  });

  it("Deepgram: results with their times, silence skipped, Metadata ends the stream", () => {
    const s = deepgramListen.start({ ...listenParams, language: "en" }, up);
    expect(s.target.url).toBe(
      "https://provider.test/v1/listen?model=m&language=en&encoding=linear16&sample_rate=16000&channels=1&interim_results=true",
    );
    expect(s.target.headers).toEqual({ authorization: "Token provider-secret-key" });
    const results = (text: string, is_final: boolean) =>
      j({ type: "Results", start: 1.5, duration: 0.25, is_final, channel: { alternatives: [{ transcript: text }] } });
    expect(s.read(results("hi", true))).toEqual([{ type: "transcript", text: "hi", isFinal: true, start: 1.5, end: 1.75 }]);
    expect(s.read(results("", true))).toEqual([]);
    expect(s.read(j({ type: "Metadata", duration: 2 }))).toEqual([{ type: "ended" }]);
    expect(s.audio(new ArrayBuffer(4)).constructor).toBe(ArrayBuffer); // audio goes as it is
  });

  it("Cartesia: transcript deltas placed one after another by their durations; done ends the stream", () => {
    const s = cartesiaListen.start({ ...listenParams, encoding: "mulaw", sampleRate: 8_000 }, up);
    expect(s.target.url).toContain("encoding=pcm_mulaw&sample_rate=8000");
    expect(s.read(j({ type: "transcript", is_final: false, text: "word1", duration: 0.5 }))).toEqual([
      { type: "transcript", text: "word1", isFinal: false, start: 0, end: 0.5 },
    ]);
    s.read(j({ type: "transcript", is_final: true, text: "word1 word2", duration: 1 }));
    expect(s.read(j({ type: "transcript", is_final: true, text: " word3", duration: 0.5 }))).toEqual([
      { type: "transcript", text: "word3", isFinal: true, start: 1, end: 1.5 },
    ]);
    expect(s.read(j({ type: "done" }))).toEqual([{ type: "ended" }]);
    expect([s.finalize(), s.end()]).toEqual(["finalize", "close"]);
  });
});

describe("speak adapters", () => {
  const speakParams = { voiceId: "v1", model: "m1", format: "pcm" as const, sampleRate: 24_000 };

  it("ElevenLabs: each flush closes a context (answered by its isFinal); the next text opens another with the unbilled ' '", () => {
    const s = elevenlabsSpeak.start(speakParams, up);
    expect(s.target.url).toBe(
      "https://provider.test/v1/text-to-speech/v1/multi-stream-input?model_id=m1&output_format=pcm_24000&inactivity_timeout=180",
    );
    expect(s.text("Hello").map((f) => JSON.parse(f as string))).toEqual([
      { text: " ", context_id: "ctx-0" },
      { text: "Hello", context_id: "ctx-0" },
    ]);
    expect(s.text(" there").map((f) => JSON.parse(f as string))).toEqual([{ text: " there", context_id: "ctx-0" }]);
    expect(s.flush().map((f) => JSON.parse(f as string))).toEqual([
      { context_id: "ctx-0", text: "", flush: true },
      { context_id: "ctx-0", close_context: true },
    ]);
    expect(JSON.parse(s.text("Next")[0] as string)).toEqual({ text: " ", context_id: "ctx-1" });
    const [audio] = s.read(j({ audio: "AQID", isFinal: null, contextId: "ctx-0" }));
    expect(audio?.type === "audio" && [...new Uint8Array(audio.bytes)]).toEqual([1, 2, 3]);
    expect(s.read(j({ isFinal: true, contextId: "ctx-0" }))).toEqual([{ type: "flushed" }]);
  });

  it("Cartesia and Deepgram: their flush messages; binary audio passes as it is", () => {
    const c = cartesiaSpeak.start(speakParams, up);
    expect(JSON.parse(c.flush()[0] as string)).toMatchObject({ transcript: "", continue: true, flush: true, model_id: "m1" });
    expect(c.read(j({ type: "flush_done" }))).toEqual([{ type: "flushed" }]);
    const d = deepgramSpeak.start({ ...speakParams, voiceId: deepgramSpeak.defaultVoice, model: "aura-2-luna-en" }, up);
    expect(d.target.url).toBe("https://provider.test/v1/speak?model=aura-2-luna-en&encoding=linear16&sample_rate=24000");
    expect(d.text("hi")).toEqual([j({ type: "Speak", text: "hi" })]);
    const bytes = new ArrayBuffer(8);
    expect(d.read(bytes)).toEqual([{ type: "audio", bytes }]);
    expect(d.read(j({ type: "Flushed", sequence_id: 0 }))).toEqual([{ type: "flushed" }]);
  });

  it("mp3 streams only from ElevenLabs; μ-law at 8 kHz from all three", () => {
    expect(SPEAK_PROVIDERS.filter((p) => p.supports("mp3", 44_100)).map((p) => p.id)).toEqual(["elevenlabs"]);
    expect(SPEAK_PROVIDERS.every((p) => p.supports("ulaw", 8_000))).toBe(true);
  });
});

describe("the OpenAI Realtime meter", () => {
  const audio = (bytes: number) => Buffer.alloc(bytes).toString("base64");

  it("estimates a running response from what flows, then charges what response.done reports", () => {
    const m = new RealtimeMeter("gpt-realtime");
    m.server(j({ type: "session.created", session: { audio: { input: { format: { type: "audio/pcm", rate: 24_000 } } } } }));
    const append = j({ type: "input_audio_buffer.append", audio: audio(48_000) }); // 1 s: 10 tokens
    expect(m.clientCostMc(append)).toBe(realtimeCostMc("gpt-realtime", 10, 0));
    m.client(append);
    m.client(j({ type: "response.create" }));
    m.server(j({ type: "response.output_audio.delta", delta: audio(4_800) })); // 0.1 s: 2 tokens
    m.server(j({ type: "response.output_audio_transcript.delta", delta: "Hi" }));
    expect(m.costMc).toBe(realtimeCostMc("gpt-realtime", 10, 3));
    expect(m.finalMc).toBe(m.costMc); // cut off now: charged the estimate
    m.server(j({ type: "response.done", response: { usage: { input_tokens: 12, output_tokens: 7 } } }));
    expect([m.costMc, m.finalMc]).toEqual([realtimeCostMc("gpt-realtime", 12, 7), realtimeCostMc("gpt-realtime", 12, 7)]);
    // The next response reads the conversation again: its estimate starts from the last report's total.
    expect(m.clientCostMc(j({ type: "response.create" }))).toBe(realtimeCostMc("gpt-realtime", 19, 0));
    // Input appended but never answered is not charged (OpenAI bills responses).
    m.client(append);
    expect(m.finalMc).toBe(realtimeCostMc("gpt-realtime", 12, 7));
  });

  it("a response.create that OpenAI refuses (an error event, no response.created) adds nothing to the charge", () => {
    const m = new RealtimeMeter("gpt-realtime");
    m.client(j({ type: "response.create" }));
    m.server(j({ type: "response.created", response: { id: "resp_1", usage: null } }));
    m.server(j({ type: "response.done", response: { id: "resp_1", usage: { input_tokens: 12, output_tokens: 7 } } }));
    m.client(j({ type: "response.create", response: { max_output_tokens: 0 } }));
    m.server(j({ type: "error", error: { type: "invalid_request_error", code: "invalid_value", param: "response.max_output_tokens" } }));
    // The session ends now: charged what OpenAI reported, not an estimate for a response that never ran.
    expect(m.finalMc).toBe(realtimeCostMc("gpt-realtime", 12, 7));
    // A response that did start and is cut off is charged its estimate (deltas imply it runs).
    m.server(j({ type: "response.output_audio_transcript.delta", delta: "Hi" }));
    expect(m.finalMc).toBeGreaterThan(realtimeCostMc("gpt-realtime", 12, 7));
  });

  it("a session cut between response.create and OpenAI's answer pays the response's estimate (OpenAI may have begun: it re-reads the conversation)", () => {
    const m = new RealtimeMeter("gpt-realtime");
    m.client(j({ type: "response.create" }));
    m.server(j({ type: "response.done", response: { id: "resp_1", usage: { input_tokens: 12, output_tokens: 7 } } }));
    m.client(j({ type: "response.create" }));
    // Ends now, before response.created: the re-read conversation (19 tokens) is charged as estimated.
    expect(m.finalMc).toBe(realtimeCostMc("gpt-realtime", 12, 7) + realtimeCostMc("gpt-realtime", 19, 0));
  });
});

describe("the uniform protocol and client tokens", () => {
  it("parses client messages and says what is wrong with the rest", () => {
    expect(listenCommand(j({ type: "finalize" }))).toBe("finalize");
    expect(listenCommand("finalize")).toHaveProperty("error");
    expect(speakCommand(j({ type: "text", text: "hi" }))).toEqual({ type: "text", text: "hi" });
    expect(speakCommand(j({ type: "text", text: 5 }))).toHaveProperty("error");
    expect(speakCommand(j({ type: "text", text: "x".repeat(SPEECH_TEXT_MAX_CHARS + 1) }))).toHaveProperty("error");
    expect(speakCommand(j([1]))).toHaveProperty("error");
  });

  it("a token names its user; anything else names nobody", () => {
    const token = newClientToken("usr_0123456789abcdef");
    expect(token).toMatch(/^vgt_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(tokenUser(token)).toBe("usr_0123456789abcdef");
    expect(tokenUser(`${token}x`)).toBeUndefined();
    expect(tokenUser("vgt_%%%%.aaaa")).toBeUndefined();
    expect(tokenUser(`vgt_${btoa("a/b").replaceAll("=", "")}.${"a".repeat(43)}`)).toBeUndefined();
  });
});

describe("realtime variables", () => {
  it("a session checks its credential at least every 30 s by default, and cannot be configured to check less often", () => {
    const vars = { ...(env as any) };
    delete vars.REALTIME_CHECK_INTERVAL_SECONDS;
    delete vars.REALTIME_MAX_SECONDS;
    const config = getConfig(vars);
    expect([config.REALTIME_CHECK_INTERVAL_SECONDS, config.REALTIME_MAX_SECONDS]).toEqual([10, 3600]);
    expect(() => getConfig({ ...vars, REALTIME_CHECK_INTERVAL_SECONDS: "31" })).toThrowError(/REALTIME_CHECK_INTERVAL_SECONDS/);
    expect(() => getConfig({ ...vars, REALTIME_MAX_SECONDS: "0" })).toThrowError(/REALTIME_MAX_SECONDS/);
  });
});
