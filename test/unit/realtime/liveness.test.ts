import { describe, expect, it } from "vitest";
import { faultFor, marker, upstreamRequests } from "../../helpers/api";
import { env } from "../../helpers/env";
import { inAccount, ledgerOf, sleep, until, userOn } from "../../helpers/reliability";
import { type Client, closedWithin, openSocket } from "./handshake";

const listen = (provider: string) => `/v1/realtime/listen?provider=${provider}&encoding=linear16&sampleRate=16000`;
const speak = (provider: string) => `/v1/realtime/speak?provider=${provider}`;
/** A check every second and an idle limit of 2 s, so an idle session ends within about 3 s. */
const IDLE = { ...(env as any), REALTIME_CHECK_INTERVAL_SECONDS: "1", REALTIME_IDLE_SECONDS: "2" };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const ONE_SECOND = 32_000; // of 16 kHz 16-bit audio

/** Opens `path` with the JWT, under `vars` (the idle limit's by default). */
const open = (path: string, jwt: string, vars: any = env) => openSocket(path, { headers: bearer(jwt), env: vars });
const errorsOf = (c: Client) => c.events.filter((e) => e.type === "error");
const openSessions = (userId: string) => inAccount(userId, (instance) => instance.sessions.openCount() as number);

describe("REALTIME_IDLE_SECONDS: a session nothing flows through ends (4408 session_idle)", () => {
  it("a client that vanished without closing frees its slot: a free user (one session) can open another", async () => {
    const u = await userOn("free");
    const m = marker();
    const gone = await open(`${listen("deepgram")}&model=${m}`, u.jwt, IDLE);
    expect(gone.res.status).toBe(101);
    // Half-open: the client sends nothing and never closes. The slot is taken meanwhile.
    expect((await open(listen("deepgram"), u.jwt, IDLE)).res.status).toBe(429);
    const started = Date.now();
    const end = await closedWithin(gone, 8_000);
    if (end === "open") throw new Error("an idle session outlived REALTIME_IDLE_SECONDS by 6 s");
    expect(end.code).toBe(4408);
    expect(end.at - started).toBeGreaterThanOrEqual(1_500);
    expect(errorsOf(gone)).toEqual([{ type: "error", code: "session_idle", message: expect.stringMatching(/2 seconds/) }]);
    expect(gone.events.at(-2)).toMatchObject({ type: "usage", seconds: 0, cost: 0 }); // usage, then the error
    // Voxgate's keep-alives to the provider stop with it: the provider's socket is closed.
    const record = await until(
      async () => (await upstreamRequests("deepgram")).find((r: any) => r.query?.model === m),
      (r) => r?.open === false,
    );
    expect(record?.open).toBe(false);
    expect(
      await until(
        () => openSessions(u.id),
        (n) => n === 0,
      ),
    ).toBe(0);
    const next = await open(listen("deepgram"), u.jwt, IDLE);
    expect(next.res.status).toBe(101);
    next.ws?.close(1000);
    await closedWithin(next, 3_000);
  }, 30_000);

  for (const [what, path] of [
    ["listen", listen("deepgram")],
    ["speak", speak("deepgram")],
  ] as const) {
    it(`${what}: {"type":"keepalive"} holds an idle session open, with no error event; once it stops, the session ends`, async () => {
      const u = await userOn("pro");
      const c = await open(path, u.jwt, IDLE);
      expect(c.res.status).toBe(101);
      for (let i = 0; i < 9; i++) {
        c.ws?.send(JSON.stringify({ type: "keepalive" }));
        await sleep(500);
      }
      expect(await closedWithin(c, 0)).toBe("open"); // 4.5 s: more than twice the idle limit
      expect(errorsOf(c)).toEqual([]);
      expect(await closedWithin(c, 8_000)).toMatchObject({ code: 4408 });
      expect(errorsOf(c)).toMatchObject([{ code: "session_idle" }]);
    }, 30_000);
  }

  it("/v1/realtime (OpenAI's protocol, which has no keep-alive message) is not cut while both sides are quiet", async () => {
    const u = await userOn("pro");
    const c = await open("/v1/realtime?model=openai/gpt-realtime", u.jwt, IDLE);
    expect(c.res.status).toBe(101);
    expect(await closedWithin(c, 4_500)).toBe("open"); // more than twice the idle limit, nothing sent either way
    expect(errorsOf(c)).toEqual([]);
    c.ws?.close(1000);
    expect(await closedWithin(c, 5_000)).not.toBe("open");
    expect(
      await until(
        () => openSessions(u.id),
        (n) => n === 0,
      ),
    ).toBe(0);
  }, 30_000);

  it("audio from the client is activity too", async () => {
    const u = await userOn("pro");
    const c = await open(listen("deepgram"), u.jwt, IDLE);
    for (let i = 0; i < 8; i++) {
      c.ws?.send(new Uint8Array(ONE_SECOND / 2));
      await sleep(500);
    }
    expect(await closedWithin(c, 0)).toBe("open");
    c.ws?.send(JSON.stringify({ type: "close" }));
    expect(await closedWithin(c, 5_000)).toMatchObject({ code: 1000 });
    expect(errorsOf(c)).toEqual([]);
  }, 30_000);
});

describe("a provider that stops answering: provider_timeout and 4502 within PROVIDER_TIMEOUT_MS (2 s)", () => {
  for (const provider of ["deepgram", "elevenlabs", "cartesia"]) {
    it(`speak via ${provider}: a flush it never answers ends the session, and the characters sent are charged`, async () => {
      const u = await userOn("pro");
      const m = marker();
      await faultFor(m, { provider, mode: "ws_stall" }); // claimed by the text frame that carries the marker
      const c = await open(speak(provider), u.jwt);
      expect(c.res.status).toBe(101);
      c.ws?.send(JSON.stringify({ type: "text", text: `hello ${m}` }));
      const flushedAt = Date.now();
      c.ws?.send(JSON.stringify({ type: "flush" }));
      const end = await closedWithin(c, 8_000);
      if (end === "open") throw new Error("the session outlived an unanswered flush by 8 s");
      expect(end.code).toBe(4502);
      expect(end.at - flushedAt).toBeGreaterThanOrEqual(1_900);
      expect(errorsOf(c)).toEqual([{ type: "error", code: "provider_timeout", message: expect.stringMatching(/flush.*2000 ms/) }]);
      expect(c.events.some((e) => e.type === "done")).toBe(false);
      const characters = `hello ${m}`.length;
      expect(c.events.findLast((e) => e.type === "usage")).toMatchObject({ characters });
      expect(
        (
          await until(
            () => ledgerOf(u.id),
            (l) => l.usedMc > 0,
          )
        ).usedMc,
      ).toBeGreaterThan(0);
    }, 30_000);

    it(`speak via ${provider}: a flush it answers, then close: done, and a normal end`, async () => {
      const u = await userOn("pro");
      const c = await open(speak(provider), u.jwt);
      c.ws?.send(JSON.stringify({ type: "text", text: "hello there" }));
      c.ws?.send(JSON.stringify({ type: "flush" }));
      await until(
        async () => c.events.filter((e) => e.type === "done").length,
        (n) => n === 1,
      );
      await sleep(2_500); // longer than PROVIDER_TIMEOUT_MS: nothing is owed, nothing times out
      c.ws?.send(JSON.stringify({ type: "close" }));
      expect(await closedWithin(c, 5_000)).toMatchObject({ code: 1000 });
      expect(errorsOf(c)).toEqual([]);
    }, 30_000);
  }

  it("speak: close after a flush it never answers is 4502 too, not 1000; the slot is freed and what was sent charged", async () => {
    const u = await userOn("pro");
    const m = marker();
    await faultFor(m, { provider: "deepgram", path: "/v1/speak", mode: "ws_stall" });
    const c = await open(speak("deepgram"), u.jwt);
    c.ws?.send(JSON.stringify({ type: "text", text: `hello ${m}` }));
    c.ws?.send(JSON.stringify({ type: "close" }));
    const end = await closedWithin(c, 8_000);
    if (end === "open") throw new Error("the session outlived its close by 8 s");
    expect(end.code).toBe(4502);
    expect(errorsOf(c)).toMatchObject([{ code: "provider_timeout" }]);
    expect(
      await until(
        () => openSessions(u.id),
        (n) => n === 0,
      ),
    ).toBe(0);
    expect(
      (
        await until(
          () => ledgerOf(u.id),
          (l) => l.usedMc > 0,
        )
      ).usedMc,
    ).toBeGreaterThan(0);
  }, 30_000);

  for (const command of ["finalize", "close"]) {
    it(`listen: a ${command} after audio that a stalled provider never answers: 4502, the audio charged`, async () => {
      const u = await userOn("pro");
      const m = marker(); // in the model, which goes into the provider's URL: the fault is this upgrade's
      await faultFor(m, { provider: "deepgram", path: "/v1/listen", mode: "ws_stall" });
      const c = await open(`${listen("deepgram")}&model=${m}`, u.jwt);
      expect(c.res.status).toBe(101);
      c.ws?.send(new Uint8Array(ONE_SECOND));
      await sleep(100);
      const sentAt = Date.now();
      c.ws?.send(JSON.stringify({ type: command }));
      const end = await closedWithin(c, 8_000);
      if (end === "open") throw new Error(`the session outlived an unanswered ${command} by 8 s`);
      expect(end.code).toBe(4502);
      expect(end.at - sentAt).toBeGreaterThanOrEqual(1_900);
      expect(errorsOf(c)).toEqual([{ type: "error", code: "provider_timeout", message: expect.stringMatching(/2000 ms/) }]);
      expect(c.events.some((e) => e.type === "transcript")).toBe(false);
      expect(c.events.findLast((e) => e.type === "usage")).toMatchObject({ seconds: 1 });
      expect(
        (
          await until(
            () => ledgerOf(u.id),
            (l) => l.usedMc > 0,
          )
        ).usedMc,
      ).toBeGreaterThan(0);
    }, 30_000);
  }

  for (const provider of ["deepgram", "elevenlabs", "cartesia"]) {
    it(`listen via ${provider} with no speech: a finalize owes nothing, and close ends normally (1000, no error)`, async () => {
      const u = await userOn("pro");
      const c = await open(listen(provider), u.jwt);
      expect(c.res.status).toBe(101);
      c.ws?.send(JSON.stringify({ type: "finalize" }));
      expect(await closedWithin(c, 3_000)).toBe("open"); // longer than PROVIDER_TIMEOUT_MS
      c.ws?.send(JSON.stringify({ type: "close" }));
      expect(await closedWithin(c, 5_000)).toMatchObject({ code: 1000 });
      expect(errorsOf(c)).toEqual([]);
    }, 30_000);

    it(`listen via ${provider}: audio, finalize (answered), more audio, close: transcripts and a normal end`, async () => {
      const u = await userOn("pro");
      const c = await open(listen(provider), u.jwt);
      c.ws?.send(new Uint8Array(ONE_SECOND + ONE_SECOND / 4));
      c.ws?.send(JSON.stringify({ type: "finalize" }));
      await sleep(2_500);
      expect(await closedWithin(c, 0)).toBe("open");
      c.ws?.send(new Uint8Array(ONE_SECOND / 4));
      c.ws?.send(JSON.stringify({ type: "close" }));
      expect(await closedWithin(c, 5_000)).toMatchObject({ code: 1000 });
      expect(errorsOf(c)).toEqual([]);
      expect(c.events.filter((e) => e.type === "transcript" && e.isFinal).length).toBeGreaterThanOrEqual(2);
    }, 30_000);
  }
});
