// relay()'s provider-silence limit (silenceMs, firstSilenceMs): a provider that keeps its stream open with
// nothing in it fails the stream as an upstream failure — only while a read of it is pending, so a slow
// client with a full read-ahead is never blamed on the provider — with O(1) timers, none left behind.
import { afterEach, describe, expect, it } from "vitest";
import { firstAudio } from "../../../src/gateway/first-audio";
import { type Decoder, ProviderSilent, relay } from "../../../src/gateway/relay";
import { dec, enc, source } from "../../helpers/streams";

const identity: Decoder = { chunk: (b) => b, end: () => undefined };
const sse: Decoder = { chunk: (b) => b, end: () => undefined, fail: (e) => enc(`data: error ${(e as Error).message}\n\n`) };

// The test's own waits use the real timers, whatever the relay's are counted with.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const sleep = (ms: number) => new Promise((ok) => realSetTimeout(ok, ms));
/** `promise`, or "still waiting" after `ms`. */
const by = <T>(promise: Promise<T>, ms: number) => Promise.race([promise, sleep(ms).then(() => "still waiting" as const)]);

/** Counts the timers set from now on: how many were set, and how many are still pending (neither fired nor cleared). */
function countTimers() {
  const pending = new Set<unknown>();
  let set = 0;
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    set++;
    const id = realSetTimeout(
      (...a: unknown[]) => {
        pending.delete(id);
        fn(...a);
      },
      ms,
      ...args,
    );
    pending.add(id);
    return id;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((id?: Parameters<typeof clearTimeout>[0]) => {
    pending.delete(id);
    realClearTimeout(id);
  }) as typeof clearTimeout;
  return { set: () => set, pending: () => pending.size };
}

afterEach(() => {
  globalThis.setTimeout = realSetTimeout;
  globalThis.clearTimeout = realClearTimeout;
});

describe("relay: a provider silent mid-stream", () => {
  it("a chunk, then an open stream with nothing in it: upstream_error after silenceMs, the error event in band, the provider cancelled", async () => {
    const src = source();
    const r = relay(src.stream, sse, { silenceMs: 60 });
    src.push("data: a\n\n");
    await r.first;
    const started = Date.now();
    const body = new Response(r.body).text();
    expect(await by(r.outcome, 1_000)).toBe("upstream_error");
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect(await body).toBe("data: a\n\ndata: error the provider sent nothing for 60 ms\n\n");
    expect(src.cancelled()).toBeInstanceOf(ProviderSilent);
  });

  it("raw audio (no error channel): the client's stream is aborted, never made to look complete", async () => {
    const src = source();
    const r = relay(src.stream, identity, { silenceMs: 60 });
    src.push("audio");
    const reader = r.body.getReader();
    expect(dec((await reader.read()).value!)).toBe("audio");
    await expect(by(reader.read(), 1_000)).rejects.toThrow("the provider sent nothing for 60 ms");
    expect(await r.outcome).toBe("upstream_error");
  });

  it("before the first chunk the longer firstSilenceMs holds, then the stream fails and `first` rejects", async () => {
    const src = source();
    const r = relay(src.stream, sse, { silenceMs: 30, firstSilenceMs: 200 });
    expect(await by(r.outcome, 120)).toBe("still waiting"); // 4 × silenceMs: the first limit is not silenceMs
    expect(await by(r.outcome, 1_000)).toBe("upstream_error");
    await expect(r.first).rejects.toBeInstanceOf(ProviderSilent);
    expect(await new Response(r.body).text()).toBe("data: error the provider sent nothing for 200 ms\n\n");
  });

  it("a provider that trickles, each chunk within the limit, is never cut however long the stream (guard)", async () => {
    const src = source();
    const r = relay(src.stream, identity, { silenceMs: 80 });
    const reading = new Response(r.body).text();
    for (let i = 0; i < 8; i++) {
      src.push(`${i}`);
      await sleep(30); // 240 ms in all: three times the limit, never 80 ms apart
    }
    src.close();
    expect(await reading).toBe("01234567");
    expect(await r.outcome).toBe("complete");
  });

  it("a slow client with a full read-ahead is not the provider's silence: nothing is read, nothing is cut (guard)", async () => {
    const src = source();
    const r = relay(src.stream, identity, { aheadBytes: 4, silenceMs: 40, stallMs: 10_000 });
    src.push("a");
    await r.first;
    await sleep(5); // the relay reads on (room is left): the silence limit is armed
    src.push("abcdefgh"); // over the read-ahead: no read is pending until the client takes some
    await sleep(200); // 5 × silenceMs without a read pending
    const reader = r.body.getReader();
    expect(dec((await reader.read()).value!)).toBe("a");
    expect(dec((await reader.read()).value!)).toBe("abcdefgh");
    src.push("ij");
    src.close();
    expect(dec((await reader.read()).value!)).toBe("ij");
    expect((await reader.read()).done).toBe(true);
    expect(await r.outcome).toBe("complete");
  });

  it("one timer per limit, not one per chunk; none left pending once the stream completed, failed or was cancelled (guard)", async () => {
    const timers = countTimers();
    const src = source();
    const r = relay(src.stream, identity, { silenceMs: 1_000, firstSilenceMs: 2_000 });
    const reading = new Response(r.body).text();
    for (let i = 0; i < 50; i++) {
      src.push("x");
      await sleep(1);
    }
    src.close();
    await reading;
    expect(await r.outcome).toBe("complete");
    expect(timers.set()).toBeGreaterThanOrEqual(1); // the relay's timers are the ones counted
    expect(timers.set()).toBeLessThanOrEqual(2); // the first limit's, then the one after the first chunk
    expect(timers.pending()).toBe(0);

    const failing = source();
    const f = relay(failing.stream, sse, { silenceMs: 1_000 });
    failing.push("a");
    await f.first;
    failing.fail(new Error("connection reset"));
    await new Response(f.body).text();
    expect(await f.outcome).toBe("upstream_error");
    expect(timers.pending()).toBe(0);

    const abandoned = source();
    const a = relay(abandoned.stream, identity, { silenceMs: 1_000 });
    abandoned.push("a");
    await a.first;
    await a.body.cancel(new Error("client went away"));
    expect(await a.outcome).toBe("client_abort");
    expect(timers.pending()).toBe(0);
  });
});

describe("firstAudio through the JS relay: a provider silent after its first audio", () => {
  it("fails the client's stream after the same limit: upstream_error, the provider's answer cancelled", async () => {
    const src = source();
    src.push("first audio");
    // keepMax > 0: relayed in JS (an idempotent request), not piped.
    const audio = await firstAudio(src.stream, 60, 1024, { chunk: (b) => b, end: () => undefined, passesThrough: true });
    expect(audio.failure).toBeUndefined();
    const reader = audio.stream.getReader();
    expect(dec((await reader.read()).value!)).toBe("first audio");
    await expect(by(reader.read(), 1_000)).rejects.toThrow("the provider sent nothing for 60 ms");
    expect(await audio.ended).toBe("upstream_error");
    expect(src.cancelled()).toBeInstanceOf(ProviderSilent);
    expect(audio.kept()).toBeUndefined();
  });
});
