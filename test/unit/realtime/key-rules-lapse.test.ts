// A running realtime session is held to its key's rules (API.md §4.3, §7.1): at each check the key must
// still have the `realtime` scope and, if it has a provider allow-list, still allow the session's provider;
// a key that lost either ends the session as a lapsed credential does — an error event (scope_denied), then
// 4401 — also the session of a client token the key minted. And such a token's session is logged under the
// key that minted it (keyId), the key whose limit it is charged to. Before, only revocation and expiry were
// re-checked: a key PATCHed to scopes ["tts"] kept its realtime session open.
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index";
import { BASE } from "../../helpers/api";
import { env } from "../../helpers/env";
import { call, keyOf, sleep, until, userOn } from "../../helpers/reliability";
import { HANDSHAKE } from "./handshake";

/** A check every second, so a change is seen within a second. */
const FAST = { ...(env as any), REALTIME_CHECK_INTERVAL_SECONDS: "1" };
const SPEAK = "/v1/realtime/speak?provider=deepgram";
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function open(path: string, headers: Record<string, string> = {}) {
  const h = new Headers({ ...headers, ...HANDSHAKE });
  const res = await worker.fetch(new Request(`${BASE}${path}`, { headers: h }), FAST, createExecutionContext());
  const events: any[] = [];
  const ws = res.webSocket;
  let closed: Promise<number | "open"> = Promise.resolve(-1);
  if (ws) {
    ws.accept();
    ws.addEventListener("message", (e: MessageEvent) => {
      if (typeof e.data === "string") events.push(JSON.parse(e.data));
    });
    closed = new Promise((ok) => ws.addEventListener("close", (e: CloseEvent) => ok(e.code)));
  }
  /** The close code, or "open" if the session still runs after `ms`. */
  const closedWithin = (ms: number) => Promise.race([closed, sleep(ms).then(() => "open" as const)]);
  return { res, ws, events, closedWithin };
}

async function patchKey(jwt: string, id: string, json: unknown) {
  const res = await call(`/v1/keys/${id}`, { method: "PATCH", headers: bearer(jwt), json });
  expect(res.status).toBe(200);
}

describe("a session whose key loses the right to it ends: scope_denied, then 4401", () => {
  it("the key's scopes no longer include realtime", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u, { scopes: ["realtime", "tts"] });
    const c = await open(SPEAK, bearer(key.key));
    expect(c.res.status).toBe(101);
    expect(await c.closedWithin(2_500)).toBe("open"); // checks pass while the key allows it
    await patchKey(u.jwt, key.id, { scopes: ["tts"] });
    expect(await c.closedWithin(5_000)).toBe(4401);
    expect(c.events.findLast((e) => e.type === "error")).toMatchObject({
      code: "scope_denied",
      message: expect.stringMatching(/no longer/),
    });
  }, 20_000);

  it("the key's provider allow-list no longer names the session's provider", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u, { providers: ["deepgram", "elevenlabs"] });
    const c = await open(SPEAK, bearer(key.key));
    expect(c.res.status).toBe(101);
    await patchKey(u.jwt, key.id, { providers: ["deepgram", "cartesia"] }); // still allowed
    expect(await c.closedWithin(2_500)).toBe("open");
    await patchKey(u.jwt, key.id, { providers: ["elevenlabs"] });
    expect(await c.closedWithin(5_000)).toBe(4401);
    expect(c.events.findLast((e) => e.type === "error")).toMatchObject({ code: "scope_denied" });
  }, 20_000);

  it("the session of a client token the key minted (OpenAI's protocol: its error event)", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u, { scopes: ["realtime", "llm"] });
    const minted = await call("/v1/realtime/tokens", { method: "POST", headers: bearer(key.key), json: { operation: "realtime" } });
    const { token } = (await minted.json()) as { token: string };
    const c = await open(`/v1/realtime?model=openai/gpt-realtime&token=${token}`);
    expect(c.res.status).toBe(101);
    await patchKey(u.jwt, key.id, { scopes: ["llm"] });
    expect(await c.closedWithin(5_000)).toBe(4401);
    expect(c.events.findLast((e) => e.type === "error")?.error).toMatchObject({ code: "scope_denied" });
  }, 20_000);
});

describe("a session held to its key's monthly credit limit", () => {
  it("ends with key_credit_limit_reached, then 4402 — not insufficient_credits: the account still has credits (an audit)", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u, { monthlyCreditLimit: 1 });
    const c = await open("/v1/realtime/listen?provider=deepgram&encoding=linear16&sampleRate=16000", bearer(key.key));
    expect(c.res.status).toBe(101);
    // 20 s of 16 kHz 16-bit audio, far past what one credit buys: the key's limit ends the session.
    for (let i = 0; i < 20; i++) c.ws?.send(new Uint8Array(32_000));
    expect(await c.closedWithin(8_000)).toBe(4402);
    expect(c.events.findLast((e) => e.type === "error")).toMatchObject({ code: "key_credit_limit_reached" });
  }, 20_000);
});

describe("the request log", () => {
  it("a client token's session is logged under the key that minted it", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const minted = await call("/v1/realtime/tokens", { method: "POST", headers: bearer(key.key), json: { operation: "speak" } });
    const { token } = (await minted.json()) as { token: string };
    const c = await open(`${SPEAK}&token=${token}`);
    expect(c.res.status).toBe(101);
    const requestId = c.res.headers.get("x-request-id");
    c.ws?.send(JSON.stringify({ type: "close" }));
    expect(await c.closedWithin(8_000)).toBe(1000);
    const rows = await until(
      async () => ((await (await call("/v1/requests", { headers: bearer(u.jwt) })).json()) as any).requests as any[],
      (r) => r.some((e) => e.id === requestId),
    );
    expect(rows.find((e) => e.id === requestId)).toMatchObject({ path: "/v1/realtime/speak", status: 101, keyId: key.id });
  }, 20_000);
});
