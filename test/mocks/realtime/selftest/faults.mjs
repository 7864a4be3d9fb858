// Self-test cases: ws_* faults (refuse, drop, stall, error per provider), nonce targeting, and that
// HTTP and WebSocket faults never take each other's requests.

import { assert, assertEq, connect, refused } from "./lib.mjs";

export default async function faultCases({ test, ws, ctl, mock, U }) {
  const DG = ws("DEEPGRAM_BASE_URL");
  const EL = ws("ELEVENLABS_BASE_URL");
  const CA = ws("CARTESIA_BASE_URL");
  const OA = ws("OPENAI_BASE_URL");
  const dg = { headers: { authorization: "Token dg-fault" } };
  const ca = { headers: { authorization: "Bearer ca-fault", "cartesia-version": "2026-03-01" } };

  await test("ws_refuse: upgrade refused with the status and each provider's error body", async () => {
    await ctl.fault({ provider: "deepgram", path: "/v1/listen", mode: "ws_refuse", status: 429 });
    const r1 = await refused(`${DG}/v1/listen`, dg);
    assertEq([r1.status, r1.headers["retry-after"], JSON.parse(r1.body).err_code], [429, "7", "TOO_MANY_REQUESTS"], "deepgram 429");
    assert(r1.headers["dg-error"], "dg-error header");
    await ctl.fault({ provider: "openai", mode: "ws_refuse", status: 401 });
    const r2 = await refused(`${OA}/realtime?model=gpt-realtime`, { headers: { authorization: "Bearer sk" } });
    assertEq([r2.status, JSON.parse(r2.body).error.code], [401, "invalid_api_key"], "openai 401");
    await ctl.fault({ provider: "elevenlabs", mode: "ws_refuse" });
    const r3 = await refused(`${EL}/v1/speech-to-text/realtime?model_id=m`, { headers: { "xi-api-key": "k" } });
    assertEq([r3.status, JSON.parse(r3.body).detail.status], [503, "service_unavailable"], "elevenlabs default 503");
    await ctl.fault({ provider: "cartesia", mode: "ws_refuse", status: 503 });
    const r4 = await refused(`${CA}/tts/websocket`, ca);
    assertEq([r4.status, JSON.parse(r4.body).error_code], [503, "service_unavailable"], "cartesia 503");
    const rec = await ctl.session("cartesia", "/tts/websocket", (r) => r.status === 503);
    assertEq([rec.fault, rec.open], ["ws_refuse", false], "record");
  });

  await test("ws_drop afterFrames: the socket dies with no close frame after the Nth client frame", async () => {
    await ctl.fault({ provider: "deepgram", path: "/v1/listen", mode: "ws_drop", afterFrames: 2 });
    const c = await connect(`${DG}/v1/listen?encoding=linear16&sample_rate=16000`, dg);
    for (let i = 0; i < 3; i++) c.send(Buffer.alloc(16000));
    assertEq((await c.closed()).code, 1006, "abnormal closure");
    const rec = await ctl.session("deepgram", "/v1/listen");
    assertEq(
      [rec.fault, rec.closedBy, rec.closeCode, rec.received.audioBytes, rec.audioSeconds],
      ["ws_drop", "drop", 1006, 32000, 1],
      "record",
    );
  });

  await test("ws_drop afterSentFrames: dropped mid-audio", async () => {
    await ctl.fault({ provider: "deepgram", path: "/v1/speak", mode: "ws_drop", afterSentFrames: 2 });
    const c = await connect(`${DG}/v1/speak`, dg);
    c.send({ type: "Speak", text: "Some text to speak" });
    c.send({ type: "Flush" });
    assertEq((await c.closed()).code, 1006, "abnormal closure");
    const rec = await ctl.session("deepgram", "/v1/speak");
    assertEq([rec.sent.frames, rec.sent.binary, rec.closedBy], [2, 1, "drop"], "Metadata + one audio frame, then the drop");
  });

  await test("ws_stall: stops answering, socket stays open until the client closes", async () => {
    await ctl.fault({ provider: "openai", mode: "ws_stall", afterFrames: 1 });
    const c = await connect(`${OA}/realtime?model=gpt-realtime`, { headers: { authorization: "Bearer sk" } });
    await c.json("session.created");
    c.send({ type: "session.update", session: { type: "realtime" } });
    await c.json("session.updated");
    c.send({ type: "response.create" });
    const rec = await ctl.session("openai", "/v1/realtime", (r) => r.received.frames === 2);
    assertEq([rec.fault, rec.open, rec.sent.frames, c.frames.length], ["ws_stall", true, 2, 2], "no answer to response.create");
    c.ws.close(1000, "gave up");
    await c.closed();
    const after = await ctl.session("openai", "/v1/realtime");
    assertEq([after.closedBy, after.closeCode, after.closeReason], ["client", 1000, "gave up"], "closed by the client");
  });

  const errorCases = [
    [
      "deepgram listen",
      { provider: "deepgram", path: "/v1/listen", status: 500, afterFrames: 1 },
      `${DG}/v1/listen?encoding=mulaw&sample_rate=8000`,
      dg,
      (c) => c.send(Buffer.alloc(800)),
      null,
      { code: 1011, reason: "NET-0000" },
    ],
    [
      "deepgram speak",
      { provider: "deepgram", path: "/v1/speak", status: 400 },
      `${DG}/v1/speak`,
      dg,
      null,
      null,
      { code: 1008, reason: "DATA-0000" },
    ],
    [
      "elevenlabs tts",
      { provider: "elevenlabs", path: "/stream-input", status: 500, afterFrames: 1 },
      `${EL}/v1/text-to-speech/v/stream-input`,
      { headers: { "xi-api-key": "k" } },
      (c) => c.send({ text: " " }),
      null,
      { code: 1008, reason: "We are sorry, something went wrong. You are not charged for this request." },
    ],
    [
      "elevenlabs stt",
      { provider: "elevenlabs", path: "/realtime", status: 429 },
      `${EL}/v1/speech-to-text/realtime?model_id=m`,
      { headers: { "xi-api-key": "k" } },
      null,
      (f) => f.message_type === "rate_limited" && typeof f.error === "string",
      { code: 1008 },
    ],
    [
      "cartesia tts",
      { provider: "cartesia", path: "/tts/", status: 503 },
      `${CA}/tts/websocket`,
      ca,
      null,
      (f) => f.type === "error" && f.status_code === 503 && f.title && f.message,
      { code: 1011 },
    ],
    [
      "cartesia stt",
      { provider: "cartesia", path: "/stt/", status: 500 },
      `${CA}/stt/websocket?model=ink-whisper&encoding=pcm_s16le&sample_rate=16000`,
      ca,
      null,
      (f) => f.type === "error" && f.status_code === 500,
      { code: 1011 },
    ],
    [
      "openai",
      { provider: "openai", status: 500 },
      `${OA}/realtime?model=gpt-realtime`,
      { headers: { authorization: "Bearer sk" } },
      null,
      (f) => f.type === "error" && f.error.type === "server_error",
      { code: 1011, reason: "server_error" },
    ],
  ];
  for (const [name, f, url, opts, act, frameOk, close] of errorCases) {
    await test(`ws_error ${name}: the provider's error shape, then its close`, async () => {
      await ctl.fault({ ...f, mode: "ws_error" });
      const c = await connect(url, opts);
      if (act) act(c);
      const closed = await c.closed();
      assertEq(close.reason === undefined ? { code: closed.code } : closed, close, "close");
      const texts = c.frames.filter((x) => x.json).map((x) => x.json);
      if (frameOk) assert(texts.length === 1 && frameOk(texts[0]), `error frame: ${JSON.stringify(texts)}`);
      else assertEq(texts, [], "the close frame is the error");
    });
  }

  await test("nonce faults: a text frame carrying bodyIncludes claims the fault; a key in a header too", async () => {
    await ctl.fault({ provider: "elevenlabs", path: "/stream-input", mode: "ws_error", status: 500, bodyIncludes: "nonce-rt-7" });
    await fetch(`${mock.origin}/__control/reset`, { method: "POST" });
    assertEq((await ctl.get("/faults")).length, 1, "a nonce fault survives reset");
    const a = await connect(`${EL}/v1/text-to-speech/v/stream-input`, { headers: { "xi-api-key": "k" } });
    a.send({ text: " " });
    a.send({ text: "plain words", flush: true });
    await a.next((f) => f.json?.audio, "audio");
    const b = await connect(`${EL}/v1/text-to-speech/v/stream-input`, { headers: { "xi-api-key": "k" } });
    b.send({ text: " " });
    b.send({ text: "say nonce-rt-7 now", flush: true });
    assertEq((await b.closed()).code, 1008, "the nonce session fails");
    a.send({ text: "" });
    assertEq((await a.closed()).code, 1000, "the other session is untouched");
    const recs = (await ctl.get("/requests?kind=websocket&provider=elevenlabs&path=/stream-input")).slice(-2);
    assertEq(
      recs.map((r) => r.fault),
      [null, "ws_error"],
      "fault recorded on the nonce session only",
    );
    await ctl.fault({ provider: "deepgram", mode: "ws_refuse", status: 503, bodyIncludes: "dgkey-nonce-9" });
    const ok = await connect(`${DG}/v1/listen`, dg);
    ok.ws.close();
    assertEq((await refused(`${DG}/v1/listen`, { headers: { authorization: "Token dgkey-nonce-9" } })).status, 503, "key-targeted refusal");
    assertEq(await ctl.get("/faults"), [], "all used");
  });

  await test("HTTP and WebSocket faults never take each other's requests; kind filter; validation", async () => {
    await ctl.fault({ provider: "openai", mode: "ws_drop" });
    const http = await fetch(`${U.OPENAI_BASE_URL}/models`, { headers: { authorization: "Bearer k" } });
    assertEq([http.status, (await ctl.get("/faults")).length], [200, 1], "HTTP request untouched, ws fault pending");
    const c = await connect(`${OA}/realtime?model=gpt-realtime`, { headers: { authorization: "Bearer k" } });
    assertEq((await c.closed()).code, 1006, "the session takes it");
    await ctl.fault({ provider: "deepgram", mode: "error", status: 503 });
    const s = await connect(`${DG}/v1/speak`, dg);
    await s.json("Metadata");
    s.ws.close();
    const h = await fetch(`${U.DEEPGRAM_BASE_URL}/v1/projects`, { headers: dg.headers });
    assertEq(h.status, 503, "the HTTP fault waited for an HTTP request");
    const kinds = new Set((await ctl.get("/requests?kind=http")).map((r) => r.kind));
    assertEq([...kinds], ["http"], "kind=http");
    const bad = await fetch(`${mock.origin}/__control/fault`, {
      method: "POST",
      body: JSON.stringify({ mode: "ws_drop", afterFrames: -1 }),
    });
    assertEq(bad.status, 400, "negative afterFrames rejected");
    const nf = await refused(`${OA}/no-such-socket`, { headers: { authorization: "Bearer k" } });
    assertEq([nf.status, typeof JSON.parse(nf.body).error.message], [404, "string"], "unknown path: provider 404");
    assertEq((await refused(`${OA.replace("/openai/v1", "")}/nowhere`)).status, 404, "unknown prefix");
  });
}
