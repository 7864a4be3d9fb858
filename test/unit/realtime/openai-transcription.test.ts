// OpenAI Realtime sessions with input audio transcription on (src/realtime/providers/openai-transcription.ts):
// the usage OpenAI reports in conversation.item.input_audio_transcription.completed is charged at the
// operator's prices — tokens at the transcription model's LLM price, seconds (and tokens of a model without
// one) at the STT price of openai per minute — counted at its bound from the commit, so the session tops up
// before the report; through the worker, it is in the session's charge and within its reservation.
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index";
import { parsePrices } from "../../../src/metering/price-config";
import { DEFAULT_PRICES, llmCostMc, sttCostMc } from "../../../src/metering/prices";
import { realtimeCostMc } from "../../../src/metering/realtime";
import { RealtimeMeter } from "../../../src/realtime/providers/openai";
import { BASE } from "../../helpers/api";
import { env } from "../../helpers/env";
import { inAccount, ledgerOf, sleep, until, userOn } from "../../helpers/reliability";
import { HANDSHAKE } from "./handshake";

const j = (v: unknown) => JSON.stringify(v);
const audio = (bytes: number) => Buffer.alloc(bytes).toString("base64");
const PCM24 = { type: "audio/pcm", rate: 24_000 }; // 48,000 bytes a second

/** A meter whose session transcribes its input with `model`, at `prices`. */
function meterWith(model: string, prices = DEFAULT_PRICES) {
  const m = new RealtimeMeter("gpt-realtime", prices);
  m.server(j({ type: "session.updated", session: { type: "realtime", audio: { input: { format: PCM24, transcription: { model } } } } }));
  return m;
}

/** The client appends `bytes` of audio and OpenAI commits it as item `id`. */
function turn(m: RealtimeMeter, id: string, bytes: number) {
  m.client(j({ type: "input_audio_buffer.append", audio: audio(bytes) }));
  m.server(j({ type: "input_audio_buffer.committed", previous_item_id: null, item_id: id }));
}

const completed = (id: string, usage: unknown) =>
  j({ type: "conversation.item.input_audio_transcription.completed", item_id: id, content_index: 0, transcript: "hi", usage });
const tokens = (input: number, output: number) => ({
  type: "tokens",
  input_tokens: input,
  output_tokens: output,
  total_tokens: input + output,
  input_token_details: { text_tokens: 0, audio_tokens: input },
});

describe("the OpenAI Realtime meter: input audio transcription", () => {
  it("tokens (gpt-4o-transcribe) are charged at the transcription model's price as the operator set it", () => {
    const prices = parsePrices(j({ llm: { "gpt-4o-transcribe": { input: 3, output: 11 } } }));
    const m = meterWith("gpt-4o-transcribe", prices);
    turn(m, "item_1", 96_000); // 2 s
    m.server(completed("item_1", tokens(20, 6)));
    expect(m.finalMc).toBe(llmCostMc("gpt-4o-transcribe", 20, 6, prices));
    expect(m.finalMc).toBe(3 * 20 + 11 * 6);
    expect(m.transcription.usage).toMatchObject({ inputTokens: 20, outputTokens: 6 });
  });

  it("seconds (whisper-1) are charged at the STT price of openai per minute", () => {
    const prices = parsePrices(j({ stt: { openai: 30 } }));
    const m = meterWith("whisper-1", prices);
    turn(m, "item_1", 96_000);
    m.server(completed("item_1", { type: "duration", seconds: 2 }));
    expect(m.finalMc).toBe(sttCostMc("openai", 2, prices));
    expect(m.finalMc).toBe(1_000); // 30 credits a minute: 1 credit for 2 s
    expect(m.transcription.usage.seconds).toBe(2);
  });

  it("tokens of a model without an LLM price are charged by the turn's measured audio at the STT price of openai", () => {
    const m = meterWith("house-transcribe");
    turn(m, "item_1", 144_000); // 3 s measured
    m.server(completed("item_1", tokens(30, 8)));
    expect(m.finalMc).toBe(sttCostMc("openai", 3));
  });

  it("a committed turn counts at its bound until reported (so the session tops up first); a failed one costs nothing", () => {
    const m = meterWith("gpt-4o-transcribe");
    turn(m, "item_1", 48_000);
    const bound = m.finalMc; // the end cut the report off: the bound is charged
    expect(bound).toBeGreaterThan(llmCostMc("gpt-4o-transcribe", 10, 5)!); // above what 1 s reports
    // What the session must hold now: the bound, on top of the estimate of the next response's input (1 s: 10 tokens).
    const inputEstimate = realtimeCostMc("gpt-realtime", 10, 0);
    expect(m.costMc).toBe(bound + inputEstimate);
    m.server(completed("item_1", tokens(10, 5)));
    expect(m.costMc).toBe(llmCostMc("gpt-4o-transcribe", 10, 5)! + inputEstimate);
    turn(m, "item_2", 48_000);
    m.server(j({ type: "conversation.item.input_audio_transcription.failed", item_id: "item_2", content_index: 0, error: {} }));
    expect(m.finalMc).toBe(llmCostMc("gpt-4o-transcribe", 10, 5));
  });

  it("transcription off (the default, or turned off again): commits add nothing", () => {
    const m = new RealtimeMeter("gpt-realtime");
    m.server(j({ type: "session.created", session: { type: "realtime", audio: { input: { format: PCM24, transcription: null } } } }));
    turn(m, "item_1", 48_000);
    expect(m.finalMc).toBe(0);
    // The beta protocol's field, then off again.
    m.server(j({ type: "session.updated", session: { input_audio_transcription: { model: "whisper-1" }, input_audio_format: "pcm16" } }));
    turn(m, "item_2", 48_000);
    expect(m.finalMc).toBe(sttCostMc("openai", 1));
    m.server(completed("item_2", { type: "duration", seconds: 1 }));
    m.server(j({ type: "session.updated", session: { input_audio_transcription: null } }));
    turn(m, "item_3", 48_000);
    expect(m.finalMc).toBe(sttCostMc("openai", 1));
  });
});

describe("the OpenAI Realtime meter: reports it does not take at their word", () => {
  it("figures that are no counts (negative, not finite, not numbers) are not believed: a turn's bound, a response's estimate is charged", () => {
    const m = meterWith("gpt-4o-transcribe");
    turn(m, "item_1", 48_000);
    const bound = m.finalMc;
    expect(bound).toBeGreaterThan(0);
    m.server(completed("item_1", tokens(-1_000_000_000, -5)));
    expect(m.finalMc).toBe(bound);
    turn(m, "item_2", 48_000);
    m.server(
      '{"type":"conversation.item.input_audio_transcription.completed","item_id":"item_2","usage":{"type":"tokens","input_tokens":1e400,"output_tokens":3}}',
    );
    expect(m.finalMc).toBe(2 * bound);
    expect(Number.isFinite(m.finalMc)).toBe(true);
    expect(m.transcription.usage).toEqual({ seconds: 0, inputTokens: 0, outputTokens: 0 });

    const w = meterWith("whisper-1");
    turn(w, "item_1", 48_000);
    w.server(completed("item_1", { type: "duration", seconds: -100 }));
    expect(w.finalMc).toBe(sttCostMc("openai", 1));
    expect(w.transcription.usage.seconds).toBe(0);

    // response.done: a negative figure would take from the bill; its estimate stands instead.
    const r = meterWith("whisper-1");
    r.client(j({ type: "response.create" }));
    r.server(j({ type: "response.created" }));
    r.server(j({ type: "response.output_text.delta", delta: "hi" }));
    r.server(j({ type: "response.done", response: { usage: { input_tokens: -1_000_000, output_tokens: 3 } } }));
    expect(r.finalMc).toBe(realtimeCostMc("gpt-realtime", 0, 3));
    expect(r.usage).toEqual({ inputTokens: 0, outputTokens: 3 });
  });

  it("a duration for an item no commit announced is bounded as /v1/transcribe bounds one (no audio was measured); a repeated report is charged once", () => {
    const m = meterWith("whisper-1");
    turn(m, "item_1", 48_000);
    m.server(completed("item_unknown", { type: "duration", seconds: 100_000 }));
    expect(m.finalMc).toBe(sttCostMc("openai", 1)); // item_1's bound only
    m.server(completed("item_1", { type: "duration", seconds: 1 }));
    m.server(completed("item_1", { type: "duration", seconds: 1 }));
    expect(m.finalMc).toBe(sttCostMc("openai", 1));

    const t = meterWith("gpt-4o-transcribe");
    turn(t, "item_1", 48_000);
    t.server(completed("item_1", tokens(20, 5)));
    t.server(completed("item_1", tokens(20, 5)));
    expect(t.finalMc).toBe(llmCostMc("gpt-4o-transcribe", 20, 5));
  });

  it("a turn is charged at the model it was committed under, though transcription was turned off before its report", () => {
    const m = meterWith("gpt-4o-transcribe");
    turn(m, "item_1", 48_000); // 1 s
    m.server(j({ type: "session.updated", session: { type: "realtime", audio: { input: { format: PCM24, transcription: null } } } }));
    m.server(completed("item_1", tokens(400, 300)));
    expect(m.finalMc).toBe(llmCostMc("gpt-4o-transcribe", 400, 300));
    expect(m.finalMc).not.toBe(sttCostMc("openai", 1));
  });

  it("audio appended while transcription is on counts at its transcription's bound before the commit: an append is admitted against it", () => {
    const m = meterWith("gpt-4o-transcribe");
    const append = j({ type: "input_audio_buffer.append", audio: audio(480_000) }); // 10 s
    const realtimeOnly = realtimeCostMc("gpt-realtime", 100, 0); // 10 tokens a second
    const tenSecondsBound = m.transcription.appendCostMc(480_000);
    expect(tenSecondsBound).toBeGreaterThan(0);
    expect(m.clientCostMc(append)).toBe(realtimeOnly + tenSecondsBound);
    m.client(append);
    expect(m.costMc).toBe(realtimeOnly + tenSecondsBound);
    expect(m.finalMc).toBe(0); // nothing committed: nothing transcribed yet
    m.server(j({ type: "input_audio_buffer.committed", previous_item_id: null, item_id: "item_1" }));
    expect(m.costMc).toBe(realtimeOnly + tenSecondsBound); // the commit moves the bound, adds nothing
    expect(m.finalMc).toBe(tenSecondsBound);
    // Off: appends add only the realtime model's input.
    const off = new RealtimeMeter("gpt-realtime");
    expect(off.clientCostMc(append)).toBe(realtimeOnly);
    // ... until a session.update turns transcription on: the audio buffered so far becomes owed at its bound.
    off.server(j({ type: "session.created", session: { type: "realtime", audio: { input: { format: PCM24, transcription: null } } } }));
    off.client(append);
    const turnOn = {
      type: "session.update",
      session: { type: "realtime", audio: { input: { transcription: { model: "gpt-4o-transcribe" } } } },
    };
    expect(off.clientCostMc(j(turnOn))).toBe(tenSecondsBound);
    expect(off.clientCostMc(j({ type: "session.update", session: { type: "realtime", instructions: "be brief" } }))).toBe(0);
    off.client(j(turnOn));
    off.server(
      j({
        type: "session.updated",
        session: { type: "realtime", audio: { input: { format: PCM24, transcription: { model: "gpt-4o-transcribe" } } } },
      }),
    );
    expect(off.costMc).toBe(realtimeOnly + tenSecondsBound);
  });
});

describe("GET /v1/realtime with input audio transcription on", () => {
  it("the transcription is charged with the session, at PRICES, within a reservation topped up to cover it", async () => {
    const u = await userOn("pro");
    // Expensive enough that one 2 s turn costs more than the first slice (1,000 tokens at gpt-realtime's output price).
    const PRICES = j({ llm: { "gpt-4o-transcribe": { input: 5_000, output: 5_000 } } });
    const vars = { ...(env as any), PRICES };
    const headers = new Headers({ ...HANDSHAKE, authorization: `Bearer ${u.jwt}` });
    const res = await worker.fetch(
      new Request(`${BASE}/v1/realtime?model=openai/gpt-realtime`, { headers }),
      vars,
      createExecutionContext(),
    );
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    ws.accept();
    const events: any[] = [];
    ws.addEventListener("message", (e: MessageEvent) => void events.push(JSON.parse(e.data as string)));
    const closed = new Promise<number>((ok) => ws.addEventListener("close", (e: CloseEvent) => ok(e.code)));
    ws.send(
      j({ type: "session.update", session: { type: "realtime", audio: { input: { transcription: { model: "gpt-4o-transcribe" } } } } }),
    );
    ws.send(j({ type: "input_audio_buffer.append", audio: audio(96_000) }));
    ws.send(j({ type: "input_audio_buffer.commit" }));
    const done = await until(
      async () => events.find((e) => e.type === "conversation.item.input_audio_transcription.completed"),
      (e) => e !== undefined,
    );
    const exact = llmCostMc("gpt-4o-transcribe", done.usage.input_tokens, done.usage.output_tokens, parsePrices(PRICES))!;
    expect(exact).toBeGreaterThan(realtimeCostMc("gpt-realtime", 0, 1_000));
    // The session asked for more before (or as) the report came: what it holds covers the charge.
    const reserved = await until(
      () => inAccount(u.id, (_, state) => state.storage.sql.exec("SELECT reserved_mc AS r FROM rt_sessions").one().r as number),
      (r) => r >= exact,
    );
    expect(reserved).toBeGreaterThanOrEqual(exact);
    await sleep(50);
    ws.close(1000);
    expect(await closed).toBe(1000);
    const ledger = await until(
      () => ledgerOf(u.id),
      (l) => l.usedMc > 0,
    );
    expect([ledger.usedMc, ledger.reservedMc]).toEqual([exact, 0]);
    expect(events.filter((e) => e.type === "error")).toEqual([]);
  }, 30_000);

  it("audio whose transcription the credits cannot pay is stopped as it is appended (4402), not committed and charged past the limit (§4.3: one slice)", async () => {
    const u = await userOn("free"); // 2,500 credits
    // whisper-1 at 60,000 credits a minute: 1,000 a second, so 10 s of audio to transcribe is 4 × the balance.
    const PRICES = j({ stt: { openai: 60_000 } });
    const vars = { ...(env as any), PRICES };
    const headers = new Headers({ ...HANDSHAKE, authorization: `Bearer ${u.jwt}` });
    const res = await worker.fetch(
      new Request(`${BASE}/v1/realtime?model=openai/gpt-realtime`, { headers }),
      vars,
      createExecutionContext(),
    );
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    ws.accept();
    const events: any[] = [];
    ws.addEventListener("message", (e: MessageEvent) => void events.push(JSON.parse(e.data as string)));
    const closed = new Promise<number>((ok) => ws.addEventListener("close", (e: CloseEvent) => ok(e.code)));
    ws.send(j({ type: "session.update", session: { type: "realtime", audio: { input: { transcription: { model: "whisper-1" } } } } }));
    await until(
      async () => events.some((e) => e.type === "session.updated"),
      (v) => v,
    );
    for (let i = 0; i < 10; i++) ws.send(j({ type: "input_audio_buffer.append", audio: audio(48_000) })); // 1 s each
    ws.send(j({ type: "input_audio_buffer.commit" }));
    const code = await Promise.race([closed, sleep(8_000).then(() => "open" as const)]);
    if (code === "open") ws.close(1000);
    const ledger = await until(
      () => ledgerOf(u.id),
      (l) => l.usedMc > 0 && l.reservedMc === 0,
    );
    const slice = realtimeCostMc("gpt-realtime", 0, 1_000);
    expect(code).toBe(4402);
    expect(ledger.usedMc).toBeLessThanOrEqual(2_500_000 + slice);
  }, 30_000);
});
