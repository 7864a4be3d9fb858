// The incremental text readers under the relay: lines and server-sent events split anywhere.
import { describe, expect, it } from "vitest";
import { Lines, SseParser } from "../../../src/gateway/sse";

const bytes = (s: string) => new TextEncoder().encode(s);

/** Feed `text` to `push` in pieces of `size` bytes (a multi-byte character may be cut in two). */
function inPieces<T>(text: string, size: number, push: (b: Uint8Array) => T[]): T[] {
  const all = bytes(text);
  const out: T[] = [];
  for (let i = 0; i < all.length; i += size) out.push(...push(all.subarray(i, i + size)));
  return out;
}

describe("Lines", () => {
  it("splits on LF and CRLF across chunk boundaries, keeping multi-byte characters whole", () => {
    const text = "héllo\r\nwörld\nlast";
    for (const size of [1, 2, 3, 5, 100]) {
      const lines = new Lines();
      const got = inPieces(text, size, (b) => lines.push(b));
      expect(got, `pieces of ${size}`).toEqual(["héllo", "wörld"]);
      expect(lines.rest()).toBe("last");
    }
  });
});

describe("SseParser", () => {
  it("reads events with names and multi-line data, skipping comments and fields it does not use", () => {
    const stream = ': keep-alive\n\nevent: message_start\ndata: {"a":1}\n\ndata: line one\ndata: line two\nid: 7\n\ndata:no-space\n\n';
    for (const size of [1, 4, 7, 1000]) {
      const sse = new SseParser();
      const events = [...inPieces(stream, size, (b) => sse.push(b)), ...sse.end()];
      expect(events, `pieces of ${size}`).toEqual([
        { event: "message_start", data: '{"a":1}' },
        { event: undefined, data: "line one\nline two" },
        { event: undefined, data: "no-space" },
      ]);
    }
  });

  it("a last event without its blank line is still delivered at the end", () => {
    const sse = new SseParser();
    expect(sse.push(bytes("data: [DONE]"))).toEqual([]);
    expect(sse.end()).toEqual([{ event: undefined, data: "[DONE]" }]);
  });

  it("an event name applies to its own event only", () => {
    const sse = new SseParser();
    expect(sse.push(bytes("event: error\ndata: x\n\ndata: y\n\n"))).toEqual([
      { event: "error", data: "x" },
      { event: undefined, data: "y" },
    ]);
  });
});
