// Self-test cases: the three live-transcription protocols (Deepgram, ElevenLabs, Cartesia).

import { assert, assertEq, connect, refused } from "./lib.mjs";

const b64 = (n, fill = 1) => Buffer.alloc(n, fill).toString("base64");
const texts = (list) => list.map((r) => r.channel.alternatives[0].transcript);

export default async function listenCases({ test, ws, ctl }) {
  const DG = ws("DEEPGRAM_BASE_URL");
  const EL = ws("ELEVENLABS_BASE_URL");
  const CA = ws("CARTESIA_BASE_URL");

  await test("deepgram listen: linear16/16k, interim + final schedule, Finalize, CloseStream → Metadata", async () => {
    const c = await connect(`${DG}/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000&interim_results=true`, {
      headers: { authorization: "Token dg-key-1" },
    });
    for (let i = 0; i < 3; i++) c.send(Buffer.alloc(16000, i)); // 0.5 s each at 32000 B/s
    c.send(Buffer.alloc(8000)); // 1.75 s in all
    const [r1, r2, r3] = [await c.json("Results"), await c.json("Results"), await c.json("Results")];
    assertEq(texts([r1, r2, r3]), ["word1", "word1 word2", "word3"], "transcripts");
    assertEq(
      [r1.is_final, r2.is_final, r3.is_final, r2.speech_final, r2.start, r2.duration, r3.start, r3.duration],
      [false, true, false, true, 0, 1, 1, 0.5],
      "flags and timing",
    );
    assertEq(
      r2.channel.alternatives[0].words.map((w) => [w.word, w.start, w.end]),
      [
        ["word1", 0, 0.5],
        ["word2", 0.5, 1],
      ],
      "words",
    );
    c.send({ type: "KeepAlive" });
    c.send({ type: "Finalize" });
    const r4 = await c.json("Results");
    assertEq(
      [r4.is_final, r4.from_finalize, r4.start, r4.duration, r4.channel.alternatives[0].transcript],
      [true, true, 1, 0.75, "word3 word4"],
      "finalize",
    );
    c.send({ type: "CloseStream" });
    const meta = await c.json("Metadata");
    assertEq([meta.duration, meta.channels, typeof meta.request_id], [1.75, 1, "string"], "Metadata");
    assertEq((await c.closed()).code, 1000, "close code");
    assertEq(c.frames.length, 5, "nothing else sent");
    const rec = await ctl.session("deepgram", "/v1/listen");
    assertEq(
      [
        rec.key,
        rec.keySource,
        rec.headers.authorization,
        rec.received.audioBytes,
        rec.received.binary,
        rec.received.text,
        rec.audioSeconds,
        rec.reported.duration,
        rec.closeCode,
        rec.closedBy,
        rec.protocolErrors,
      ],
      ["dg-key-1", "header", "Token dg-key-1", 56000, 4, 3, 1.75, 1.75, 1000, "server", []],
      "record",
    );
  });

  await test("deepgram listen: mulaw/8k without interim_results → finals only", async () => {
    const c = await connect(`${DG}/v1/listen?encoding=mulaw&sample_rate=8000`, { headers: { authorization: "Token dg-key-1" } });
    c.send(Buffer.alloc(12000)); // 1.5 s at 8000 B/s
    c.send({ type: "CloseStream" });
    await c.json("Metadata");
    const results = c.frames.filter((f) => f.json?.type === "Results").map((f) => f.json);
    assertEq(
      results.map((r) => [r.is_final, r.start, r.duration, r.channel.alternatives[0].transcript]),
      [
        [true, 0, 1, "word1 word2"],
        [true, 1, 0.5, "word3"],
      ],
      "finals",
    );
    assertEq(c.frames.at(-1).json.duration, 1.5, "Metadata duration");
  });

  await test("deepgram listen: browser subprotocols [token, key]; client close recorded", async () => {
    const c = await connect(`${DG}/v1/listen?encoding=linear16&sample_rate=16000`, { protocols: ["token", "dg-key-2"] });
    assertEq(c.ws.protocol, "token", "chosen subprotocol");
    c.ws.close(1000, "bye");
    await c.closed();
    const rec = await ctl.session("deepgram", "/v1/listen");
    assertEq(
      [rec.key, rec.keySource, rec.subprotocol, rec.closeCode, rec.closeReason, rec.closedBy, rec.reported],
      ["dg-key-2", "subprotocol", "token", 1000, "bye", "client", {}],
      "record",
    );
  });

  await test("deepgram listen: bad or missing key → 401 with dg-error; encoding without sample_rate → 400", async () => {
    const bad = await refused(`${DG}/v1/listen?encoding=linear16&sample_rate=16000`, { headers: { authorization: "Token invalid-key" } });
    assertEq(
      [bad.status, JSON.parse(bad.body).err_code, JSON.parse(bad.body).err_msg],
      [401, "INVALID_AUTH", "Invalid credentials."],
      "401 body",
    );
    assert(bad.headers["dg-error"].includes("INVALID_AUTH") && bad.headers["dg-request-id"], "dg-error / dg-request-id headers");
    assertEq((await refused(`${DG}/v1/listen`)).status, 401, "no key");
    assertEq((await refused(`${DG}/v1/listen?encoding=linear16`, { headers: { authorization: "Token k" } })).status, 400, "no sample_rate");
    const rec = await ctl.session("deepgram", "/v1/listen", (r) => r.status === 400);
    assertEq([rec.open, rec.closeCode], [false, null], "refused record");
  });

  await test("elevenlabs realtime stt: session_started, partial/committed schedule, commit, timestamps", async () => {
    const c = await connect(`${EL}/v1/speech-to-text/realtime?model_id=scribe_v2_realtime&audio_format=pcm_16000&include_timestamps=true`, {
      headers: { "xi-api-key": "el-key-1" },
    });
    const started = await c.json("session_started", "message_type");
    assertEq(
      [started.config.audio_format, started.config.sample_rate, started.config.model_id, typeof started.session_id],
      ["pcm_16000", 16000, "scribe_v2_realtime", "string"],
      "session_started",
    );
    for (let i = 0; i < 3; i++)
      c.send({ message_type: "input_audio_chunk", audio_base_64: b64(16000, i), commit: false, sample_rate: 16000 });
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await c.next((f) => f.json?.message_type !== "session_started"));
    assertEq(
      got.map((f) => [f.json.message_type, f.json.text]),
      [
        ["partial_transcript", "word1"],
        ["committed_transcript", "word1 word2"],
        ["committed_transcript_with_timestamps", "word1 word2"],
        ["partial_transcript", "word3"],
      ],
      "messages",
    );
    assertEq(
      got[2].json.words.map((w) => [w.text, w.start, w.end]),
      [
        ["word1", 0, 0.5],
        ["word2", 0.5, 1],
      ],
      "timestamps",
    );
    c.send({ message_type: "input_audio_chunk", audio_base_64: "", commit: true, sample_rate: 16000 });
    assertEq((await c.json("committed_transcript", "message_type")).text, "word3", "commit");
    c.ws.close(1000);
    await c.closed();
    const rec = await ctl.session("elevenlabs", "/speech-to-text/realtime");
    assertEq(
      [rec.key, rec.keySource, rec.received.audioBytes, rec.audioSeconds, rec.closedBy, rec.protocolErrors],
      ["el-key-1", "header", 48000, 1.5, "client", []],
      "record",
    );
  });

  await test("elevenlabs realtime stt: token query; bad key → auth_error then 1008", async () => {
    const c = await connect(`${EL}/v1/speech-to-text/realtime?model_id=scribe_v2_realtime&audio_format=ulaw_8000&token=el-token-1`);
    assertEq((await c.json("session_started", "message_type")).config.sample_rate, 8000, "ulaw_8000");
    c.ws.close();
    assertEq([(await ctl.session("elevenlabs", "/speech-to-text/realtime")).keySource], ["query"], "key source");
    const bad = await connect(`${EL}/v1/speech-to-text/realtime?model_id=scribe_v2_realtime`, { headers: { "xi-api-key": "invalid-el" } });
    assertEq((await bad.json("auth_error", "message_type")).error, "Invalid API key", "auth_error");
    assertEq((await bad.closed()).code, 1008, "close code");
  });

  await test("cartesia stt: transcript deltas, finalize → flush_done, close → done", async () => {
    const headers = { authorization: "Bearer ca-key-1", "cartesia-version": "2025-11-04" };
    const c = await connect(`${CA}/stt/websocket?model=ink-whisper&encoding=pcm_s16le&sample_rate=16000&language=en`, { headers });
    c.send(Buffer.alloc(40000)); // 1.25 s
    const [t1, t2] = [await c.json("transcript"), await c.json("transcript")];
    assertEq([t1.is_final, t1.text, t1.duration, t1.words], [false, "word1", 0.5, undefined], "interim");
    assertEq([t2.is_final, t2.text, t2.duration, t2.words.length, t2.language], [true, "word1 word2", 1, 2, "en"], "final");
    c.send("finalize");
    const t3 = await c.json("transcript");
    assertEq([t3.is_final, t3.text, t3.duration], [true, " word3", 0.25], "finalize (a delta keeps its space)");
    assertEq(typeof (await c.json("flush_done")).request_id, "string", "flush_done");
    c.send("close");
    await c.json("done");
    assertEq((await c.closed()).code, 1000, "closed");
    const rec = await ctl.session("cartesia", "/stt/websocket");
    assertEq(
      [rec.keySource, rec.received.audioBytes, rec.audioSeconds, rec.reported.duration, rec.closedBy],
      ["header", 40000, 1.25, 1.25, "server"],
      "record",
    );
  });

  await test("cartesia stt: query auth; missing parameter → error frame then 1008", async () => {
    const c = await connect(`${CA}/stt/websocket?encoding=pcm_s16le&sample_rate=16000&api_key=ca-q&cartesia_version=2025-11-04`);
    const err = await c.json("error");
    assertEq([err.status_code, err.message, typeof err.title], [400, "model is required", "string"], "error frame");
    assertEq((await c.closed()).code, 1008, "close code");
    assertEq((await ctl.session("cartesia", "/stt/websocket")).keySource, "query", "key source");
  });
}
