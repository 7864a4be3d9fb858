// The OpenAI Realtime meter (src/realtime/providers/openai.ts) bounds what a session can cost before it is
// forwarded (API.md §4.3, §6): input a response reads must stay counted until that response is charged.
// Each test simulates a governor that admits only what costMc+clientCostMc says (passthrough.ts) and
// compares the most it ever had to reserve with what the session is finally charged (OpenAI's reports).
import { describe, expect, it } from "vitest";
import { realtimeCostMc, realtimeSlice } from "../../../src/metering/realtime";
import { RealtimeMeter } from "../../../src/realtime/providers/openai";

const j = (o: unknown) => JSON.stringify(o);
const slice = realtimeSlice("gpt-realtime").sliceMc!;
const cost = (i: number, o = 0) => realtimeCostMc("gpt-realtime", i, o);

/** A governor stand-in: the reservation the session needed = the highest running cost it was admitted at. */
function harness() {
  const m = new RealtimeMeter("gpt-realtime");
  let reservedPeak = 0;
  return {
    m,
    client(o: unknown) {
      const f = j(o);
      reservedPeak = Math.max(reservedPeak, m.costMc + m.clientCostMc(f));
      m.client(f);
    },
    server(o: unknown) {
      m.server(j(o)); // observed after the fact: OpenAI already did the work (the governor can only end the session)
    },
    get peak() {
      return reservedPeak;
    },
  };
}

describe("the OpenAI Realtime meter keeps counting what a running response reads", () => {
  it("two out-of-band responses at once: the small one's response.done takes only its own estimate from costMc", () => {
    const h = harness();
    h.server({ type: "session.created", session: { instructions: "", tools: [], audio: { input: { turn_detection: null } } } });
    const big = "w".repeat(200_000); // 200k tokens bound
    // A: out-of-band, huge instructions, long output; B: out-of-band, tiny, finishes first.
    h.client({ type: "response.create", response: { conversation: "none", instructions: big } });
    h.client({ type: "response.create", response: { conversation: "none", instructions: "hi", max_output_tokens: 1 } });
    h.server({ type: "response.created", response: { id: "A" } });
    h.server({ type: "response.created", response: { id: "B" } });
    const before = h.m.costMc;
    expect(before).toBeGreaterThanOrEqual(cost(200_000));
    h.server({ type: "response.done", response: { id: "B", usage: { input_tokens: 2, output_tokens: 1 } } });
    const after = h.m.costMc;
    // A is still running at OpenAI, reading 200k tokens: the running cost must still hold it.
    // A second huge out-of-band response C is admitted on top of it, not against a reservation A "freed".
    h.client({ type: "response.create", response: { conversation: "none", instructions: big } });
    h.client({ type: "response.create", response: { conversation: "none", instructions: "hi", max_output_tokens: 1 } });
    h.server({ type: "response.created", response: { id: "C" } });
    h.server({ type: "response.created", response: { id: "D" } });
    h.server({ type: "response.done", response: { id: "D", usage: { input_tokens: 2, output_tokens: 1 } } });
    // A and C finish: OpenAI reports what they read.
    h.server({ type: "response.done", response: { id: "A", usage: { input_tokens: 200_000, output_tokens: 10 } } });
    h.server({ type: "response.done", response: { id: "C", usage: { input_tokens: 200_000, output_tokens: 10 } } });
    const charged = h.m.finalMc;
    expect(after).toBeGreaterThanOrEqual(cost(200_000));
    expect(charged - h.peak).toBeLessThanOrEqual(slice);
  });

  it("a conversation item added while a response runs is carried into the next response's input", () => {
    const h = harness();
    h.server({ type: "session.created", session: { instructions: "", tools: [], audio: { input: { turn_detection: null } } } });
    h.client({ type: "response.create" });
    h.server({ type: "response.created", response: {} });
    const text = "x".repeat(200_000);
    h.client({ type: "conversation.item.create", item: { type: "message", role: "user", content: [{ type: "input_text", text }] } });
    h.server({ type: "response.done", response: { usage: { input_tokens: 10, output_tokens: 10 } } });
    // The next response reads the 200k-token item (the report did not): it still counts, and is admitted with it.
    expect(h.m.costMc).toBeGreaterThanOrEqual(cost(10, 10) + cost(200_000));
    const admittedAt = h.m.costMc + h.m.clientCostMc(j({ type: "response.create" }));
    expect(admittedAt).toBeGreaterThanOrEqual(cost(10, 10) + cost(200_020));
    h.client({ type: "response.create" });
    h.server({ type: "response.created", response: {} });
    // ...and while it runs, a second 200k item goes in: counted on top of the running response.
    h.client({ type: "conversation.item.create", item: { type: "message", role: "user", content: [{ type: "input_text", text }] } });
    h.server({ type: "response.done", response: { usage: { input_tokens: 200_020, output_tokens: 10 } } });
    h.client({ type: "response.create" });
    h.server({ type: "response.created", response: {} });
    h.server({ type: "response.done", response: { usage: { input_tokens: 400_040, output_tokens: 10 } } });
    expect(h.m.finalMc - h.peak).toBeLessThanOrEqual(slice);
  });

  it("server VAD: a turn appended while a response runs is admitted against what the response OpenAI may start will read", () => {
    const h = harness();
    const vad = { type: "server_vad", create_response: true, interrupt_response: true };
    h.server({ type: "session.created", session: { instructions: "", tools: [], audio: { input: { turn_detection: vad } } } });
    h.client({ type: "response.create" });
    h.server({ type: "response.created", response: {} });
    // While it runs: raise the session's instructions, then append a turn (a barge-in: OpenAI answers it itself).
    const upd = { type: "session.update", session: { type: "realtime", instructions: "y".repeat(200_000) } };
    expect(h.m.clientCostMc(j(upd))).toBe(0); // no turn pending yet: the append after it pays
    h.client(upd);
    h.server({
      type: "session.updated",
      session: { instructions: "y".repeat(200_000), tools: [], audio: { input: { turn_detection: vad } } },
    });
    const append = { type: "input_audio_buffer.append", audio: Buffer.alloc(48_000).toString("base64") };
    expect(h.m.clientCostMc(j(append))).toBeGreaterThanOrEqual(cost(200_000 + 10));
    h.client(append);
    const peakBeforeTurn = h.peak;
    // OpenAI: barge-in cancels the running response, VAD ends the turn and starts a response itself.
    h.server({ type: "response.done", response: { status: "cancelled", usage: { input_tokens: 5, output_tokens: 1 } } });
    h.server({ type: "response.created", response: {} });
    h.server({ type: "response.done", response: { usage: { input_tokens: 200_020, output_tokens: 10 } } });
    // What the client started was reserved before its audio was forwarded.
    expect(h.m.finalMc - peakBeforeTurn).toBeLessThanOrEqual(slice);
  });

  it("output is the response's that its events name; a response.create's estimate counts until its own response.done", () => {
    const h = harness();
    h.server({ type: "session.created", session: { instructions: "", tools: [], audio: { input: { turn_detection: null } } } });
    h.client({ type: "response.create", response: { conversation: "none" } });
    h.client({ type: "response.create", response: { conversation: "none" } });
    h.server({ type: "response.created", response: { id: "A" } });
    h.server({ type: "response.created", response: { id: "B" } });
    // A speaks for 10 s (200 tokens at most), B a word; B finishes first: A's output still counts.
    for (let i = 0; i < 10; i++)
      h.server({ type: "response.output_audio.delta", response_id: "A", delta: Buffer.alloc(48_000).toString("base64") });
    h.server({ type: "response.output_text.delta", response_id: "B", delta: "ok" });
    h.server({ type: "response.done", response: { id: "B", usage: { input_tokens: 2, output_tokens: 1 } } });
    expect(h.m.costMc).toBeGreaterThanOrEqual(cost(2, 1) + cost(0, 200));
    expect(h.m.finalMc).toBe(h.m.costMc); // cut off now: A is charged its estimate
    h.server({ type: "response.done", response: { id: "A", usage: { input_tokens: 2, output_tokens: 200 } } });
    expect(h.m.finalMc).toBe(cost(2, 1) + cost(2, 200));
    expect(h.m.costMc).toBe(h.m.finalMc);
  });

  it("server VAD: audio appended before a response.create still counts as the turn OpenAI may answer itself", () => {
    const h = harness();
    const vad = { type: "server_vad", create_response: true };
    const instructions = "z".repeat(100_000);
    h.server({ type: "session.created", session: { instructions, tools: [], audio: { input: { turn_detection: vad } } } });
    h.client({ type: "input_audio_buffer.append", audio: Buffer.alloc(48_000).toString("base64") });
    h.client({ type: "response.create" });
    h.server({ type: "response.created", response: { id: "A" } });
    // VAD ends the turn while A runs, interrupts it and answers: both read the instructions.
    h.server({ type: "response.done", response: { id: "A", status: "cancelled", usage: { input_tokens: 100_012, output_tokens: 1 } } });
    h.server({ type: "response.created", response: { id: "B" } });
    h.server({ type: "response.done", response: { id: "B", usage: { input_tokens: 100_025, output_tokens: 10 } } });
    expect(h.m.finalMc - h.peak).toBeLessThanOrEqual(slice);
  });
});
