// A provider that sends the headers of a one-document answer (a non-streamed chat, a transcription) and half
// its JSON, then nothing, its connection open (the mock's `stall` fault): within PROVIDER_TIMEOUT_MS of the
// headers the request fails with 504 provider_timeout — refunded, failed over — instead of hanging with its
// credits reserved (until the reservation's time to live charged their bound) and its Idempotency-Key busy.
import { describe, expect, it } from "vitest";
import { parsedAnswer } from "../../src/gateway/provider";
import { findProvider } from "../../src/providers/registry";
import { pcmWavFile } from "../helpers/audio-signal";
import { env } from "../helpers/env";
import { call, fault, ledgerOf, until, userOn } from "../helpers/reliability";

const auth = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const nonce = () => `n${crypto.randomUUID().replaceAll("-", "")}`;
const timeoutMs = Number(env.PROVIDER_TIMEOUT_MS);
/** Past the limit, what a loaded machine may add. */
const SLACK_MS = 2_500;

const nothingHeld = (userId: string) =>
  until(
    () => ledgerOf(userId),
    (l) => l.reservedMc === 0,
  );

describe("a one-document answer that stops halfway", () => {
  it("/v1/chat (not streamed): 504 provider_timeout within the limit, nothing charged or held, the same Idempotency-Key runs again", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", path: "/v1/chat/completions", bodyIncludes: marker, mode: "stall", afterChunks: 1, times: 1 });
    const request = () =>
      call("/v1/chat", {
        method: "POST",
        headers: { ...auth(user.jwt), "idempotency-key": marker },
        json: { provider: "openai", model: "gpt-4.1", maxTokens: 100, messages: [{ role: "user", content: `hello ${marker}` }] },
      });
    const started = Date.now();
    const res = await request();
    const elapsed = Date.now() - started;
    expect(res.status).toBe(504);
    expect(((await res.json()) as any).error).toMatchObject({ code: "provider_timeout", provider: "openai" });
    expect(elapsed).toBeLessThan(2 * timeoutMs + SLACK_MS);
    const ledger = await nothingHeld(user.id);
    expect(ledger.usedMc).toBe(0);
    const retry = await request();
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as any).message.content.length).toBeGreaterThan(0);
  });

  it("/v1/chat with a fallback: the provider that stalled is passed over, the next one serves and is the only one charged", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", path: "/v1/chat/completions", bodyIncludes: marker, mode: "stall", afterChunks: 1 });
    const res = await call("/v1/chat", {
      method: "POST",
      headers: auth(user.jwt),
      json: {
        provider: "openai",
        model: "gpt-4.1",
        fallback: [{ provider: "anthropic", model: "claude-sonnet-4" }],
        messages: [{ role: "user", content: `hello ${marker}` }],
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-used")).toBe("anthropic");
    expect(res.headers.get("x-provider-attempts")).toBe("openai=timeout, anthropic=200");
    const cost = Number(res.headers.get("x-usage-cost"));
    const ledger = await nothingHeld(user.id);
    expect(ledger.usedMc).toBe(Math.round(cost * 1000));
  });

  it("/v1/transcribe: 504 provider_timeout within the limit, nothing charged or held", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", path: "/v1/audio/transcriptions", bodyIncludes: marker, mode: "stall", afterChunks: 1 });
    const form = new FormData();
    form.set("file", new File([pcmWavFile(16_000, new Int16Array(16_000))], `${marker}.wav`, { type: "audio/wav" }));
    form.set("provider", "openai");
    const started = Date.now();
    const res = await call("/v1/transcribe", { method: "POST", headers: auth(user.jwt), body: form });
    expect(res.status).toBe(504);
    expect(((await res.json()) as any).error.code).toBe("provider_timeout");
    expect(Date.now() - started).toBeLessThan(2 * timeoutMs + SLACK_MS);
    const ledger = await nothingHeld(user.id);
    expect(ledger.usedMc).toBe(0);
  });

  it('a body that is the word "timeout" is a body: not JSON (502 provider_error), not a timeout', async () => {
    const openai = findProvider("openai")!;
    const what = { body: "an answer", shape: "a chat answer" };
    const err: any = await parsedAnswer(openai, new Response("timeout"), (p) => p, what, 5_000).catch((e: unknown) => e);
    expect(err.code).toBe("provider_error");
    expect(err.beforeFirstByte).toBe(true);
  });
});
