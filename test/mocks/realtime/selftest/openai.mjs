// Self-test cases: OpenAI Realtime, over a raw socket and through the official SDK's OpenAIRealtimeWS.

import OpenAI from "openai";
import { OpenAIRealtimeWS } from "openai/realtime/ws";
import { mockAudio } from "../../audio.mjs";
import { assert, assertEq, connect, joinBase64, loopbackConnection } from "./lib.mjs";

const ceil = Math.ceil;

export default async function openaiCases({ test, ws, ctl, U }) {
  const OA = ws("OPENAI_BASE_URL");

  await test("openai realtime: audio turn then text turn; usage per the documented formula", async () => {
    const c = await connect(`${OA}/realtime?model=gpt-realtime`, { headers: { authorization: "Bearer sk-raw" } });
    const created = await c.json("session.created");
    assertEq(
      [created.session.type, created.session.model, created.session.audio.output.format],
      ["realtime", "gpt-realtime", { type: "audio/pcm", rate: 24000 }],
      "session.created",
    );
    c.send({ type: "session.update", session: { type: "realtime", instructions: "Be brief" } });
    assertEq((await c.json("session.updated")).session.instructions, "Be brief", "session.updated");
    const chunk = Buffer.alloc(4800, 7).toString("base64"); // 100 ms at 24 kHz pcm16
    c.send({ type: "input_audio_buffer.append", audio: chunk });
    c.send({ type: "input_audio_buffer.append", audio: chunk });
    c.send({ type: "input_audio_buffer.commit" });
    const committed = await c.json("input_audio_buffer.committed");
    assertEq((await c.json("conversation.item.added")).item.content[0].type, "input_audio", "user audio item");
    assert(committed.item_id, "committed item id");
    c.send({ type: "response.create" });
    assertEq((await c.json("response.created")).response.status, "in_progress", "response.created");
    const done = await c.json("response.done");
    const since = c.frames.slice(c.frames.findIndex((f) => f.json?.type === "response.created"));
    const deltas = since.filter((f) => f.json?.type === "response.output_audio.delta").map((f) => f.json.delta);
    const words = since.filter((f) => f.json?.type === "response.output_audio_transcript.delta").map((f) => f.json.delta);
    const reply = "Echo: mock transcript of 9600 bytes";
    const audio = mockAudio(reply, "audio/pcm");
    assert(deltas.length >= 2, "≥ 2 audio deltas");
    assert(Buffer.compare(joinBase64(deltas), Buffer.from(audio)) === 0, "audio = mockAudio(reply)");
    assertEq(words.join(""), reply, "transcript deltas");
    // instructions 2 words; 9600 input bytes = 200 ms → 2 audio tokens; reply 6 words; output audio 20 tokens/s
    const u1 = done.response.usage;
    assertEq(
      [
        u1.input_token_details.text_tokens,
        u1.input_token_details.audio_tokens,
        u1.output_token_details.text_tokens,
        u1.output_token_details.audio_tokens,
      ],
      [2, 2, 6, ceil(audio.length / 2400)],
      "usage 1 details",
    );
    assertEq(
      [u1.input_tokens, u1.output_tokens, u1.total_tokens],
      [4, 6 + ceil(audio.length / 2400), 10 + ceil(audio.length / 2400)],
      "usage 1 totals",
    );
    assertEq([done.response.status, done.response.output[0].content[0].transcript], ["completed", reply], "response.done");

    c.send({
      type: "conversation.item.create",
      item: { type: "message", role: "user", content: [{ type: "input_text", text: "hello there" }] },
    });
    await c.json("conversation.item.done");
    c.send({ type: "response.create", response: { output_modalities: ["text"] } });
    const done2 = await c.json("response.done");
    const text2 = c.frames
      .filter((f) => f.json?.type === "response.output_text.delta")
      .map((f) => f.json.delta)
      .join("");
    assertEq(text2, "Echo: hello there", "text reply");
    // input text: 2 (instructions) + 6 (previous reply) + 2 ("hello there"); audio stays 2
    assertEq(
      done2.response.usage,
      {
        total_tokens: 15,
        input_tokens: 12,
        output_tokens: 3,
        input_token_details: {
          text_tokens: 10,
          audio_tokens: 2,
          image_tokens: 0,
          cached_tokens: 0,
          cached_tokens_details: { text_tokens: 0, audio_tokens: 0, image_tokens: 0 },
        },
        output_token_details: { text_tokens: 3, audio_tokens: 0 },
      },
      "usage 2",
    );
    c.ws.close(1000);
    const rec = await ctl.session("openai", "/v1/realtime");
    assertEq(
      [
        rec.key,
        rec.received.audioBytes,
        rec.received.characters,
        rec.reported.responses.length,
        rec.reported.usage.total_tokens,
        rec.protocolErrors,
      ],
      ["sk-raw", 9600, 11, 2, u1.total_tokens + 15, []],
      "record",
    );
  });

  await test("openai realtime: protocol errors are error events (session.type, empty commit, unknown event)", async () => {
    const c = await connect(`${OA}/realtime?model=gpt-realtime`, { headers: { authorization: "Bearer sk-raw" } });
    await c.json("session.created");
    c.send({ type: "session.update", session: { instructions: "x" } });
    assertEq((await c.json("error")).error.param, "session.type", "GA needs session.type");
    c.send({ type: "input_audio_buffer.append", audio: Buffer.alloc(100).toString("base64") });
    c.send({ type: "input_audio_buffer.commit", event_id: "evt_client_1" });
    const empty = (await c.json("error")).error;
    assertEq([empty.code, empty.event_id], ["input_audio_buffer_commit_empty", "evt_client_1"], "commit < 100 ms");
    c.send({ type: "response.make_coffee" });
    assertEq((await c.json("error")).error.code, "invalid_value", "unknown event");
    c.ws.close();
    const rec = await ctl.session("openai", "/v1/realtime");
    assertEq(rec.protocolErrors, ['unsupported client event "response.make_coffee"'], "protocolErrors");
  });

  await test("openai realtime: bad key → error event + close 3000; browser subprotocol key", async () => {
    const bad = await connect(`${OA}/realtime?model=gpt-realtime`, { headers: { authorization: "Bearer invalid-sk" } });
    const e = await bad.json("error");
    assertEq([e.error.type, e.error.code], ["invalid_request_error", "invalid_api_key"], "error event");
    assertEq(await bad.closed(), { code: 3000, reason: "invalid_request_error.invalid_api_key" }, "close");
    const browser = await connect(`${OA}/realtime?model=gpt-realtime`, { protocols: ["realtime", "openai-insecure-api-key.sk-browser"] });
    assertEq(browser.ws.protocol, "realtime", "chosen subprotocol");
    await browser.json("session.created");
    browser.ws.close();
    const rec = await ctl.session("openai", "/v1/realtime");
    assertEq([rec.key, rec.keySource], ["sk-browser", "subprotocol"], "record");
  });

  await test("openai realtime: the official SDK client (OpenAIRealtimeWS) against the mock", async () => {
    const client = new OpenAI({ apiKey: "sk-sdk-test", baseURL: U.OPENAI_BASE_URL });
    // The SDK forces wss:; the mock is plain HTTP on loopback, so hand ws a plain TCP connection.
    const rt = new OpenAIRealtimeWS({ model: "gpt-realtime", options: { createConnection: loopbackConnection } }, client);
    const events = [];
    const audio = [];
    const finished = new Promise((resolve, reject) => {
      rt.on("event", (e) => events.push(e.type));
      rt.on("error", (err) => reject(err));
      rt.on("response.output_audio.delta", (e) => audio.push(e.delta));
      rt.on("response.done", (e) => resolve(e));
    });
    rt.socket.on("open", () => {
      rt.send({ type: "session.update", session: { type: "realtime", output_modalities: ["audio"] } });
      rt.send({
        type: "conversation.item.create",
        item: { type: "message", role: "user", content: [{ type: "input_text", text: "Say hi" }] },
      });
      rt.send({ type: "response.create" });
    });
    const done = await finished;
    rt.close();
    const reply = "Echo: Say hi";
    assertEq(events.slice(0, 2), ["session.created", "session.updated"], "first events");
    assert(audio.length >= 2 && Buffer.compare(joinBase64(audio), Buffer.from(mockAudio(reply, "audio/pcm"))) === 0, "audio deltas");
    assertEq([done.response.usage.input_tokens, done.response.usage.output_token_details.text_tokens], [2, 3], "usage via SDK");
    const rec = await ctl.session("openai", "/v1/realtime");
    assertEq(
      [rec.path, rec.query, rec.headers.authorization, rec.subprotocols, rec.closeCode],
      ["/v1/realtime", { model: "gpt-realtime" }, "Bearer sk-sdk-test", [], 1000],
      "what the SDK sent",
    );

    const badRt = new OpenAIRealtimeWS(
      { model: "gpt-realtime", options: { createConnection: loopbackConnection } },
      new OpenAI({ apiKey: "invalid-sdk", baseURL: U.OPENAI_BASE_URL }),
    );
    const err = await new Promise((resolve) => badRt.on("error", resolve));
    assertEq([err.error?.code, err.error?.type], ["invalid_api_key", "invalid_request_error"], "SDK surfaces the bad key");
    badRt.close();
  });
}
