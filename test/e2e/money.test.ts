// Money that cannot leak (issue 12), from outside through a real `wrangler dev`: a free user's concurrent
// uploads never spend past the plan, chat carries its output cap upstream, token-billed transcription is
// priced, concurrent top-ups all count, and a stream cut after 3 deltas is charged what was delivered.
import { beforeEach, describe, expect, it } from "vitest";
import { llmCostMc, sttCostMc } from "../../src/metering/prices";
import { readSse } from "../helpers/provider-cases";
// @ts-expect-error plain JS module shared with the mock server
import { mockDurationSeconds } from "../mocks/audio.mjs";
import { bearer, call, jwtFor, mock, payingUser, settled, upstream } from "./client";

beforeEach(async () => {
  await mock("/reset", { method: "POST" });
});

const usage = async (jwt: string) => (await (await call("/v1/usage", { headers: bearer(jwt) })).json()) as any;

async function freeUser() {
  const jwt = await jwtFor(`e2e-money-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
  const me = (await (await call("/v1/me", { headers: bearer(jwt) })).json()) as any;
  return { jwt, id: me.user.id as string };
}

function upload(bytes: Uint8Array, fields: Record<string, string>, name = "clip.bin"): FormData {
  const form = new FormData();
  form.append("file", new File([bytes], name, { type: "application/octet-stream" }));
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

describe("money through wrangler dev", () => {
  it("20 concurrent 2 MB uploads by a free user: used ≤ limit, nothing reserved, no debt", async () => {
    const u = await freeUser();
    const junk = new Uint8Array(2_000_000).map((_, i) => (i * 31) % 253);
    const res = await Promise.all(
      Array.from({ length: 20 }, () =>
        call("/v1/transcribe", { method: "POST", headers: bearer(u.jwt), body: upload(junk, { provider: "deepgram" }) }),
      ),
    );
    const ok = res.filter((r) => r.status === 200).length;
    expect(ok + res.filter((r) => r.status === 402).length).toBe(20);
    const per = sttCostMc("deepgram", mockDurationSeconds(junk.length)) ?? 0;
    const after = await settled(
      () => usage(u.jwt),
      (x) => x.requestCount === ok,
    );
    expect(after.credits.used).toBe((ok * per) / 1000);
    expect(after.credits.used).toBeLessThanOrEqual(after.credits.limit);
    expect(after.credits.remaining).toBeGreaterThanOrEqual(0);
  });

  it("a chat without maxTokens carries the reserved output cap to the provider", async () => {
    const u = await payingUser("pro");
    const res = await call("/v1/chat", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "groq", model: "meta-llama/llama-4-scout-17b-16e-instruct", messages: [{ role: "user", content: "cap me" }] },
    });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get("x-usage-cost"))).toBeGreaterThan(0);
    const [req] = await upstream("groq");
    expect(req.body.max_completion_tokens).toBe(4096);
  });

  it("gpt-4o-transcribe is charged the tokens OpenAI reports (> 0), and says so in X-Usage-Cost", async () => {
    const u = await payingUser("pro");
    const res = await call("/v1/transcribe", {
      method: "POST",
      headers: bearer(u.key),
      // OpenAI tells a format by the file's extension alone (and refuses .bin): bytes it cannot tell need one.
      body: upload(new Uint8Array(4000).fill(7), { provider: "openai", model: "gpt-4o-transcribe" }, "clip.mp3"),
    });
    expect(res.status).toBe(200);
    const cost = Number(res.headers.get("x-usage-cost"));
    expect(cost).toBeGreaterThan(0);
    const after = await settled(
      () => usage(u.jwt),
      (x) => x.credits.used > 0,
    );
    expect(after.credits.used).toBe(cost);
  });

  it("8 concurrent top-ups during charges: the balance rises by exactly 8", async () => {
    const u = await payingUser("pro");
    const admin = bearer(await jwtFor("e2e-admin", "admin"));
    const [tops] = await Promise.all([
      Promise.all(
        Array.from({ length: 8 }, () =>
          call(`/api/admin/users/${u.id}/credits`, { method: "POST", headers: admin, json: { amount: 1, reason: "race" } }),
        ),
      ),
      Promise.all(
        Array.from({ length: 6 }, async () => {
          const r = await call("/v1/synthesize", { method: "POST", headers: bearer(u.key), json: { provider: "cartesia", text: "race" } });
          await r.arrayBuffer();
        }),
      ),
    ]);
    expect(tops.map((r) => r.status)).toEqual(Array(8).fill(200));
    const me = (await (await call("/v1/me", { headers: bearer(u.jwt) })).json()) as any;
    expect(me.user.paygCredits).toBe(8);
  });

  it("a stream cut after 3 deltas is charged what was delivered; the client sees an error event", async () => {
    const u = await freeUser();
    const nonce = `n${crypto.randomUUID().replaceAll("-", "")}`;
    await mock("/fault", { method: "POST", json: { provider: "openai", bodyIncludes: nonce, mode: "truncate", afterChunks: 4 } });
    const content = `${nonce} tell me a long story`;
    const res = await call("/v1/chat", {
      method: "POST",
      headers: bearer(u.jwt),
      json: { provider: "openai", model: "gpt-4.1", stream: true, messages: [{ role: "user", content }] },
    });
    const events = await readSse(res);
    const deltas = events.filter((e) => e.type === "delta");
    expect(deltas).toHaveLength(3);
    expect(events.at(-1)?.type).toBe("error");
    const after = await settled(
      () => usage(u.jwt),
      (x) => x.requestCount === 1,
    );
    const inputBound = new TextEncoder().encode(content).byteLength + 8 + 16;
    const seen = Math.max(3, Math.ceil(new TextEncoder().encode(deltas.map((d) => d.text).join("")).byteLength / 4));
    expect(after.credits.used).toBe((llmCostMc("gpt-4.1", inputBound, seen) ?? 0) / 1000);
  });

  it("a client that leaves a streamed chat after its first token is settled by the stream, not left holding its reservation", async () => {
    // Settled within seconds by what the stream delivered or reported — never left to the alarm, which would
    // charge the whole reservation 30 minutes later. (The relay reads a chat ahead of its client, so this holds
    // also where a disconnect never reaches the Worker's response stream: gateway/relay.test.ts.)
    const u = await payingUser("pro");
    const nonce = `n${crypto.randomUUID().replaceAll("-", "")}`;
    await mock("/fault", {
      method: "POST",
      json: { provider: "openai", bodyIncludes: nonce, mode: "slow", afterChunks: 3, delayMs: 1500 },
    });
    const leave = new AbortController();
    const res = await call("/v1/chat", {
      method: "POST",
      signal: leave.signal,
      headers: bearer(u.key),
      json: { provider: "openai", model: "gpt-4.1", stream: true, maxTokens: 4000, messages: [{ role: "user", content: `${nonce} hi` }] },
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    expect((await reader.read()).done).toBe(false); // the first token arrived
    leave.abort();
    const after = await settled(
      () => usage(u.jwt),
      (x) => x.requestCount === 1 && x.credits.used + x.credits.remaining === x.credits.limit,
    );
    expect(after.credits.used).toBeGreaterThan(0);
    // Nothing is still held: the 4,000 output tokens reserved (64 credits at gpt-4.1's 16/1,000) are back.
    expect(after.credits.used + after.credits.remaining).toBe(after.credits.limit);
    expect(after.credits.used).toBeLessThan(1);
  });
});
