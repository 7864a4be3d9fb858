// relay(): reads upstream as it arrives, hands each decoded chunk on at once, and says how it ended.
import { describe, expect, it } from "vitest";
import { type Decoder, relay, StreamCutShort } from "../../../src/gateway/relay";
import { dec, enc, source } from "../../helpers/streams";

const identity: Decoder = { chunk: (b) => b, end: () => undefined };

async function readAll(body: ReadableStream<Uint8Array>): Promise<string> {
  return dec(new Uint8Array(await new Response(body).arrayBuffer()));
}

describe("relay", () => {
  it("hands the first chunk on before the source has ended, and reports a complete stream", async () => {
    const src = source();
    const r = relay(src.stream, identity, { keepMax: 1024 });
    src.push("first");
    await r.first; // resolved while the source is still open
    const reader = r.body.getReader();
    expect(dec((await reader.read()).value as Uint8Array)).toBe("first");
    src.push("second");
    src.close();
    expect(dec((await reader.read()).value as Uint8Array)).toBe("second");
    expect((await reader.read()).done).toBe(true);
    expect(await r.outcome).toBe("complete");
    expect(dec(r.kept() as Uint8Array)).toBe("firstsecond");
  });

  it("keeps nothing for a replay when the stream is over the limit", async () => {
    const src = source();
    const r = relay(src.stream, identity, { keepMax: 8 });
    src.push("0123456789");
    src.close();
    expect(await readAll(r.body)).toBe("0123456789");
    expect(r.kept()).toBeUndefined();
  });

  it("an upstream failure before any chunk rejects `first`; raw audio is aborted, never made to look complete", async () => {
    const src = source();
    const r = relay(src.stream, identity);
    src.fail(new Error("connection reset"));
    await expect(r.first).rejects.toThrow("connection reset");
    await expect(readAll(r.body)).rejects.toThrow("connection reset");
    expect(await r.outcome).toBe("upstream_error");
  });

  it("a stream with an in-band error channel ends with its error event and closes cleanly", async () => {
    const src = source();
    const sse: Decoder = { chunk: (b) => b, end: () => undefined, fail: () => enc("data: error\n\n") };
    const r = relay(src.stream, sse);
    src.push("data: a\n\n");
    await r.first;
    src.fail(new Error("cut"));
    expect(await readAll(r.body)).toBe("data: a\n\ndata: error\n\n");
    expect(await r.outcome).toBe("upstream_error");
    expect(r.kept()).toBeUndefined();
  });

  it("a decoder that finds the stream cut short at its end turns a clean close into an upstream error", async () => {
    const src = source();
    const strict: Decoder = {
      chunk: (b) => b,
      end: () => {
        throw new StreamCutShort();
      },
    };
    const r = relay(src.stream, strict);
    src.push("partial");
    src.close();
    await expect(readAll(r.body)).rejects.toThrow(StreamCutShort);
    expect(await r.outcome).toBe("upstream_error");
  });

  it("a client that stops reading cancels the upstream and is told apart from a provider failure", async () => {
    const src = source();
    const r = relay(src.stream, identity);
    src.push("a");
    await r.first;
    await r.body.cancel(new Error("client went away"));
    expect(await r.outcome).toBe("client_abort");
    expect(src.cancelled()).toBeInstanceOf(Error);
  });

  it("partial events produce nothing until a whole one is there: the relay keeps reading", async () => {
    const src = source();
    let buffer = "";
    const lines: Decoder = {
      chunk: (b) => {
        buffer += dec(b);
        const i = buffer.lastIndexOf("\n");
        if (i < 0) return undefined;
        const out = buffer.slice(0, i + 1);
        buffer = buffer.slice(i + 1);
        return enc(out);
      },
      end: () => (buffer ? enc(buffer) : undefined),
    };
    const r = relay(src.stream, lines);
    src.push("ab");
    src.push("c\nd");
    src.close();
    expect(await readAll(r.body)).toBe("abc\nd");
    expect(await r.outcome).toBe("complete");
  });

  it("with a read-ahead, a stream nobody reads is still read to its end: the outcome is known, the tokens seen", async () => {
    // A client gone without the runtime cancelling the body (workerd behind a local proxy): nothing pulls.
    const src = source();
    let seen = 0;
    const counting: Decoder = {
      chunk: (b) => {
        seen += b.byteLength;
        return b;
      },
      end: () => undefined,
    };
    const r = relay(src.stream, counting, { aheadBytes: 64 * 1024, stallMs: 60_000 });
    for (let i = 0; i < 100; i++) src.push(`data: token ${i}\n\n`);
    src.close();
    const outcome = await Promise.race([r.outcome, new Promise((ok) => setTimeout(() => ok("still waiting"), 1_000))]);
    expect(outcome).toBe("complete");
    expect(seen).toBe(Array.from({ length: 100 }, (_, i) => `data: token ${i}\n\n`.length).reduce((a, b) => a + b));
  });

  it("a client that takes nothing while the read-ahead is full is taken as gone after stallMs: client_abort, upstream cancelled", async () => {
    const src = source();
    const r = relay(src.stream, identity, { aheadBytes: 16, stallMs: 50 });
    src.push("0123456789abcdef0123"); // more than the read-ahead: the relay waits for the client
    await r.first;
    const outcome = await Promise.race([r.outcome, new Promise((ok) => setTimeout(() => ok("still waiting"), 1_000))]);
    expect(outcome).toBe("client_abort");
    expect(src.cancelled()).toBeInstanceOf(Error);
  });

  it("a client that reads on is never taken as gone, however long the stream", async () => {
    const src = source();
    const r = relay(src.stream, identity, { aheadBytes: 4, stallMs: 30 });
    const reading = readAll(r.body);
    for (let i = 0; i < 5; i++) {
      src.push("abcdefgh");
      await new Promise((ok) => setTimeout(ok, 40)); // longer than stallMs, between chunks the client takes at once
    }
    src.close();
    expect(await reading).toBe("abcdefgh".repeat(5));
    expect(await r.outcome).toBe("complete");
  });
  it("a client that takes a small chunk while a large one keeps the read-ahead full is still reading, not gone", async () => {
    const src = source();
    const r = relay(src.stream, identity, { aheadBytes: 8, stallMs: 60 });
    src.push("a");
    src.push("b");
    src.push("0123456789abcdefghij"); // over the read-ahead on its own: each small read leaves it full
    const reader = r.body.getReader();
    await r.first;
    await new Promise((ok) => setTimeout(ok, 10));
    expect(dec((await reader.read()).value as Uint8Array)).toBe("a");
    await new Promise((ok) => setTimeout(ok, 40));
    expect(dec((await reader.read()).value as Uint8Array)).toBe("b");
    await new Promise((ok) => setTimeout(ok, 40)); // 80 ms since the read-ahead filled, 40 since the client last read
    expect(dec((await reader.read()).value as Uint8Array)).toBe("0123456789abcdefghij");
    src.push("z");
    src.close();
    expect(dec((await reader.read()).value as Uint8Array)).toBe("z");
    expect((await reader.read()).done).toBe(true);
    expect(await r.outcome).toBe("complete");
  });
});
