// Realtime sessions through the worker's upgrade (API.md §4.3, §5), as a WebSocket client opens them:
// credentials that lapse during a session (a JWT's exp, an API key's expiry) end it with an error event
// and 4401; the refusal over the plan's cap says when to retry; the 101 carries Server-Timing; and the
// OpenAI SDK's browser client, whose only way to send a credential is the subprotocol
// `openai-insecure-api-key.<credential>`, opens /v1/realtime — its key kept out of every log.
import { createExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../../src/index";
import { realtimeCostMc } from "../../../src/metering/realtime";
import { BASE, faultFor, jwtFor, marker, upstreamRequests } from "../../helpers/api";
import { env } from "../../helpers/env";
import { call, inAccount, keyOf, ledgerOf, sleep, until, userOn } from "../../helpers/reliability";
import { type Client, closedWithin, HANDSHAKE, openSocket as open } from "./handshake";

const LISTEN = "/v1/realtime/listen?provider=deepgram&encoding=linear16&sampleRate=16000";
const SPEAK = "/v1/realtime/speak?provider=deepgram";
const OPENAI = "/v1/realtime?model=openai/gpt-realtime";
/** A check every second, so a lapse is seen within a second. */
const FAST = { ...(env as any), REALTIME_CHECK_INTERVAL_SECONDS: "1" };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The subject of a user's JWT: another JWT for the same user, with an exp of the test's choosing. */
const subjectOf = (jwt: string) => JSON.parse(atob(jwt.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/"))).sub as string;

/** The error event's code and message, in the uniform protocol or OpenAI's. */
const errorOf = (e: any) => (e?.type === "error" ? (e.error ?? e) : undefined);

afterEach(() => vi.restoreAllMocks());

describe("credentials that lapse during a session end it: an error event, then 4401", () => {
  it("a JWT's exp passing ends listen, speak and /v1/realtime sessions within the check interval", async () => {
    const u = await userOn("pro");
    const exp = Math.floor(Date.now() / 1000) + 2;
    const short = await jwtFor(subjectOf(u.jwt), { expiresIn: exp });
    const clients = await Promise.all([LISTEN, SPEAK, OPENAI].map((path) => open(path, { headers: bearer(short), env: FAST })));
    expect(clients.map((c) => c.res.status)).toEqual([101, 101, 101]);
    const ends = await Promise.all(clients.map((c) => closedWithin(c, 8_000)));
    for (const [i, end] of ends.entries()) {
      if (end === "open") throw new Error(`session ${i} outlived its JWT`);
      expect(end.code).toBe(4401);
      expect(end.at).toBeGreaterThanOrEqual(exp * 1000);
      expect(end.at).toBeLessThan(exp * 1000 + 4_000); // one check interval (1 s), and slack for a busy machine
      const error = errorOf(clients[i]!.events.findLast((e) => e.type === "error"));
      expect(error).toMatchObject({ code: "unauthorized", message: expect.stringMatching(/expired/) });
    }
  }, 20_000);

  it("a client token minted with a JWT expires no later than the JWT, and its session ends when the JWT does", async () => {
    const u = await userOn("pro");
    const exp = Math.floor(Date.now() / 1000) + 3;
    const short = await jwtFor(subjectOf(u.jwt), { expiresIn: exp });
    const minted = await call("/v1/realtime/tokens", { method: "POST", headers: bearer(short), json: { operation: "listen" } });
    expect(minted.status).toBe(201);
    const { token, expiresAt } = (await minted.json()) as { token: string; expiresAt: string };
    expect(Date.parse(expiresAt)).toBeLessThanOrEqual(exp * 1000);
    const c = await open(`${LISTEN}&token=${token}`, { env: FAST });
    expect(c.res.status).toBe(101);
    const end = await closedWithin(c, 8_000);
    if (end === "open") throw new Error("the token's session outlived the JWT that minted it");
    expect(end.code).toBe(4401);
    expect(end.at).toBeGreaterThanOrEqual(exp * 1000);
    expect(errorOf(c.events.findLast((e) => e.type === "error"))).toMatchObject({ code: "unauthorized" });
  }, 20_000);

  it("an API key whose expiresAt passes during a session ends it", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u, { expiresInDays: 1 });
    const c = await open(LISTEN, { headers: bearer(key.key), env: FAST });
    expect(c.res.status).toBe(101);
    // Expiry is a point in time: bring it near in the Account object's copy, as time would.
    const expiresAt = Date.now() + 1_500;
    await inAccount(u.id, async (instance) => {
      (await instance.copy).keys.get(key.id).expiresAt = expiresAt;
    });
    const end = await closedWithin(c, 6_000);
    if (end === "open") throw new Error("the session outlived its API key");
    expect(end.code).toBe(4401);
    expect(end.at).toBeGreaterThanOrEqual(expiresAt);
    expect(errorOf(c.events.findLast((e) => e.type === "error"))).toMatchObject({
      code: "unauthorized",
      message: expect.stringMatching(/expired/),
    });
  }, 20_000);
});

describe("the upgrade's answer", () => {
  it("one session over the plan's cap: 429 session_limit_reached with a whole-seconds Retry-After (the check interval)", async () => {
    const u = await userOn("free"); // one session at a time
    const seven = { ...(env as any), REALTIME_CHECK_INTERVAL_SECONDS: "7" };
    const first = await open(LISTEN, { headers: bearer(u.jwt), env: seven });
    expect(first.res.status).toBe(101);
    const second = await open(LISTEN, { headers: bearer(u.jwt), env: seven });
    expect(second.res.status).toBe(429);
    expect(((await second.res.json()) as any).error.code).toBe("session_limit_reached");
    expect(second.res.headers.get("retry-after")).toBe("7");
    first.ws?.close(1000);
    await closedWithin(first, 3_000);
  });

  it("a handshake without Sec-WebSocket-Key or -Version is a JSON 400 naming the header, another version 426 naming 13: nothing admitted, opened or counted", async () => {
    const u = await userOn("free"); // one session at a time: an admitted one would hold the slot
    const m = marker();
    const before = await ledgerOf(u.id);
    const cases = [
      { drop: "sec-websocket-key", status: 400, code: "validation_failed", field: "Sec-WebSocket-Key" },
      { drop: "sec-websocket-version", status: 400, code: "validation_failed", field: "Sec-WebSocket-Version" },
      { version: "8", status: 426, code: "upgrade_required" },
    ];
    for (const k of cases) {
      const headers = new Headers({ ...HANDSHAKE, ...bearer(u.jwt) });
      if (k.drop) headers.delete(k.drop);
      if (k.version) headers.set("sec-websocket-version", k.version);
      const res = await worker.fetch(new Request(`${BASE}${LISTEN}&model=${m}`, { headers }), env, createExecutionContext());
      expect(res.status, JSON.stringify(k)).toBe(k.status);
      expect(res.webSocket).toBeNull();
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const body = (await res.json()) as any;
      expect(body).toMatchObject({ success: false, error: { code: k.code } });
      if (k.field) expect(body.error.fields).toEqual([{ path: k.field, message: expect.stringMatching(/missing/) }]);
      if (k.version) {
        expect(res.headers.get("sec-websocket-version")).toBe("13");
        expect(body.error.message).toMatch(/version 8 .*version 13/);
      }
    }
    expect((await upstreamRequests("deepgram")).filter((r: any) => r.query?.model === m)).toEqual([]);
    expect(await inAccount(u.id, (instance) => instance.sessions.openCount() as number)).toBe(0);
    expect(await ledgerOf(u.id)).toMatchObject({ requestCount: before.requestCount, usedMc: 0, reservedMc: 0 });
    const ok = await open(LISTEN, { headers: bearer(u.jwt) });
    expect(ok.res.status).toBe(101);
    ok.ws?.close(1000);
    await closedWithin(ok, 3_000);
  });

  it("the 101 carries Server-Timing: gateway and upstream (the time to the provider's upgrade answer)", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    for (const path of [LISTEN, OPENAI]) {
      const c = await open(path, { headers: bearer(key.key) });
      expect(c.res.status).toBe(101);
      expect(c.res.headers.get("x-provider-used")).toBeTruthy();
      expect(c.res.headers.get("server-timing")).toMatch(/^gateway;dur=\d+(\.\d)?, upstream;dur=\d+(\.\d)?$/);
      c.ws?.close(1000);
      await closedWithin(c, 3_000);
    }
  });
});

describe("the OpenAI SDK's browser client: the credential as subprotocol openai-insecure-api-key.<credential>", () => {
  // What OpenAIRealtimeWebSocket offers (openai-node src/realtime/websocket.ts).
  const sdkProtocols = (credential: string) => ["realtime", `openai-insecure-api-key.${credential}`];

  it("an API key opens /v1/realtime, answered with subprotocol realtime; the key is in no log line, log entry or upstream call", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const lines: string[] = [];
    for (const level of ["log", "error", "warn", "info", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
    const c = await open(OPENAI, { protocols: sdkProtocols(key.key) });
    expect(c.res.status).toBe(101);
    expect(c.res.headers.get("sec-websocket-protocol")).toBe("realtime");
    c.ws?.send(JSON.stringify({ type: "session.update", session: { type: "realtime", instructions: "be brief" } }));
    await sleep(200);
    c.ws?.close(1000);
    await closedWithin(c, 3_000);
    const rows = await until(
      async () => ((await (await call("/v1/requests", { headers: bearer(u.jwt) })).json()) as any).requests as any[],
      (r) => r.some((e) => e.keyId === key.id && e.path === "/v1/realtime"),
    );
    // The session is one provider call, in the log entry as on the 101.
    expect(rows.find((e) => e.keyId === key.id && e.path === "/v1/realtime")).toMatchObject({
      status: 101,
      provider: "openai",
      attempts: 1,
    });
    expect(c.res.headers.get("x-provider-attempts")).toBe("openai=101");
    expect(JSON.stringify(rows)).not.toContain(key.key);
    expect(lines.join("\n")).not.toContain(key.key);
    expect(JSON.stringify(await upstreamRequests("openai"))).not.toContain(key.key);
  });

  it("a client token opens one session there", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const minted = await call("/v1/realtime/tokens", { method: "POST", headers: bearer(key.key), json: { operation: "realtime" } });
    const { token } = (await minted.json()) as { token: string };
    const c = await open(OPENAI, { protocols: sdkProtocols(token) });
    expect(c.res.status).toBe(101);
    expect(c.res.headers.get("sec-websocket-protocol")).toBe("realtime");
    c.ws?.close(1000);
    await closedWithin(c, 3_000);
    const again = await open(OPENAI, { protocols: sdkProtocols(token) });
    expect(again.res.status).toBe(401);
  });

  it("a header credential wins over the subprotocol, and a subprotocol carrying a credential is never the one answered", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const c = await open(OPENAI, { headers: bearer(key.key), protocols: [`openai-insecure-api-key.${key.key}`] });
    expect(c.res.status).toBe(101);
    expect(c.res.headers.get("sec-websocket-protocol")).toBeNull();
    c.ws?.close(1000);
    await closedWithin(c, 3_000);
  });

  it("a voxgate-token subprotocol is answered only when nothing else was offered: a plain one offered beside it is the answer", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const mint = async () =>
      (
        (await (
          await call("/v1/realtime/tokens", { method: "POST", headers: bearer(key.key), json: { operation: "listen" } })
        ).json()) as any
      ).token as string;
    const t1 = await mint();
    const both = await open(LISTEN, { protocols: ["voxgate", `voxgate-token.${t1}`] });
    expect(both.res.status).toBe(101);
    expect(both.res.headers.get("sec-websocket-protocol")).toBe("voxgate");
    both.ws?.close(1000);
    await closedWithin(both, 3_000);
    const t2 = await mint();
    const alone = await open(LISTEN, { protocols: [`voxgate-token.${t2}`] });
    expect(alone.res.status).toBe(101);
    expect(alone.res.headers.get("sec-websocket-protocol")).toBe(`voxgate-token.${t2}`);
    alone.ws?.close(1000);
    await closedWithin(alone, 3_000);
  });

  it("a bad credential there gets the same 401 as in a header", async () => {
    const u = await userOn("pro");
    const good = await keyOf(u);
    const unknownKey = `${good.key.slice(0, -4)}zzzz`;
    const errorFor = async (c: Client) => {
      expect(c.ws).toBeUndefined();
      return { status: c.res.status, error: ((await c.res.json()) as any).error };
    };
    const inHeader = await errorFor(await open(OPENAI, { headers: bearer(unknownKey), protocols: ["realtime"] }));
    expect(inHeader.status).toBe(401);
    expect(await errorFor(await open(OPENAI, { protocols: sdkProtocols(unknownKey) }))).toEqual(inHeader);
    const forged = `vgt_${btoa(u.id).replaceAll("=", "")}.${"A".repeat(43)}`;
    const tokenError = await errorFor(await open(`${OPENAI}&token=${forged}`));
    expect(await errorFor(await open(OPENAI, { protocols: sdkProtocols(forged) }))).toEqual(tokenError);
    expect(tokenError.status).toBe(401);
  });
});

describe("prices and plans as the operator configured them (PRICES)", () => {
  it("listen and speak are charged at PRICES, and a realtime model priced only there opens a metered session", async () => {
    const u = await userOn("pro");
    const vars = {
      ...(env as any),
      PRICES: JSON.stringify({ stt: { deepgram: 90 }, tts: { deepgram: 300 }, llm: { "house-realtime": { input: 1, output: 2 } } }),
    };
    const listen = await open(LISTEN, { headers: bearer(u.jwt), env: vars });
    expect(listen.res.status).toBe(101);
    listen.ws?.send(new Uint8Array(32_000)); // 1 s of 16 kHz 16-bit audio: 1.5 credits at 90 a minute
    listen.ws?.send(JSON.stringify({ type: "close" }));
    expect(await closedWithin(listen, 10_000)).toMatchObject({ code: 1000 });
    expect(listen.events.findLast((e) => e.type === "usage")).toMatchObject({ seconds: 1, cost: 1.5 });
    expect(
      (
        await until(
          () => ledgerOf(u.id),
          (l) => l.usedMc > 0,
        )
      ).usedMc,
    ).toBe(1_500);

    const speak = await open(SPEAK, { headers: bearer(u.jwt), env: vars });
    expect(speak.res.status).toBe(101);
    speak.ws?.send(JSON.stringify({ type: "text", text: "hello" })); // 5 characters: 1.5 credits at 300 per 1,000
    speak.ws?.send(JSON.stringify({ type: "close" }));
    expect(await closedWithin(speak, 10_000)).toMatchObject({ code: 1000 });
    expect(speak.events.findLast((e) => e.type === "usage")).toMatchObject({ characters: 5, cost: 1.5 });
    expect(
      (
        await until(
          () => ledgerOf(u.id),
          (l) => l.usedMc > 1_500,
        )
      ).usedMc,
    ).toBe(3_000);

    const house = await open("/v1/realtime?model=openai/house-realtime", { headers: bearer(u.jwt), env: vars });
    expect(house.res.status).toBe(101);
    house.ws?.close(1000);
    await closedWithin(house, 3_000);
  }, 30_000);

  it("opening a session takes the plan's rate from PRICES", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u); // its own rate bucket, untouched so far
    const vars = { PRICES: JSON.stringify({ plans: { pro: { requestsPerMinute: 2 } } }) };
    // The Account object reads its own env: give it the same PRICES as the worker for this test.
    const original = await inAccount(u.id, (instance) => {
      const before = instance.env;
      instance.env = { ...before, ...vars };
      return before;
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const c = await open(LISTEN, { headers: bearer(key.key), env: { ...(env as any), ...vars } });
        statuses.push(c.res.status);
        c.ws?.close(1000);
        await closedWithin(c, 3_000);
      }
      expect(statuses).toEqual([101, 101, 429]);
    } finally {
      await inAccount(u.id, (instance) => {
        instance.env = original;
      });
    }
  });
});

describe("ending", () => {
  it("a provider refusing the upgrade does not spend the client token: it opens a session afterwards", async () => {
    const u = await userOn("pro");
    const minted = await call("/v1/realtime/tokens", { method: "POST", headers: bearer(u.jwt), json: { operation: "listen" } });
    const { token } = (await minted.json()) as { token: string };
    const m = marker(); // in the model, which goes into the provider's URL: the fault is this upgrade's
    await faultFor(m, { provider: "deepgram", path: "/v1/listen", mode: "ws_refuse", status: 503 });
    const refused = await open(`${LISTEN}&model=${m}&token=${token}`);
    expect(refused.res.status).toBe(502);
    const retried = await until(
      () => open(`${LISTEN}&token=${token}`),
      (c) => c.res.status !== 401,
    );
    expect(retried.res.status).toBe(101);
    retried.ws?.close(1000);
    await closedWithin(retried, 3_000);
    // Once it opened a session it is spent.
    expect((await open(`${LISTEN}&token=${token}`)).res.status).toBe(401);
    expect((await ledgerOf(u.id)).usedMc).toBe(0);
  });

  it("a provider answering the upgrade with a redirect: 502 with its status, the redirect not followed (the key stays home)", async () => {
    const u = await userOn("pro");
    const m = marker();
    const tag = marker();
    await faultFor(m, {
      provider: "deepgram",
      path: "/v1/listen",
      mode: "ws_refuse",
      status: 307,
      location: `${env.TEST_MOCK_ORIGIN}/__control/elsewhere-${tag}`,
    });
    const refused = await open(`${LISTEN}&model=${m}`, { headers: bearer(u.jwt) });
    expect(refused.res.status).toBe(502);
    expect(((await refused.res.json()) as any).error).toMatchObject({ code: "provider_error", providerStatus: 307 });
    const reached = (await upstreamRequests("control")).filter((r: any) => String(r.path).includes(tag));
    expect(reached).toEqual([]);
  });

  it("a listen session whose client pauses longer than Deepgram's 10 s idle timeout stays open: KeepAlives keep it", async () => {
    // Deepgram closes a stream that gets neither audio nor a KeepAlive for 10 s (NET-0001; its docs: send one
    // every 3-5 s). The check interval (default 10 s) is no keep-alive timer: a pause of 12 s must not end the session.
    const u = await userOn("pro");
    const m = marker();
    const c = await open(`${LISTEN}&model=${m}`, { headers: bearer(u.jwt) });
    expect(c.res.status).toBe(101);
    c.ws?.send(new Uint8Array(32_000)); // 1 s of audio, then silence (the caller is listening to the agent)
    expect(await closedWithin(c, 12_000)).toBe("open");
    c.ws?.send(JSON.stringify({ type: "close" }));
    expect(await closedWithin(c, 10_000)).toMatchObject({ code: 1000 });
    expect(c.events.findLast((e) => e.type === "usage")).toMatchObject({ seconds: 1 });
    const record = (await upstreamRequests("deepgram")).find((r: any) => r.query?.model === m);
    expect(record?.textFrames).toContain(JSON.stringify({ type: "KeepAlive" }));
  }, 40_000);

  it("/v1/realtime is charged exactly the usage response.done reported, even after a response.create OpenAI refused", async () => {
    const u = await userOn("pro");
    const c = await open(OPENAI, { headers: bearer(u.jwt) });
    expect(c.res.status).toBe(101);
    const item = { type: "message", role: "user", content: [{ type: "input_text", text: "Hello there how are you" }] };
    c.ws?.send(JSON.stringify({ type: "conversation.item.create", item }));
    c.ws?.send(JSON.stringify({ type: "response.create", response: { output_modalities: ["text"] } }));
    await until(
      async () => c.events.filter((e) => e.type === "response.done").length,
      (n) => n === 1,
    );
    // Refused by OpenAI (max_output_tokens is 1..4096 or "inf"): an error event, and no response runs.
    c.ws?.send(JSON.stringify({ type: "response.create", response: { max_output_tokens: 0 } }));
    await until(
      async () => c.events.filter((e) => e.type === "error").length,
      (n) => n === 1,
    );
    c.ws?.close(1000);
    await closedWithin(c, 5_000);
    const usage = c.events.find((e) => e.type === "response.done").response.usage;
    const exact = realtimeCostMc("gpt-realtime", usage.input_tokens, usage.output_tokens);
    expect(
      (
        await until(
          () => ledgerOf(u.id),
          (l) => l.usedMc > 0,
        )
      ).usedMc,
    ).toBe(exact);
  }, 30_000);
});

describe("a BYOK header with no usable key in it, at the upgrade", () => {
  it("is 400 validation_failed naming the header, as on the HTTP routes: no session, nothing reaches the provider", async () => {
    const user = await userOn("pro");
    const tag = marker();
    for (const value of ["", "one-key-aaaaaaaa, two-key-bbbbbbbb"]) {
      const client = await open(`${LISTEN}&tag=${tag}`, { headers: { ...bearer(user.jwt), "x-provider-key-deepgram": value } });
      expect(client.res.status).toBe(400);
      expect(client.ws).toBeUndefined();
      const body = (await client.res.json()) as any;
      expect(body.error.code).toBe("validation_failed");
      expect(body.error.message).toContain("X-Provider-Key-Deepgram");
    }
    expect((await ledgerOf(user.id)).usedMc).toBe(0);
  });
});
