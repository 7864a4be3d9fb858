// Bodies a caller controls are counted while they are read (issue 13, memory bombs): a chunked body —
// no Content-Length, so nothing to check up front — of 100 MB gets 413 once the count passes the
// route's bound, and the rest is never read. The bodies here are ReadableStreams that count what the
// worker pulled from them.
import { describe, expect, it } from "vitest";
import { BASE, bearer } from "../../helpers/api";
import { call, keyOf, ledgerOf, newPhone, userOn } from "../../helpers/reliability";

const CHUNK = 64 * 1024;
const HUNDRED_MB = 100 * 1024 * 1024;
const MiB = 1024 * 1024;

/** A body of `total` bytes made on demand (a prefix first, then filler), counting what is pulled. */
function countingBody(total: number, prefix = "") {
  const head = new TextEncoder().encode(prefix);
  const filler = new Uint8Array(CHUNK).fill(0x20); // spaces: still valid JSON/multipart padding
  const counter = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (counter.pulled >= total) return controller.close();
        const chunk = counter.pulled === 0 && head.length ? head : filler.subarray(0, Math.min(CHUNK, total - counter.pulled));
        counter.pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel() {
        counter.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, counter };
}

async function send(path: string, headers: Record<string, string>, stream: ReadableStream<Uint8Array>): Promise<Response> {
  return call(path, { method: "POST", headers, body: stream, duplex: "half" } as RequestInit);
}

describe("chunked bodies are capped while they are read", () => {
  it("JSON routes: 100 MB chunked → 413 after about 1 MiB was read", async () => {
    const user = await userOn("scale");
    const auth = bearer((await keyOf(user)).key);
    for (const path of ["/v1/chat", "/v1/synthesize", "/v1/chat/completions", "/v1/keys"]) {
      const { stream, counter } = countingBody(HUNDRED_MB, '{"model":"gpt-4o-mini","messages":[');
      const res = await send(path, { ...auth, "content-type": "application/json" }, stream);
      expect(res.status, `${path}: ${await res.clone().text()}`).toBe(413);
      expect(counter.pulled, path).toBeGreaterThan(MiB);
      expect(counter.pulled, path).toBeLessThanOrEqual(MiB + 2 * CHUNK);
    }
    const ledger = await ledgerOf(user.id);
    expect([ledger.usedMc, ledger.reservedMc]).toEqual([0, 0]);
  });

  it("transcription uploads (multipart, raw audio; both routes): 100 MB chunked → 413 after about 25 MiB", async () => {
    const user = await userOn("scale");
    const auth = bearer((await keyOf(user)).key);
    const boundary = "----voxgate-bodies-test";
    const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n`;
    for (const [path, type, prefix] of <[string, string, string][]>[
      ["/v1/transcribe", `multipart/form-data; boundary=${boundary}`, multipart],
      ["/v1/audio/transcriptions", `multipart/form-data; boundary=${boundary}`, multipart],
      ["/v1/transcribe", "audio/wav", "RIFF"],
    ]) {
      const { stream, counter } = countingBody(HUNDRED_MB, prefix);
      const res = await send(path, { ...auth, "content-type": type }, stream);
      expect(res.status, `${path} ${type}: ${await res.clone().text()}`).toBe(413);
      expect(counter.pulled, path).toBeGreaterThan(25 * MiB);
      expect(counter.pulled, path).toBeLessThanOrEqual(25 * MiB + 2 * CHUNK);
    }
    const ledger = await ledgerOf(user.id);
    expect([ledger.usedMc, ledger.reservedMc]).toEqual([0, 0]);
  });

  it("portal sign-in (no credential needed): 100 MB chunked → 413 after 16 KiB, the rest cancelled", async () => {
    const { stream, counter } = countingBody(HUNDRED_MB, `{"phoneNumber":"${newPhone()}","padding":"`);
    const res = await send(
      "/portal/auth/phone-number/send-otp",
      { "content-type": "application/json", origin: new URL(BASE).origin, "cf-connecting-ip": "198.51.100.77" },
      stream,
    );
    expect(res.status, await res.clone().text()).toBe(413);
    expect(counter.pulled).toBeLessThanOrEqual(16 * 1024 + CHUNK);
    expect(counter.cancelled).toBe(true);
  });
});
