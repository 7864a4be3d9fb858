// firstAudio() for raw audio nobody keeps: the first chunk is read in JS (a silent or failing provider still
// gets a 502/504), the rest handed on chunk by chunk into a native stream. What must hold either way: nothing
// is buffered, a provider cut never looks like a complete answer, a client that hangs up stops the provider's
// answer, a provider that falls silent mid-stream fails it (a slow client is not taken for one).
import { describe, expect, it } from "vitest";
import { firstAudio } from "../../../src/gateway/first-audio";
import { type Decoder, ProviderSilent } from "../../../src/gateway/relay";
import { dec, enc, readRest, source } from "../../helpers/streams";

const RAW = { chunk: (b: Uint8Array) => b, end: () => undefined, passesThrough: true };

describe("firstAudio, raw audio piped", () => {
  it("answers at the first chunk, before the source ended, then hands on every byte in order", async () => {
    const src = source();
    src.push("");
    src.push("RIFF");
    const audio = await firstAudio(src.stream, 2000, 0, RAW);
    expect(audio.failure).toBeUndefined();
    expect(audio.stream).toBeInstanceOf(ReadableStream);
    const reader = audio.stream.getReader();
    expect(dec((await reader.read()).value!)).toBe("RIFF");
    src.push("-more");
    src.push("-end");
    src.close();
    expect(await readRest(reader)).toBe("-more-end");
    expect(await audio.ended).toBe("complete");
    expect(audio.kept()).toBeUndefined();
  });

  it("a provider that fails after its first chunk aborts the client's stream: a cut answer never looks complete", async () => {
    const src = source();
    src.push("first");
    const audio = await firstAudio(src.stream, 2000, 0, RAW);
    const reader = audio.stream.getReader();
    expect(dec((await reader.read()).value!)).toBe("first");
    src.fail(new Error("connection reset by the provider"));
    await expect(readRest(reader)).rejects.toThrow();
    expect(await audio.ended).toBe("upstream_error");
  });

  it("a client that hangs up cancels the provider's answer (at the provider's next chunk)", async () => {
    const src = source();
    src.push("first");
    const audio = await firstAudio(src.stream, 2000, 0, RAW);
    const reader = audio.stream.getReader();
    await reader.read();
    await reader.cancel(new Error("client went away"));
    src.push("more audio nobody takes");
    await audio.ended;
    expect(src.cancelled()).not.toBe("not cancelled");
  });

  it("a provider that fails before any audio is a failure, not an answer", async () => {
    const src = source();
    src.fail(new Error("bad gateway"));
    const audio = await firstAudio(src.stream, 2000, 0, RAW);
    expect(audio.failure).toBeInstanceOf(Error);
    expect((audio.failure as Error).message).toBe("bad gateway");
  });

  it("a provider silent past the limit times out, and its answer is cancelled", async () => {
    const src = source();
    const audio = await firstAudio(src.stream, 50, 0, RAW);
    expect(audio.failure).toBe("timeout");
    expect(src.cancelled()).toBeInstanceOf(Error);
  });

  it("an answer with no audio at all (a 2xx with an empty body) is a failure, never an empty answer — piped or kept", async () => {
    for (const keepMax of [0, 1024]) {
      const src = source();
      src.close();
      const audio = await firstAudio(src.stream, 2000, keepMax, RAW);
      expect(audio.failure).toBeInstanceOf(Error);
      expect((audio.failure as Error).message).toBe("an answer with no audio in it");
    }
  });

  it("a converting decoder's own bytes (a header) with nothing from the provider are no audio either", async () => {
    const src = source();
    src.close();
    const header: Decoder = { chunk: (b) => b, end: () => enc("RIFF....WAVE") };
    const audio = await firstAudio(src.stream, 2000, 0, header);
    expect(audio.failure).toBeInstanceOf(Error);
  });

  it("audio kept for an idempotent replay is still relayed in JS and kept whole", async () => {
    const src = source();
    src.push("kept ");
    const audio = await firstAudio(src.stream, 2000, 1024, RAW);
    src.push("audio");
    src.close();
    expect(dec(new Uint8Array(await new Response(audio.stream).arrayBuffer()))).toBe("kept audio");
    expect(await audio.ended).toBe("complete");
    expect(dec(audio.kept()!)).toBe("kept audio");
  });

  it("a provider that falls silent after its first chunk fails the client's stream after the limit (it was held forever)", async () => {
    const src = source();
    src.push("first");
    const audio = await firstAudio(src.stream, 60, 0, RAW);
    const reader = audio.stream.getReader();
    expect(dec((await reader.read()).value!)).toBe("first");
    const outcome = await Promise.race([audio.ended, new Promise((r) => setTimeout(() => r("still open after 1 s"), 1_000))]);
    expect(outcome).toBe("upstream_error");
    await expect(reader.read()).rejects.toThrow("the provider sent nothing for 60 ms");
    expect(src.cancelled()).toBeInstanceOf(ProviderSilent);
  });

  it("a client slower than the limit is not taken for a silent provider: every byte arrives, complete", async () => {
    const src = source();
    src.push("a");
    const audio = await firstAudio(src.stream, 40, 0, RAW);
    src.push("b");
    src.push("c");
    src.close();
    const reader = audio.stream.getReader();
    expect(await readRest(reader, 120)).toBe("abc"); // three times the limit between reads
    expect(await audio.ended).toBe("complete");
    expect(src.cancelled()).toBe("not cancelled");
  });

  it("a client that hangs up is told from a provider failure: client_abort, the provider's answer cancelled", async () => {
    const src = source();
    src.push("first");
    const audio = await firstAudio(src.stream, 2000, 0, RAW);
    const reader = audio.stream.getReader();
    await reader.read();
    await reader.cancel(new Error("client went away"));
    src.push("more audio nobody takes");
    expect(await audio.ended).toBe("client_abort");
    expect(src.cancelled()).not.toBe("not cancelled");
  });
});
