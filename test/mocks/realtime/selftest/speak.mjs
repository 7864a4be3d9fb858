// Self-test cases: the streaming speech protocols (Deepgram, ElevenLabs single and multi context, Cartesia).

import { mockAudio } from "../../audio.mjs";
import { assert, assertEq, connect, joinBase64, joinBinary, refused } from "./lib.mjs";

const same = (buf, bytes, what) =>
  assert(Buffer.compare(buf, Buffer.from(bytes)) === 0, `${what}: audio differs (${buf.length} vs ${bytes.length} bytes)`);

export default async function speakCases({ test, ws, ctl }) {
  const DG = ws("DEEPGRAM_BASE_URL");
  const EL = ws("ELEVENLABS_BASE_URL");
  const CA = ws("CARTESIA_BASE_URL");

  await test("deepgram speak: Metadata, Speak/Flush → audio + Flushed, Clear → Cleared, Close", async () => {
    const c = await connect(`${DG}/v1/speak?model=aura-2-thalia-en&encoding=linear16&sample_rate=24000`, {
      headers: { authorization: "Token dg-speak" },
    });
    const meta = await c.json("Metadata");
    assertEq([meta.model_name, typeof meta.request_id], ["aura-2-thalia-en", "string"], "Metadata on connect");
    c.send({ type: "Speak", text: "Hello world" });
    c.send({ type: "Speak", text: " again" });
    c.send({ type: "Flush" });
    assertEq((await c.json("Flushed")).sequence_id, 0, "Flushed");
    const audio = c.frames.filter((f) => f.binary);
    assertEq(audio.length, 4, "audio frames");
    same(joinBinary(audio), mockAudio("Hello world again", "linear16"), "flush audio");
    c.send({ type: "Speak", text: "dropped" });
    c.send({ type: "Clear" });
    assertEq((await c.json("Cleared")).sequence_id, 1, "Cleared");
    c.send({ type: "Flush" });
    assertEq((await c.json("Flushed")).sequence_id, 2, "second Flushed");
    assertEq(c.frames.filter((f) => f.binary).length, 4, "cleared text is not spoken");
    c.send({ type: "Close" });
    assertEq((await c.closed()).code, 1000, "closed");
    const rec = await ctl.session("deepgram", "/v1/speak");
    assertEq(
      [rec.received.characters, rec.sent.binary, rec.sent.audioBytes, rec.closedBy],
      [24, 4, mockAudio("Hello world again", "linear16").length, "server"],
      "record",
    );
  });

  await test("elevenlabs stream-input: first {text:' '}, flush → ≥2 audio messages, {text:''} → isFinal + close", async () => {
    const c = await connect(`${EL}/v1/text-to-speech/voice123/stream-input?model_id=eleven_flash_v2_5&output_format=pcm_16000`, {
      headers: { "xi-api-key": "el-tts" },
    });
    c.send({ text: " ", voice_settings: { stability: 0.5, similarity_boost: 0.8 } });
    c.send({ text: "Hello " });
    c.send({ text: "world", flush: true });
    const first = [];
    for (let i = 0; i < 4; i++) first.push(await c.next((f) => typeof f.json?.audio === "string", "audio"));
    same(joinBase64(first.map((f) => f.json.audio)), mockAudio("Hello world", "pcm_16000"), "flush audio");
    assertEq(first.map((f) => f.json.normalizedAlignment.chars.join("")).join(""), "Hello world", "alignment chars");
    assertEq(
      [
        first[0].json.isFinal,
        first[0].json.normalizedAlignment.charStartTimesMs.length,
        first[0].json.normalizedAlignment.charDurationsMs[0],
      ],
      [null, 3, 50],
      "alignment shape",
    );
    c.send({ text: "Bye" });
    c.send({ text: "" });
    assertEq((await c.next((f) => f.json?.isFinal === true, "isFinal")).json, { isFinal: true }, "final message");
    assertEq((await c.closed()).code, 1000, "server closes");
    same(joinBase64(c.frames.slice(4, 8).map((f) => f.json.audio)), mockAudio("Bye", "pcm_16000"), "end audio");
    const rec = await ctl.session("elevenlabs", "/stream-input");
    assertEq([rec.key, rec.keySource, rec.received.characters, rec.protocolErrors], ["el-tts", "header", 14, []], "record");
  });

  await test("elevenlabs stream-input: key in the first message; bad or missing key → 1008", async () => {
    const c = await connect(`${EL}/v1/text-to-speech/v/stream-input?model_id=m`);
    c.send({ text: " ", xi_api_key: "el-first-msg" });
    c.send({ text: "Hi", flush: true });
    await c.next((f) => typeof f.json?.audio === "string", "audio");
    c.ws.close();
    const rec = await ctl.session("elevenlabs", "/stream-input");
    assertEq([rec.key, rec.keySource, rec.headers["xi-api-key"]], ["el-first-msg", "message", undefined], "record");
    assertEq(rec.textFrames, ['{"text":" ","xi_api_key":"el-first-msg"}', '{"text":"Hi","flush":true}'], "text frames as received");
    const bad = await connect(`${EL}/v1/text-to-speech/v/stream-input`, { headers: { "xi-api-key": "invalid-x" } });
    assertEq(await bad.closed(), { code: 1008, reason: "Invalid API key" }, "bad header key");
    const none = await connect(`${EL}/v1/text-to-speech/v/stream-input`);
    none.send({ text: " " });
    assertEq((await none.closed()).code, 1008, "no key anywhere");
  });

  await test("elevenlabs multi-stream-input: contexts, flush, close_context, close_socket", async () => {
    const c = await connect(`${EL}/v1/text-to-speech/v/multi-stream-input?output_format=mp3_44100_128`, {
      headers: { "xi-api-key": "el-multi" },
    });
    c.send({ text: " ", context_id: "a" });
    c.send({ text: "Alpha ", context_id: "a" });
    c.send({ text: " ", context_id: "b" });
    c.send({ text: "Beta", context_id: "b", flush: true });
    c.send({ context_id: "a", close_context: true });
    const finalA = await c.next((f) => f.json?.isFinal === true, "isFinal a");
    assertEq(finalA.json, { isFinal: true, contextId: "a" }, "final for a");
    const audio = c.frames.filter((f) => f.json?.audio);
    assertEq(
      audio.map((f) => f.json.contextId),
      ["b", "b", "b", "b", "a", "a", "a", "a"],
      "contexts in order",
    );
    same(joinBase64(audio.slice(0, 4).map((f) => f.json.audio)), mockAudio("Beta", "mp3_44100_128"), "b audio");
    same(joinBase64(audio.slice(4).map((f) => f.json.audio)), mockAudio("Alpha ", "mp3_44100_128"), "a audio");
    c.send({ close_socket: true });
    assertEq((await c.closed()).code, 1000, "close_socket");
    assertEq((await ctl.session("elevenlabs", "/multi-stream-input")).received.characters, 10, "characters");
  });

  await test("cartesia tts: continue/flush → chunks + flush_done, end → done, cancel, missing field → error", async () => {
    const c = await connect(`${CA}/tts/websocket`, { headers: { authorization: "Bearer ca-tts", "cartesia-version": "2025-11-04" } });
    const base = {
      model_id: "sonic-2",
      voice: { mode: "id", id: "v1" },
      output_format: { container: "raw", encoding: "pcm_s16le", sample_rate: 16000 },
      context_id: "c1",
    };
    c.send({ ...base, transcript: "Hello ", continue: true });
    c.send({ ...base, transcript: "world", continue: true, flush: true });
    const fd = await c.json("flush_done");
    assertEq([fd.context_id, fd.flush_id, fd.flush_done], ["c1", 1, true], "flush_done");
    const chunks = c.frames.filter((f) => f.json?.type === "chunk").map((f) => f.json);
    assertEq([chunks.length, chunks[0].flush_id, chunks[0].status_code, chunks[0].context_id], [4, 1, 206, "c1"], "chunks");
    same(joinBase64(chunks.map((x) => x.data)), mockAudio("Hello world", "raw"), "flush audio");
    c.send({ ...base, transcript: "", continue: false });
    assertEq(await c.json("done"), { type: "done", context_id: "c1", done: true, status_code: 200 }, "done");
    c.send({ ...base, context_id: "c3", transcript: "never", continue: true });
    c.send({ context_id: "c3", cancel: true });
    c.send({ ...base, context_id: "c2", transcript: "Second" });
    const done2 = await c.json("done");
    const after = c.frames.slice(c.frames.findIndex((f) => f.json === fd) + 1).filter((f) => f.json?.type === "chunk");
    assertEq([done2.context_id, [...new Set(after.map((f) => f.json.context_id))]], ["c2", ["c2"]], "cancelled c3 never speaks");
    const { voice, ...noVoice } = base;
    c.send({ ...noVoice, transcript: "x" });
    const err = await c.json("error");
    assertEq([err.status_code, err.message, err.context_id], [400, "voice is required", "c1"], "missing voice");
    c.ws.close();
    const rec = await ctl.session("cartesia", "/tts/websocket");
    assertEq(
      [rec.key, rec.received.characters, rec.sent.audioBytes],
      ["ca-tts", 6 + 5 + 5 + 6, mockAudio("Hello world", "raw").length + mockAudio("Second", "raw").length],
      "record",
    );
  });

  await test("cartesia tts: query auth; bad key → 401 (text or JSON by version); no version → 400", async () => {
    const c = await connect(`${CA}/tts/websocket?api_key=ca-query&cartesia_version=2025-11-04`);
    c.ws.close();
    assertEq((await ctl.session("cartesia", "/tts/websocket")).keySource, "query", "key source");
    const old = await refused(`${CA}/tts/websocket?api_key=invalid-1&cartesia_version=2025-11-04`);
    assert(old.status === 401 && !old.body.startsWith("{"), `old versions answer plain text: ${old.status} ${old.body}`);
    const fresh = await refused(`${CA}/tts/websocket`, { headers: { "x-api-key": "invalid-2", "cartesia-version": "2026-03-01" } });
    assertEq([fresh.status, JSON.parse(fresh.body).error_code], [401, "unauthorized"], "JSON error");
    assertEq((await refused(`${CA}/tts/websocket`, { headers: { "x-api-key": "k" } })).status, 400, "no version");
  });
}
