// A provider that sends its whole answer — its end marker included (a chat's done event or [DONE],
// Cartesia's {"type":"done"}) — and then keeps the connection open: the answer is complete at the marker.
// Nothing follows the done event, the charge is the cost it announced, and the audio ends cleanly (not
// taken for a provider that fell silent mid-stream).
import { describe, expect, it } from "vitest";
import { call, fault, ledgerOf, until, userOn } from "../helpers/reliability";

const auth = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const nonce = () => `n${crypto.randomUUID().replaceAll("-", "")}`;
const events = (text: string): any[] =>
  text
    .split("\n\n")
    .filter((e) => e.startsWith("data: ") && e !== "data: [DONE]")
    .map((e) => JSON.parse(e.slice(6)));

/** Every event of the answer, then the connection held open. */
const heldOpen = (provider: string, path: string, marker: string) =>
  fault({ provider, path, bodyIncludes: marker, mode: "stall", afterChunks: 1000 });

describe("the answer is complete at its end marker, whatever the provider still holds open", () => {
  it("/v1/chat: nothing after the done event; charged exactly the cost it announced", async () => {
    const user = await userOn("free");
    const marker = nonce();
    await heldOpen("openai", "/v1/chat/completions", marker);
    const res = await call("/v1/chat", {
      method: "POST",
      headers: auth(user.jwt),
      json: { provider: "openai", model: "gpt-4.1", stream: true, messages: [{ role: "user", content: `${marker} hi there` }] },
    });
    expect(res.status).toBe(200);
    const got = events(await res.text());
    const doneAt = got.findIndex((e) => e.type === "done");
    expect(doneAt).toBeGreaterThan(0);
    expect(got.slice(doneAt + 1)).toEqual([]);
    const ledger = await until(
      () => ledgerOf(user.id),
      (l) => l.reservedMc === 0 && l.requestCount === 1,
    );
    expect(ledger.usedMc).toBe(Math.round(got[doneAt].cost * 1000));
  });

  it("/v1/chat/completions (Anthropic): the stream ends with [DONE], no error chunk after it", async () => {
    const user = await userOn("free");
    const marker = nonce();
    await heldOpen("anthropic", "/v1/messages", marker);
    const res = await call("/v1/chat/completions", {
      method: "POST",
      headers: auth(user.jwt),
      json: { model: "anthropic/claude-sonnet-4-20250514", stream: true, messages: [{ role: "user", content: `${marker} hi there` }] },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(text).not.toContain("provider_error");
  });

  it("speech relayed from Cartesia's SSE: all the audio, then a clean end (not an abort)", async () => {
    const user = await userOn("pro");
    const reference = await call("/v1/synthesize", {
      method: "POST",
      headers: auth(user.jwt),
      json: { provider: "cartesia", format: "pcm", text: `${nonce()} reference` }, // as long as the one below
    });
    const full = (await reference.arrayBuffer()).byteLength;
    const marker = nonce();
    await heldOpen("cartesia", "/tts/sse", marker);
    const res = await call("/v1/synthesize", {
      method: "POST",
      headers: auth(user.jwt),
      json: { provider: "cartesia", format: "pcm", text: `${marker} reference` },
    });
    expect(res.status).toBe(200);
    const audio = await res.arrayBuffer(); // rejects if the stream is aborted
    expect(audio.byteLength).toBe(full);
  });
});
