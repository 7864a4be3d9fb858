// What an OpenAI Realtime response reads besides the conversation (src/realtime/providers/openai-input.ts):
// the session's instructions, tools and prompt (session.update) are read again by every response, and a
// response.create's own instructions, tools and input items by that response — each bounded by its UTF-8
// bytes and admitted before the event is forwarded, so a free user's session ends (4402) before spending
// past its credits by more than one slice (API.md §4.3, §6). Before, only the conversation was counted: a
// response.create carrying 300 KB of instructions was forwarded with nothing reserved for it.
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index";
import { realtimeCostMc, realtimeSlice } from "../../../src/metering/realtime";
import { RealtimeMeter } from "../../../src/realtime/providers/openai";
import { BASE, marker, upstreamRequests } from "../../helpers/api";
import { env } from "../../helpers/env";
import { ledgerOf, sleep, userOn } from "../../helpers/reliability";
import { HANDSHAKE } from "./handshake";

const j = (o: unknown) => JSON.stringify(o);
const cost = (input: number) => realtimeCostMc("gpt-realtime", input, 0);
const bytes = (s: string) => new TextEncoder().encode(s).byteLength;

describe("the meter counts what each response reads besides the conversation", () => {
  it("a response.create's own instructions, tools and input items, before it is forwarded", () => {
    const m = new RealtimeMeter("gpt-realtime");
    const instructions = "w ".repeat(150_000);
    expect(m.clientCostMc(j({ type: "response.create", response: { instructions } }))).toBe(cost(300_000));
    const tools = [{ type: "function", name: "lookup", description: "Look it up", parameters: { type: "object" } }];
    const input = [
      { type: "message", role: "user", content: [{ type: "input_text", text: "héllo" }] },
      { type: "function_call_output", call_id: "c1", output: "x".repeat(1_000) },
    ];
    expect(m.clientCostMc(j({ type: "response.create", response: { tools, input } }))).toBe(cost(bytes(j(tools)) + 6 + 1_000));
    // A function call's output added to the conversation is text the next response reads.
    expect(m.clientCostMc(j({ type: "conversation.item.create", item: input[1] }))).toBe(cost(1_000));
  });

  it("the session's instructions and tools count again at every response.create, until a session.update replaces them", () => {
    const m = new RealtimeMeter("gpt-realtime");
    m.server(j({ type: "session.created", session: { instructions: "Be kind.", tools: [] } })); // OpenAI's defaults: 8 + 2
    expect(m.clientCostMc(j({ type: "response.create" }))).toBe(cost(10));
    const instructions = "w ".repeat(50_000);
    const update = j({ type: "session.update", session: { type: "realtime", instructions } });
    m.client(update); // forwarded: counted at once, before OpenAI's session.updated
    expect(m.clientCostMc(j({ type: "response.create" }))).toBe(cost(100_002));
    m.server(j({ type: "session.updated", session: { instructions, tools: [] } }));
    m.client(j({ type: "response.create" }));
    m.server(j({ type: "response.created", response: {} }));
    m.server(j({ type: "response.done", response: { usage: { input_tokens: 50_001, output_tokens: 10 } } }));
    // Read again with the conversation (whose report held them once: counted twice, still a bound).
    expect(m.clientCostMc(j({ type: "response.create" }))).toBe(cost(50_011 + 100_002));
    // A response's own instructions replace the session's for that response.
    expect(m.clientCostMc(j({ type: "response.create", response: { instructions: "Short." } }))).toBe(cost(50_011 + 2 + 6));
    // A later update replaces them; one OpenAI refuses (no session.updated) never lowers the bound.
    m.client(j({ type: "session.update", session: { instructions: "" } }));
    m.server(j({ type: "error", error: { type: "invalid_request_error", code: "invalid_value" } }));
    expect(m.clientCostMc(j({ type: "response.create" }))).toBe(cost(50_011 + 100_002));
    m.client(j({ type: "session.update", session: { instructions: "Hi.", tools: [{ name: "t" }] } }));
    // OpenAI answers the second (the first was refused): its answer takes the oldest unanswered with it.
    m.server(j({ type: "session.updated", session: { instructions: "Hi.", tools: [{ name: "t" }] } }));
    expect(m.clientCostMc(j({ type: "response.create" }))).toBe(cost(50_011 + 3 + bytes(j([{ name: "t" }]))));
  });

  it("a response OpenAI starts itself (turn detection) is admitted against the audio it answers: its input counts as audio is appended", () => {
    const m = new RealtimeMeter("gpt-realtime");
    const instructions = "x".repeat(20_000);
    const vad = { type: "server_vad", create_response: true };
    m.server(j({ type: "session.created", session: { instructions, tools: [], audio: { input: { turn_detection: vad } } } }));
    const append = j({ type: "input_audio_buffer.append", audio: Buffer.alloc(48_000).toString("base64") }); // 1 s: 10 tokens
    expect(m.clientCostMc(append)).toBe(cost(10 + 20_002)); // the turn's response will read the session's inputs
    m.client(append);
    expect(m.costMc).toBe(cost(10 + 20_002));
    expect(m.clientCostMc(append)).toBe(cost(10)); // counted once per turn
    expect(m.finalMc).toBe(0); // nothing ran yet: nothing is charged
    m.server(j({ type: "response.created", response: {} })); // started by OpenAI: its estimate holds that input
    expect([m.costMc, m.finalMc]).toEqual([cost(10 + 20_002), cost(10 + 20_002)]);
    // Raising the instructions while a turn is pending is admitted against them.
    m.server(j({ type: "response.done", response: { usage: { input_tokens: 5_010, output_tokens: 0 } } }));
    m.client(append);
    expect(m.clientCostMc(j({ type: "session.update", session: { instructions: "y".repeat(30_000) } }))).toBe(cost(10_000));
  });
});

// ---- through the worker: a free user (2,500 credits), the platform key, the mock's OpenAI ----------------

async function open(path: string, headers: Record<string, string>) {
  const h = new Headers({ ...headers, ...HANDSHAKE });
  const res = await worker.fetch(new Request(`${BASE}${path}`, { headers: h }), env, createExecutionContext());
  const ws = res.webSocket!;
  ws.accept();
  const events: any[] = [];
  ws.addEventListener("message", (e: MessageEvent) => {
    if (typeof e.data === "string") events.push(JSON.parse(e.data));
  });
  const closed = new Promise<number>((ok) => ws.addEventListener("close", (e: CloseEvent) => ok(e.code)));
  return { res, ws, events, closed };
}

const OPENAI = "/v1/realtime?model=openai/gpt-realtime";

async function sessionRecord(m: string): Promise<any> {
  return (await upstreamRequests("openai")).find((r: any) => r.textFrames?.some((f: string) => f.includes(m)));
}

describe("a free user's session never forwards a response its credits cannot cover", () => {
  const slice = realtimeSlice("gpt-realtime").sliceMc!;

  it("response.create with 300 KB of instructions: 4402 before it is forwarded; nothing past the limit", async () => {
    const u = await userOn("free");
    const c = await open(OPENAI, { authorization: `Bearer ${u.jwt}` });
    expect(c.res.status).toBe(101);
    const m = marker();
    c.ws.send(j({ type: "session.update", session: { type: "realtime", instructions: m } }));
    await sleep(100);
    c.ws.send(j({ type: "response.create", response: { instructions: "w ".repeat(150_000) } }));
    expect(await c.closed).toBe(4402);
    expect(c.events.findLast((e) => e.type === "error")?.error).toMatchObject({ code: "insufficient_credits" });
    const record = await sessionRecord(m);
    expect(record.textFrames.some((f: string) => f.includes('"response.create"'))).toBe(false);
    await sleep(200);
    const ledger = await ledgerOf(u.id);
    expect(ledger.usedMc).toBeLessThanOrEqual(ledger.limitMc + slice);
    expect(ledger.remainingMc).toBeGreaterThanOrEqual(0);
  }, 20_000);

  it("session.update with 200 KB of instructions: the response.create after it is refused (4402), not forwarded", async () => {
    const u = await userOn("free");
    const c = await open(OPENAI, { authorization: `Bearer ${u.jwt}` });
    expect(c.res.status).toBe(101);
    const m = marker();
    c.ws.send(j({ type: "session.update", session: { type: "realtime", instructions: `${m} ${"w ".repeat(100_000)}` } }));
    await sleep(100);
    c.ws.send(j({ type: "response.create" }));
    expect(await c.closed).toBe(4402);
    const record = await sessionRecord(m);
    expect(record.textFrames.some((f: string) => f.includes('"response.create"'))).toBe(false);
    await sleep(200);
    const ledger = await ledgerOf(u.id);
    expect(ledger.usedMc).toBeLessThanOrEqual(ledger.limitMc + slice);
  }, 20_000);
});
