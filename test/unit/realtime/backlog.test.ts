// Client frames held behind a pending top-up (src/realtime/session.ts, QUEUED_BYTES_MAX): held in order
// and forwarded once the top-up answers, but never more than the bound — a client that sends more while the
// Account object has not answered has its session ended (an error event, 1013), none of what waited
// forwarded or charged. The session here is the real Session, Governor and relay over WebSocketPairs, with
// an Account stub whose renewSession answers only when the test says so.
import { describe, expect, it } from "vitest";
import type { Account } from "../../../src/account/account";
import type { SessionCloseRequest, SessionRenewal } from "../../../src/metering/contract";
import { DEFAULT_PRICES } from "../../../src/metering/prices";
import { listenCostMc, speakCostMc } from "../../../src/metering/realtime";
import { Governor } from "../../../src/realtime/governor";
import { relayListen } from "../../../src/realtime/listen";
import type { ListenStream, SpeakStream } from "../../../src/realtime/providers/types";
import { QUEUED_BYTES_MAX, QUEUED_FRAME_BYTES, Session } from "../../../src/realtime/session";
import { relaySpeak } from "../../../src/realtime/speak";
import { sleep, until } from "../../helpers/reliability";

const BYTES_PER_SECOND = 32_000; // 16 kHz 16-bit
const LISTEN_PARAMS = { model: "nova-3", encoding: "linear16" as const, sampleRate: 16_000 };

/** An Account whose renewSession waits until released; what the session settled is recorded. */
function pendingAccount() {
  let release: (r: SessionRenewal) => void = () => {};
  const renewals: number[] = [];
  const closes: SessionCloseRequest[] = [];
  const stub = {
    renewSession: (req: { needMc: number }) => {
      renewals.push(req.needMc);
      return new Promise<SessionRenewal>((ok) => {
        release = ok;
      });
    },
    closeSession: async (req: SessionCloseRequest) => void closes.push(req),
  };
  return { stub: stub as unknown as DurableObjectStub<Account>, renewals, closes, release: (r: SessionRenewal) => release(r) };
}

/** A session whose reservation covers `reservedMc`, between a client socket and a provider socket the test holds. */
function sessionWith(reservedMc: number, sliceMc: number) {
  const account = pendingAccount();
  const [clientEnd, clientSide] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  const [upstreamEnd, upstreamSide] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  for (const ws of [clientEnd, clientSide, upstreamEnd, upstreamSide]) {
    ws.accept();
    ws.binaryType = "arraybuffer"; // as open.ts and upstream.ts set it
  }
  let session: Session | undefined;
  const governor = new Governor({
    account: account.stub,
    userId: "usr_backlog",
    sessionId: "rts_backlog",
    metered: true,
    reservedMc,
    sliceMc,
    capMc: Number.POSITIVE_INFINITY,
    leaseMs: 60_000,
    end: (ending) => session?.end(ending),
    requestId: "req_backlog",
  });
  session = new Session({
    client: clientSide,
    upstream: upstreamSide,
    governor,
    openAiProtocol: false,
    maxSeconds: 3_600,
    checkIntervalMs: 60_000,
    providerKey: "provider-key",
  });
  const events: any[] = [];
  clientEnd.addEventListener("message", (e: MessageEvent) => {
    if (typeof e.data === "string") events.push(JSON.parse(e.data));
  });
  const closed = new Promise<number>((ok) => clientEnd.addEventListener("close", (e: CloseEvent) => ok(e.code)));
  const forwarded: (string | number)[] = [];
  upstreamEnd.addEventListener("message", (e: MessageEvent) => {
    forwarded.push(typeof e.data === "string" ? e.data : (e.data as ArrayBuffer).byteLength);
  });
  return { session, account, client: clientEnd, events, closed, forwarded };
}

const listenStream = (): ListenStream => ({
  target: { url: "http://provider.invalid", headers: {} },
  audio: (chunk) => chunk,
  finalize: () => "finalize",
  end: () => "end",
  read: () => [],
});

const speakStream = (): SpeakStream => ({
  target: { url: "http://provider.invalid", headers: {} },
  text: (t) => [t],
  flush: () => ["flush"],
  end: () => ["end"],
  read: () => [],
});

/** Resolves with the close code, or "open" after `ms`. */
const closedWithin = (closed: Promise<number>, ms: number) => Promise.race([closed, sleep(ms).then(() => "open" as const)]);

describe("client frames behind a pending top-up", () => {
  it("listen: past QUEUED_BYTES_MAX of audio waiting, the session ends with an error event and 1013; nothing that waited is forwarded or charged", async () => {
    const oneSecondMc = listenCostMc("deepgram", BYTES_PER_SECOND, BYTES_PER_SECOND);
    const t = sessionWith(oneSecondMc, 30 * oneSecondMc);
    relayListen(t.session, listenStream(), "deepgram", LISTEN_PARAMS, DEFAULT_PRICES);
    t.client.send(new Uint8Array(BYTES_PER_SECOND)); // covered: forwarded; the reservation is spent, a top-up is asked for
    const chunk = 64 * 1024;
    const sent = Math.ceil(QUEUED_BYTES_MAX / chunk) + 4; // a little more than the bound, 2 s of audio a frame
    for (let i = 0; i < sent; i++) t.client.send(new Uint8Array(chunk));
    const code = await closedWithin(t.closed, 5_000);
    expect(code).toBe(1013);
    expect(t.events.find((e) => e.type === "error")).toMatchObject({ code: "rate_limited", message: expect.stringMatching(/1 MiB/) });
    expect(t.events.findLast((e) => e.type === "usage")).toMatchObject({ seconds: 1, cost: oneSecondMc / 1000 });
    await until(
      async () => t.account.closes.length,
      (n) => n === 1,
    );
    expect(t.account.closes[0]?.actualMc).toBe(oneSecondMc);
    expect(t.forwarded).toEqual([BYTES_PER_SECOND]);
    expect(t.account.renewals.length).toBeGreaterThanOrEqual(1); // the top-up was asked for, and never answered
  });

  it("listen: within the bound, what waited is forwarded in order once the top-up answers", async () => {
    const oneSecondMc = listenCostMc("deepgram", BYTES_PER_SECOND, BYTES_PER_SECOND);
    const t = sessionWith(oneSecondMc, 60 * oneSecondMc);
    relayListen(t.session, listenStream(), "deepgram", LISTEN_PARAMS, DEFAULT_PRICES);
    t.client.send(new Uint8Array(BYTES_PER_SECOND));
    const sizes = [1_000, 2_000, 3_000, QUEUED_BYTES_MAX - 6_000 - 3_000];
    for (const n of sizes) t.client.send(new Uint8Array(n));
    await sleep(200);
    expect(t.forwarded).toEqual([BYTES_PER_SECOND]); // still waiting for the top-up
    t.account.release({ ok: true, reservedMc: 100 * oneSecondMc, grantedMc: 99 * oneSecondMc });
    await until(
      async () => t.forwarded.length,
      (n) => n === 1 + sizes.length,
    );
    expect(t.forwarded).toEqual([BYTES_PER_SECOND, ...sizes]);
    expect(await closedWithin(t.closed, 100)).toBe("open");
    t.session.end({ code: 1000 });
  });

  it("speak: text held behind a pending top-up is bounded too", async () => {
    const fiveCharactersMc = speakCostMc("deepgram", 5, false, DEFAULT_PRICES);
    const t = sessionWith(fiveCharactersMc, 50 * fiveCharactersMc);
    relaySpeak(t.session, speakStream(), { id: "deepgram", maxTextChars: 2_000 }, false, DEFAULT_PRICES);
    t.client.send(JSON.stringify({ type: "text", text: "hello" }));
    const text = JSON.stringify({ type: "text", text: "x".repeat(4_000) });
    // The first of them waits for the top-up itself; the rest queue behind it, past the bound.
    for (let queued = -text.length; queued <= QUEUED_BYTES_MAX; queued += text.length) t.client.send(text);
    expect(await closedWithin(t.closed, 5_000)).toBe(1013);
    expect(t.forwarded).toEqual(["hello"]);
    await until(
      async () => t.account.closes.length,
      (n) => n === 1,
    );
    expect(t.account.closes[0]?.actualMc).toBe(fiveCharactersMc);
  });

  it("listen: empty frames are held at a cost too (each waiting frame is a task in memory): a flood of them ends the session (1013)", async () => {
    const oneSecondMc = listenCostMc("deepgram", BYTES_PER_SECOND, BYTES_PER_SECOND);
    const t = sessionWith(oneSecondMc, 30 * oneSecondMc);
    relayListen(t.session, listenStream(), "deepgram", LISTEN_PARAMS, DEFAULT_PRICES);
    t.client.send(new Uint8Array(BYTES_PER_SECOND)); // covered: forwarded; the reservation is spent, a top-up is asked for
    t.client.send(new Uint8Array(1)); // waits for the top-up itself
    for (let i = 0; i < QUEUED_BYTES_MAX / QUEUED_FRAME_BYTES + 10; i++) t.client.send(new Uint8Array(0));
    expect(await closedWithin(t.closed, 10_000)).toBe(1013);
    expect(t.forwarded).toEqual([BYTES_PER_SECOND]);
  });

  it("speak: text waiting is counted in the UTF-8 bytes it came in, not its UTF-16 length (CJK text is 3 bytes a character)", async () => {
    const fiveCharactersMc = speakCostMc("deepgram", 5, false, DEFAULT_PRICES);
    const t = sessionWith(fiveCharactersMc, 50 * fiveCharactersMc);
    relaySpeak(t.session, speakStream(), { id: "deepgram", maxTextChars: 2_000 }, false, DEFAULT_PRICES);
    t.client.send(JSON.stringify({ type: "text", text: "hello" }));
    const text = JSON.stringify({ type: "text", text: "語".repeat(1_500) });
    const bytes = new TextEncoder().encode(text).byteLength;
    expect(bytes).toBeGreaterThan(2.9 * text.length);
    // Past the bound in bytes, well within it in UTF-16 units (a third of it).
    const frames = Math.ceil(QUEUED_BYTES_MAX / bytes) + 2;
    expect(frames * text.length).toBeLessThan(QUEUED_BYTES_MAX / 2);
    for (let i = 0; i < frames; i++) t.client.send(text);
    expect(await closedWithin(t.closed, 5_000)).toBe(1013);
    expect(t.forwarded).toEqual(["hello"]);
  });
});
