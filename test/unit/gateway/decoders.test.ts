// The decoders plugged into relay(): every provider audio envelope → plain audio bytes, and a provider
// token stream → Voxgate's SSE events with the usage it reported.
import { describe, expect, it } from "vitest";
import { audioDecoder, chatDecoder } from "../../../src/gateway/decoders";
import { StreamCutShort } from "../../../src/gateway/relay";
import { anthropic } from "../../../src/providers/anthropic";
import { openai } from "../../../src/providers/openai";
import type { AudioEnvelope } from "../../../src/providers/types";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : "");
const b64 = (s: string) => btoa(s);

/** Run a decoder over `text` cut into pieces of `size` bytes; returns what the client got. */
function run(decoder: { chunk(b: Uint8Array): Uint8Array | undefined; end(): Uint8Array | undefined }, text: string, size: number): string {
  const all = enc(text);
  let out = "";
  for (let i = 0; i < all.length; i += size) out += dec(decoder.chunk(all.subarray(i, i + size)));
  return out + dec(decoder.end());
}

describe("audioDecoder", () => {
  const sse: AudioEnvelope = {
    kind: "sse",
    audioOf: (p) => (p?.type === "chunk" ? p.data : null),
    errorOf: (p) => (p?.type === "error" ? p.message : undefined),
  };

  it("raw audio passes through byte for byte", () => {
    expect(run(audioDecoder({ kind: "raw" }), "RIFFaudio", 3)).toBe("RIFFaudio");
  });

  it("SSE with base64 chunks becomes the audio, whatever the chunking; other events are skipped", () => {
    const text = `data: {"type":"chunk","data":"${b64("hello ")}"}\n\ndata: {"type":"timestamps"}\n\ndata: {"type":"chunk","data":"${b64("world")}"}\n\ndata: {"type":"done"}\n\n`;
    for (const size of [1, 5, 64, 4096]) expect(run(audioDecoder(sse), text, size), `pieces of ${size}`).toBe("hello world");
  });

  it("an error event inside an SSE audio stream throws with the provider's message", () => {
    const decoder = audioDecoder(sse);
    expect(() => decoder.chunk(enc('data: {"type":"error","message":"voice not found"}\n\n'))).toThrow("voice not found");
  });

  it("NDJSON with base64 audio, the last line without a newline", () => {
    const ndjson: AudioEnvelope = { kind: "ndjson", audioOf: (p) => p?.result?.audioContent };
    const text = `{"result":{"audioContent":"${b64("abc")}"}}\n{"result":{"audioContent":"${b64("def")}"}}`;
    for (const size of [1, 7, 1000]) expect(run(audioDecoder(ndjson), text, size)).toBe("abcdef");
  });

  it("one JSON document is decoded when it is complete", () => {
    const json: AudioEnvelope = { kind: "json", audioOf: (p) => p?.audio_content };
    const decoder = audioDecoder(json);
    const doc = `{"audio_content":"${b64("xyz")}"}`;
    expect(decoder.chunk(enc(doc.slice(0, 10)))).toBeUndefined();
    expect(decoder.chunk(enc(doc.slice(10)))).toBeUndefined();
    expect(dec(decoder.end())).toBe("xyz");
  });
});

describe("chatDecoder", () => {
  const openaiStream = [
    `data: {"choices":[{"delta":{"role":"assistant","content":""}}]}`,
    `data: {"choices":[{"delta":{"content":"Hel"}}]}`,
    `data: {"choices":[{"delta":{"content":"lo"}}]}`,
    `data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2}}`,
    "data: [DONE]",
  ]
    .map((l) => `${l}\n\n`)
    .join("");

  it("OpenAI's stream becomes delta events and a done event with the reported usage", () => {
    for (const size of [1, 9, 4096]) {
      const decoder = chatDecoder(openai.llm!);
      const events = run(decoder, openaiStream, size)
        .split("\n\n")
        .filter(Boolean)
        .map((e) => JSON.parse(e.slice("data: ".length)));
      expect(events, `pieces of ${size}`).toEqual([
        { type: "delta", text: "Hel" },
        { type: "delta", text: "lo" },
        { type: "done", usage: { inputTokens: 12, outputTokens: 2 } },
      ]);
      expect(decoder.usage()).toEqual({ inputTokens: 12, outputTokens: 2 });
    }
  });

  it("Anthropic's cumulative output tokens: the last message_delta wins", () => {
    const text = [
      ["message_start", { type: "message_start", message: { usage: { input_tokens: 30, output_tokens: 1 } } }],
      ["content_block_delta", { type: "content_block_delta", delta: { type: "text_delta", text: "Hi" } }],
      ["message_delta", { type: "message_delta", usage: { output_tokens: 4 } }],
      ["message_delta", { type: "message_delta", usage: { output_tokens: 9 } }],
      ["message_stop", { type: "message_stop" }],
    ]
      .map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
      .join("");
    const decoder = chatDecoder(anthropic.llm!);
    const out = run(decoder, text, 13);
    expect(out).toContain('"type":"done","usage":{"inputTokens":30,"outputTokens":9}');
    expect(decoder.usage()).toEqual({ inputTokens: 30, outputTokens: 9 });
  });

  it("a stream that ends before the provider said done is cut short; its error event names the provider error", () => {
    const decoder = chatDecoder(openai.llm!);
    decoder.chunk(enc(`data: {"choices":[{"delta":{"content":"partial"}}]}\n\n`));
    expect(() => decoder.end()).toThrow(StreamCutShort);
    expect(decoder.outputTokensSeen()).toBe(2);
    const event = JSON.parse(dec(decoder.fail?.(new StreamCutShort())).slice("data: ".length));
    expect(event).toEqual({
      type: "error",
      error: { code: "provider_error", message: "the provider's stream ended before it was complete" },
    });
  });

  it("an error inside the provider's stream throws with its message", () => {
    const decoder = chatDecoder(openai.llm!);
    expect(() => decoder.chunk(enc(`data: {"error":{"message":"overloaded"}}\n\n`))).toThrow("overloaded");
  });
});
