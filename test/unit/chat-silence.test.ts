// A chat (or speech) provider that starts its stream and then goes silent, its connection open (the mock's `stall`
// fault): past PROVIDER_TIMEOUT_MS of silence (2 s in tests) the stream fails — the client gets the error
// event in its own shape, and the reservation is settled at once for the tokens delivered, not left to the
// Account object's alarm (which would charge the whole bound after RESERVATION_TTL_MS).
import { describe, expect, it } from "vitest";
import { chatBound } from "../../src/metering/estimates";
import { llmCostMc } from "../../src/metering/prices";
import { env } from "../helpers/env";
import { call, fault, ledgerOf, until, userOn } from "../helpers/reliability";
// @ts-expect-error plain JS module shared with the mock server
import { mockChat } from "../mocks/audio.mjs";

const auth = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const nonce = () => `n${crypto.randomUUID().replaceAll("-", "")}`;
const timeoutMs = Number(env.PROVIDER_TIMEOUT_MS);
/** Past the limit, what a loaded machine may add before the error event is out. */
const SLACK_MS = 2_500;

/** The JSON data events of an SSE answer, in order. */
const sseData = (text: string): any[] =>
  text
    .split("\n\n")
    .filter((e) => e.startsWith("data: ") && e !== "data: [DONE]")
    .map((e) => JSON.parse(e.slice(6)));

const settled = (userId: string) =>
  until(
    () => ledgerOf(userId),
    (l) => l.reservedMc === 0 && l.requestCount === 1,
  );

/** Output tokens the gateway saw in `text` delivered as `deltas` (chatDecoder.outputTokensSeen). */
const seenTokens = (deltas: number, text: string) => Math.max(deltas, Math.ceil(new TextEncoder().encode(text).byteLength / 4));

describe("a provider silent mid-stream", () => {
  it("/v1/chat: the stream ends with the error event within the limit, charged the tokens delivered only", async () => {
    const user = await userOn("free");
    const marker = nonce();
    const content = `${marker} tell me a long story please`;
    // The mock's stream: role chunk, one chunk per word, …: the role chunk and 3 words, then silence.
    await fault({ provider: "openai", path: "/v1/chat/completions", bodyIncludes: marker, mode: "stall", afterChunks: 4 });
    const started = Date.now();
    const res = await call("/v1/chat", {
      method: "POST",
      headers: auth(user.jwt),
      json: { provider: "openai", model: "gpt-4.1", stream: true, messages: [{ role: "user", content }] },
    });
    expect(res.status).toBe(200);
    const events = sseData(await res.text());
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(elapsed).toBeLessThan(timeoutMs + SLACK_MS);
    const deltas = events.filter((e) => e.type === "delta");
    expect(deltas).toHaveLength(3);
    expect(events.at(-1)).toEqual({
      type: "error",
      error: { code: "provider_error", message: `the provider sent nothing for ${timeoutMs} ms` },
    });
    const ledger = await settled(user.id);
    const bound = chatBound("gpt-4.1", [{ role: "user", content }], undefined, undefined);
    const seen = seenTokens(deltas.length, deltas.map((d) => d.text).join(""));
    expect(ledger.usedMc).toBe(llmCostMc("gpt-4.1", bound.inputTokens, seen));
    expect(ledger.usedMc).toBeGreaterThan(0);
    expect(ledger.usedMc).toBeLessThan(bound.estimateMc ?? 0);
  });

  it("/v1/chat/completions (OpenAI's stream shape, Anthropic upstream): OpenAI's error event, no [DONE], charged what was delivered", async () => {
    const user = await userOn("free");
    const marker = nonce();
    const messages = [{ role: "user" as const, content: `${marker} a b c d e f` }];
    const model = "claude-sonnet-4-20250514";
    // message_start, content_block_start, ping, then 2 of the word deltas: then silence.
    await fault({ provider: "anthropic", bodyIncludes: marker, mode: "stall", afterChunks: 3 + 2 });
    const started = Date.now();
    const res = await call("/v1/chat/completions", {
      method: "POST",
      headers: auth(user.jwt),
      json: { model: `anthropic/${model}`, stream: true, messages },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(Date.now() - started).toBeLessThan(timeoutMs + SLACK_MS);
    expect(text).not.toContain("[DONE]");
    const events = sseData(text);
    expect(events.at(-1)).toEqual({
      error: { message: `the provider sent nothing for ${timeoutMs} ms`, type: "api_error", param: null, code: "provider_error" },
    });
    const chunks = events.slice(0, -1);
    expect(chunks).toHaveLength(2);
    const delivered = chunks.map((c) => c.choices[0].delta.content).join("");
    expect(delivered).toBe(`Echo: ${marker}`);
    const ledger = await settled(user.id);
    // Anthropic's message_start reported the input tokens (and a running output count of 1).
    const input = mockChat(messages).promptTokens as number;
    expect(ledger.usedMc).toBe(llmCostMc(model, input, seenTokens(2, delivered)));
    expect(ledger.usedMc).toBeLessThan(chatBound(model, messages, undefined, undefined).estimateMc ?? 0);
  });
});

describe("a speech provider silent after its first audio (raw audio, handed on natively)", () => {
  it("/v1/synthesize: the client's stream fails within the limit (it was held open forever); the reservation settles", async () => {
    const user = await userOn("free");
    const marker = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: marker, mode: "stall", afterChunks: 1 });
    const started = Date.now();
    const res = await call("/v1/synthesize", {
      method: "POST",
      headers: auth(user.jwt),
      json: { provider: "elevenlabs", text: `${marker} hello there`, format: "mp3" },
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const read = (async () => {
      let bytes = 0;
      for (;;) {
        const r = await reader.read();
        if (r.done) return `ended cleanly after ${bytes} bytes`;
        bytes += r.value.byteLength;
      }
    })();
    const outcome = await Promise.race([
      read.then(
        (v) => v,
        (e) => `failed: ${e}`,
      ),
      new Promise<string>((r) => setTimeout(() => r("still open"), timeoutMs + SLACK_MS)),
    ]);
    expect(outcome).toMatch(/^failed/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(timeoutMs - 50);
    const ledger = await settled(user.id);
    expect(ledger.usedMc).toBeGreaterThan(0); // speech is charged from its first audio on (docs/ARCHITECTURE.md)
  });
});
