// Self-test of the mock providers: node test/mocks/selftest.mjs (exit code 1 on any failure).
//
// For every endpoint: a correct request (200, expected payload, no specErrors recorded) and the same
// request with a key starting "invalid" (401 in the provider's error shape). Then a missing auth
// header per provider, a few deliberate spec violations, every fault mode and the x-mock-slow-ms header.
// JSON 200 responses are also compared with the spec's response schema; mismatches there are
// printed as warnings only (the mock answers with a realistic subset of fields).

import {
  base64ToBytes,
  bytesEqual,
  bytesToBase64,
  concatBytes,
  mockAudio,
  mockChat,
  mockDurationSeconds,
  mockTranscriptFor,
  utf8Decode,
} from "./audio.mjs";
import { SpecChecker } from "./lib/spec-check.mjs";
import { startMockProviders } from "./providers.mjs";
import { mockTone } from "./tone.mjs";

const mock = await startMockProviders({ port: 0 });
const U = mock.baseUrls;
const checker = mock.specsDir ? new SpecChecker(mock.specsDir) : null;
if (!checker) console.warn("WARN: no specs directory found; spec checks are off");

let passed = 0;
const failures = [];
const warnings = [];

function assert(cond, message) {
  if (!cond) throw new Error(message);
}
function assertEq(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

async function test(name, fn) {
  try {
    await fn();
    passed += 1;
  } catch (err) {
    failures.push(`${name}: ${err.message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

const AUTH = {
  elevenlabs: (k) => ({ "xi-api-key": k }),
  openai: (k) => ({ authorization: `Bearer ${k}` }),
  groq: (k) => ({ authorization: `Bearer ${k}` }),
  anthropic: (k) => ({ "x-api-key": k, "anthropic-version": "2023-06-01" }),
  cartesia: (k) => ({ authorization: `Bearer ${k}`, "cartesia-version": "2025-11-04" }),
  deepgram: (k) => ({ authorization: `Token ${k}` }),
  fishaudio: (k) => ({ authorization: `Bearer ${k}` }),
  inworld: (k) => ({ authorization: `Basic ${k}` }),
  resembleai: (k) => ({ authorization: `Bearer ${k}` }),
  huggingface: (k) => ({ authorization: `Bearer ${k}` }),
};

/** Expected 401 bodies for a key starting with "invalid". */
const BAD_KEY_SHAPE = {
  elevenlabs: (t) => assertEq(JSON.parse(t), { detail: { status: "invalid_api_key", message: "Invalid API key" } }, "elevenlabs 401"),
  openai: (t) => {
    const e = JSON.parse(t).error;
    assertEq([e.type, e.code, e.param], ["invalid_request_error", "invalid_api_key", null], "openai 401");
    assert(typeof e.message === "string", "openai 401 message");
  },
  groq: (t) =>
    assertEq(
      JSON.parse(t),
      { error: { message: "Invalid API Key", type: "invalid_request_error", param: null, code: "invalid_api_key" } },
      "groq 401",
    ),
  anthropic: (t) => {
    const b = JSON.parse(t);
    assertEq([b.type, b.error.type], ["error", "authentication_error"], "anthropic 401");
    assert(typeof b.request_id === "string", "anthropic request_id");
  },
  cartesia: (t) => assert(t.length > 0 && !t.trim().startsWith("{"), `cartesia 401 (version 2025-11-04) should be plain text, got ${t}`),
  deepgram: (t) => {
    const b = JSON.parse(t);
    assertEq([b.err_code, b.err_msg], ["INVALID_AUTH", "Invalid credentials."], "deepgram 401");
    assert(typeof b.request_id === "string", "deepgram request_id");
  },
  fishaudio: (t) => assert(t.length > 0 && !t.trim().startsWith("{"), `fish 401 should be plain text, got ${t}`),
  inworld: (t) => {
    const b = JSON.parse(t);
    assertEq([b.code, Array.isArray(b.details)], [16, true], "inworld 401");
  },
  resembleai: (t) => assertEq(JSON.parse(t).success, false, "resemble 401"),
  huggingface: (t) => assertEq(JSON.parse(t), { error: "Invalid credentials in Authorization header" }, "huggingface 401"),
};

async function lastRecord(provider) {
  const list = await (await fetch(`${mock.origin}/__control/requests?provider=${provider}`)).json();
  return list[list.length - 1];
}

function parseSse(text) {
  return text
    .split("\n\n")
    .filter((b) => b.trim())
    .map((block) => {
      const ev = { event: null, data: "" };
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) ev.event = line.slice(6).trim();
        else if (line.startsWith("data:")) ev.data += line.slice(5).trim();
      }
      return ev;
    });
}
const parseNdjson = (text) =>
  text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
const decodeAll = (b64s) => concatBytes(b64s.map(base64ToBytes));

function wav(size) {
  return new Uint8Array(size).map((_, i) => (i * 7) & 255);
}
function form(fields, files = {}) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) for (const x of [].concat(v)) fd.append(k, x);
  for (const [k, [bytes, name, type]] of Object.entries(files)) fd.append(k, new Blob([bytes], { type }), name);
  return fd;
}
const jsonBody = (obj) => ({ body: JSON.stringify(obj), headers: { "content-type": "application/json" } });

/**
 * One endpoint: a correct request checked by `check`, then the same with an invalid key → 401.
 * `req` returns {method, url, headers, body} (called twice so bodies are fresh).
 */
async function endpoint(name, provider, req, check, { specPath } = {}) {
  await test(`${name} [ok]`, async () => {
    const r = req();
    const res = await fetch(r.url, { method: r.method ?? "POST", headers: { ...AUTH[provider]("test-key"), ...r.headers }, body: r.body });
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert(res.status === 200, `status ${res.status}: ${utf8Decode(bytes).slice(0, 300)}`);
    await check(res, bytes);
    const rec = await lastRecord(provider);
    assertEq(rec.specErrors, [], "specErrors");
    let parsed;
    try {
      parsed = JSON.parse(utf8Decode(bytes));
    } catch {
      parsed = undefined; // not a single JSON document (raw audio, SSE, NDJSON)
    }
    if (checker && parsed !== undefined) {
      const errs = checker.checkResponse(provider, rec.method, specPath ?? rec.path, 200, parsed);
      if (errs.length) warnings.push(`${name}: response differs from the spec schema: ${errs.slice(0, 3).join("; ")}`);
    }
  });
  await test(`${name} [bad key]`, async () => {
    const r = req();
    const res = await fetch(r.url, {
      method: r.method ?? "POST",
      headers: { ...AUTH[provider]("invalid-key-123"), ...r.headers },
      body: r.body,
    });
    const text = await res.text();
    assert(res.status === 401, `status ${res.status}: ${text.slice(0, 200)}`);
    BAD_KEY_SHAPE[provider](text);
  });
}

const expectAudio = (bytes, text, format) =>
  assert(
    bytesEqual(bytes, mockAudio(text, format)),
    `audio differs from mockAudio(${JSON.stringify(text)}, ${format}) (got ${bytes.length} bytes)`,
  );
/** PCM-family answers are a real tone (tone.mjs) in the encoding, container and rate asked for. */
const expectTone = (bytes, text, opts) =>
  assert(
    bytesEqual(bytes, mockTone(text, opts)),
    `audio differs from mockTone(${JSON.stringify(text)}, ${JSON.stringify(opts)}) (got ${bytes.length} bytes)`,
  );
const bodyJson = (bytes) => JSON.parse(utf8Decode(bytes));

// ---------------------------------------------------------------------------------------------
// ElevenLabs

const TEXT = "Hello from the mock";
await endpoint(
  "elevenlabs tts",
  "elevenlabs",
  () => ({
    url: `${U.ELEVENLABS_BASE_URL}/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM?output_format=mp3_44100_128`,
    ...jsonBody({ text: TEXT, model_id: "eleven_multilingual_v2" }),
  }),
  (res, b) => {
    expectAudio(b, TEXT, "mp3_44100_128");
    assertEq([res.headers.get("content-type"), res.headers.get("character-cost")], ["audio/mpeg", String(TEXT.length)], "headers");
  },
);
await endpoint(
  "elevenlabs tts stream",
  "elevenlabs",
  () => ({
    url: `${U.ELEVENLABS_BASE_URL}/v1/text-to-speech/abc/stream?output_format=pcm_16000&optimize_streaming_latency=2`,
    ...jsonBody({ text: TEXT, voice_settings: { stability: 0.5, similarity_boost: 0.75 } }),
  }),
  (res, b) => {
    expectTone(b, TEXT, { sampleRate: 16000 });
    assertEq(res.headers.get("transfer-encoding"), "chunked", "transfer-encoding");
  },
);
await endpoint(
  "elevenlabs tts stream/with-timestamps",
  "elevenlabs",
  () => ({
    url: `${U.ELEVENLABS_BASE_URL}/v1/text-to-speech/abc/stream/with-timestamps?output_format=ulaw_8000`,
    ...jsonBody({ text: TEXT }),
  }),
  (res, b) => {
    const lines = parseNdjson(utf8Decode(b));
    assert(lines.length >= 2, "≥ 2 NDJSON lines");
    expectTone(decodeAll(lines.map((l) => l.audio_base64)), TEXT, { sampleRate: 8000, encoding: "mulaw" });
    assertEq(lines.map((l) => l.alignment.characters.join("")).join(""), TEXT, "alignment characters");
  },
);
await endpoint(
  "elevenlabs stt",
  "elevenlabs",
  () => ({
    url: `${U.ELEVENLABS_BASE_URL}/v1/speech-to-text`,
    body: form({ model_id: "scribe_v1", diarize: "false" }, { file: [wav(5000), "a.wav", "audio/wav"] }),
  }),
  (res, b) => {
    const j = bodyJson(b);
    assertEq([j.text, j.audio_duration_secs], [mockTranscriptFor(5000), 5], "stt");
    assert(
      j.words.some((w) => w.type === "word"),
      "words",
    );
  },
);
await endpoint(
  "elevenlabs user",
  "elevenlabs",
  () => ({ method: "GET", url: `${U.ELEVENLABS_BASE_URL}/v1/user` }),
  (res, b) => assert(bodyJson(b).subscription, "subscription"),
);
await endpoint(
  "elevenlabs voices",
  "elevenlabs",
  () => ({ method: "GET", url: `${U.ELEVENLABS_BASE_URL}/v1/voices` }),
  (res, b) => assert(bodyJson(b).voices.length > 0, "voices"),
);
await test("elevenlabs noperm key → 401 missing_permissions on /v1/user", async () => {
  const res = await fetch(`${U.ELEVENLABS_BASE_URL}/v1/user`, { headers: { "xi-api-key": "noperm-123" } });
  assertEq([res.status, (await res.json()).detail.status], [401, "missing_permissions"], "noperm");
});

// ---------------------------------------------------------------------------------------------
// OpenAI

await endpoint(
  "openai speech",
  "openai",
  () => ({ url: `${U.OPENAI_BASE_URL}/audio/speech`, ...jsonBody({ model: "tts-1", input: TEXT, voice: "alloy" }) }),
  (res, b) => {
    expectAudio(b, TEXT, "mp3");
    assertEq(res.headers.get("content-type"), "audio/mpeg", "content-type");
  },
);
await endpoint(
  "openai speech sse",
  "openai",
  () => ({
    url: `${U.OPENAI_BASE_URL}/audio/speech`,
    ...jsonBody({ model: "gpt-4o-mini-tts", input: TEXT, voice: "coral", response_format: "pcm", stream_format: "sse" }),
  }),
  (res, b) => {
    const events = parseSse(utf8Decode(b)).map((e) => JSON.parse(e.data));
    const deltas = events.filter((e) => e.type === "speech.audio.delta");
    assert(deltas.length >= 2, "≥ 2 deltas");
    expectTone(decodeAll(deltas.map((e) => e.audio)), TEXT, { sampleRate: 24000 });
    const done = events[events.length - 1];
    assertEq([done.type, done.usage.input_tokens], ["speech.audio.done", 4], "done event");
  },
);
await endpoint(
  "openai transcription json",
  "openai",
  () => ({
    url: `${U.OPENAI_BASE_URL}/audio/transcriptions`,
    body: form({ model: "whisper-1", language: "en" }, { file: [wav(5000), "a.wav", "audio/wav"] }),
  }),
  (res, b) => assertEq(bodyJson(b), { text: mockTranscriptFor(5000), usage: { type: "duration", seconds: 5 } }, "json"),
);
await endpoint(
  "openai transcription verbose_json",
  "openai",
  () => ({
    url: `${U.OPENAI_BASE_URL}/audio/transcriptions`,
    body: form(
      { model: "whisper-1", response_format: "verbose_json", "timestamp_granularities[]": ["word", "segment"] },
      { file: [wav(3000), "a.mp3", "audio/mpeg"] },
    ),
  }),
  (res, b) => {
    const j = bodyJson(b);
    assertEq([j.text, j.duration, j.words.length > 0, j.segments.length], [mockTranscriptFor(3000), 3, true, 1], "verbose_json");
  },
);
await endpoint(
  "openai transcription text",
  "openai",
  () => ({
    url: `${U.OPENAI_BASE_URL}/audio/transcriptions`,
    body: form({ model: "whisper-1", response_format: "text" }, { file: [wav(1234), "a.wav", "audio/wav"] }),
  }),
  (res, b) => assertEq(utf8Decode(b), mockTranscriptFor(1234), "text"),
);
const MSGS = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "Say hello to the gateway" },
];
const expectedChat = mockChat(MSGS);
await endpoint(
  "openai chat",
  "openai",
  () => ({ url: `${U.OPENAI_BASE_URL}/chat/completions`, ...jsonBody({ model: "gpt-4o-mini", messages: MSGS, max_tokens: 50 }) }),
  (res, b) => {
    const j = bodyJson(b);
    assertEq([j.object, j.choices[0].message.content], ["chat.completion", expectedChat.reply], "chat");
    assertEq(
      j.usage,
      {
        prompt_tokens: expectedChat.promptTokens,
        completion_tokens: expectedChat.completionTokens,
        total_tokens: expectedChat.totalTokens,
      },
      "usage",
    );
  },
);
function chatStream(b) {
  const events = parseSse(utf8Decode(b));
  assertEq(events[events.length - 1].data, "[DONE]", "ends with [DONE]");
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
  assert(
    chunks.every((c) => c.object === "chat.completion.chunk"),
    "chunk object",
  );
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
  assertEq(text, expectedChat.reply, "streamed text");
  return chunks;
}
await endpoint(
  "openai chat stream + include_usage",
  "openai",
  () => ({
    url: `${U.OPENAI_BASE_URL}/chat/completions`,
    ...jsonBody({ model: "gpt-4o-mini", messages: MSGS, stream: true, stream_options: { include_usage: true } }),
  }),
  (res, b) => {
    const chunks = chatStream(b);
    const last = chunks[chunks.length - 1];
    assertEq([last.choices, last.usage.total_tokens], [[], expectedChat.totalTokens], "usage chunk");
  },
);
await endpoint(
  "openai chat stream without usage",
  "openai",
  () => ({ url: `${U.OPENAI_BASE_URL}/chat/completions`, ...jsonBody({ model: "gpt-4o-mini", messages: MSGS, stream: true }) }),
  (res, b) => {
    const chunks = chatStream(b);
    assert(
      chunks.every((c) => !c.usage),
      "no usage without include_usage",
    );
  },
);
await endpoint(
  "openai models",
  "openai",
  () => ({ method: "GET", url: `${U.OPENAI_BASE_URL}/models` }),
  (res, b) => assertEq(bodyJson(b).object, "list", "models"),
);

// ---------------------------------------------------------------------------------------------
// Anthropic

const AMSGS = [{ role: "user", content: [{ type: "text", text: "Hi Claude, how are you" }] }];
const expectedA = mockChat(AMSGS, "Be brief.");
await endpoint(
  "anthropic messages",
  "anthropic",
  () => ({
    url: `${U.ANTHROPIC_BASE_URL}/v1/messages`,
    ...jsonBody({ model: "claude-sonnet-4-5", max_tokens: 256, system: "Be brief.", messages: AMSGS }),
  }),
  (res, b) => {
    const j = bodyJson(b);
    assertEq(
      [j.type, j.content[0].text, j.usage.input_tokens, j.usage.output_tokens],
      ["message", expectedA.reply, expectedA.promptTokens, expectedA.completionTokens],
      "message",
    );
  },
);
await endpoint(
  "anthropic messages stream",
  "anthropic",
  () => ({
    url: `${U.ANTHROPIC_BASE_URL}/v1/messages`,
    ...jsonBody({ model: "claude-sonnet-4-5", max_tokens: 256, system: "Be brief.", messages: AMSGS, stream: true }),
  }),
  (res, b) => {
    const events = parseSse(utf8Decode(b));
    const names = events.map((e) => e.event);
    for (const n of [
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ])
      assert(names.includes(n), `event ${n}`);
    const data = events.map((e) => JSON.parse(e.data));
    assertEq(
      data
        .filter((d) => d.type === "content_block_delta")
        .map((d) => d.delta.text)
        .join(""),
      expectedA.reply,
      "text",
    );
    const deltas = data.filter((d) => d.type === "message_delta");
    assert(deltas.length >= 2, "intermediate message_delta");
    assertEq(
      [data[0].message.usage.input_tokens, deltas[deltas.length - 1].usage.output_tokens],
      [expectedA.promptTokens, expectedA.completionTokens],
      "usage",
    );
  },
);
await endpoint(
  "anthropic models",
  "anthropic",
  () => ({ method: "GET", url: `${U.ANTHROPIC_BASE_URL}/v1/models` }),
  (res, b) => assert(bodyJson(b).data.length > 0, "models"),
);
await test("anthropic without max_tokens → 400 invalid_request_error", async () => {
  const res = await fetch(`${U.ANTHROPIC_BASE_URL}/v1/messages`, {
    method: "POST",
    headers: { ...AUTH.anthropic("k"), "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-sonnet-4-5", messages: AMSGS }),
  });
  assertEq([res.status, (await res.json()).error.type], [400, "invalid_request_error"], "400");
  assert(
    (await lastRecord("anthropic")).specErrors.some((e) => e.includes("max_tokens")),
    "specErrors mention max_tokens",
  );
});

// ---------------------------------------------------------------------------------------------
// Cartesia

const cartesiaTts = (container) => ({
  model_id: "sonic-3",
  transcript: TEXT,
  voice: { mode: "id", id: "a0e99841-438c-4a64-b679-ae501e7d6091" },
  output_format:
    container === "mp3" ? { container, sample_rate: 44100, bit_rate: 128000 } : { container, encoding: "pcm_s16le", sample_rate: 16000 },
  language: "en",
});
await endpoint(
  "cartesia tts bytes",
  "cartesia",
  () => ({ url: `${U.CARTESIA_BASE_URL}/tts/bytes`, ...jsonBody(cartesiaTts("mp3")) }),
  (res, b) => {
    expectAudio(b, TEXT, "mp3");
    assertEq(res.headers.get("content-type"), "audio/mpeg", "content-type");
  },
);
await endpoint(
  "cartesia tts sse",
  "cartesia",
  () => ({ url: `${U.CARTESIA_BASE_URL}/tts/sse`, ...jsonBody({ ...cartesiaTts("raw"), add_timestamps: true }) }),
  (res, b) => {
    const data = parseSse(utf8Decode(b)).map((e) => JSON.parse(e.data));
    const chunks = data.filter((d) => d.type === "chunk");
    assert(chunks.length >= 2, "≥ 2 chunk events");
    expectTone(decodeAll(chunks.map((c) => c.data)), TEXT, { sampleRate: 16000 });
    assert(
      data.some((d) => d.type === "timestamps"),
      "timestamps event",
    );
    assertEq(data[data.length - 1].type === "done" && data[data.length - 1].done, true, "done event");
  },
);
await test("cartesia tts sse with container wav → 400", async () => {
  const res = await fetch(`${U.CARTESIA_BASE_URL}/tts/sse`, {
    method: "POST",
    headers: { ...AUTH.cartesia("k"), "content-type": "application/json" },
    body: JSON.stringify(cartesiaTts("wav")),
  });
  assertEq(res.status, 400, "status");
});
await endpoint(
  "cartesia stt",
  "cartesia",
  () => ({
    url: `${U.CARTESIA_BASE_URL}/stt`,
    body: form({ model: "ink-whisper", language: "en", "timestamp_granularities[]": "word" }, { file: [wav(2500), "a.wav", "audio/wav"] }),
  }),
  (res, b) => {
    const j = bodyJson(b);
    assertEq([j.type, j.text, j.duration], ["transcript", mockTranscriptFor(2500), 2.5], "stt");
  },
);
await endpoint(
  "cartesia voices",
  "cartesia",
  () => ({ method: "GET", url: `${U.CARTESIA_BASE_URL}/voices?limit=10` }),
  (res, b) => assert(Array.isArray(bodyJson(b).data), "voices"),
);
await test("cartesia error JSON for Cartesia-Version ≥ 2026-03-01", async () => {
  const res = await fetch(`${U.CARTESIA_BASE_URL}/voices`, {
    headers: { authorization: "Bearer invalid-x", "cartesia-version": "2026-03-01" },
  });
  const j = await res.json();
  assertEq(
    [res.status, typeof j.error_code, typeof j.title, typeof j.message, typeof j.request_id],
    [401, "string", "string", "string", "string"],
    "json error",
  );
});

// ---------------------------------------------------------------------------------------------
// Deepgram

await endpoint(
  "deepgram listen raw",
  "deepgram",
  () => ({
    url: `${U.DEEPGRAM_BASE_URL}/v1/listen?model=nova-3&smart_format=true&language=en`,
    headers: { "content-type": "audio/wav" },
    body: wav(4000),
  }),
  (res, b) => {
    const j = bodyJson(b);
    assertEq([j.results.channels[0].alternatives[0].transcript, j.metadata.duration], [mockTranscriptFor(4000), 4], "listen");
  },
);
await endpoint(
  "deepgram listen url",
  "deepgram",
  () => ({ url: `${U.DEEPGRAM_BASE_URL}/v1/listen?model=nova-3`, ...jsonBody({ url: "https://example.com/a.wav" }) }),
  (res, b) => {
    const j = bodyJson(b);
    assertEq([j.results.channels[0].alternatives[0].transcript, j.metadata.duration], [mockTranscriptFor(5000), 5], "listen url");
  },
);
await endpoint(
  "deepgram speak",
  "deepgram",
  () => ({
    url: `${U.DEEPGRAM_BASE_URL}/v1/speak?model=aura-2-thalia-en&encoding=linear16&container=wav&sample_rate=24000`,
    ...jsonBody({ text: TEXT }),
  }),
  (res, b) => expectTone(b, TEXT, { sampleRate: 24000, container: "wav" }),
);
await endpoint(
  "deepgram projects",
  "deepgram",
  () => ({ method: "GET", url: `${U.DEEPGRAM_BASE_URL}/v1/projects` }),
  (res, b) => assert(bodyJson(b).projects.length > 0, "projects"),
);

// ---------------------------------------------------------------------------------------------
// Fish Audio

await endpoint(
  "fish tts",
  "fishaudio",
  () => ({
    url: `${U.FISHAUDIO_BASE_URL}/v1/tts`,
    headers: { "content-type": "application/json", model: "s1" },
    body: JSON.stringify({ text: TEXT, reference_id: "voice-1", format: "wav" }),
  }),
  (res, b) => expectTone(b, TEXT, { sampleRate: 44100, container: "wav" }),
);
await endpoint(
  "fish asr",
  "fishaudio",
  () => ({
    url: `${U.FISHAUDIO_BASE_URL}/v1/asr`,
    body: form({ language: "en", ignore_timestamps: "false" }, { audio: [wav(6000), "a.wav", "audio/wav"] }),
  }),
  (res, b) => {
    const j = bodyJson(b);
    assertEq([j.text, j.duration], [mockTranscriptFor(6000), 6], "asr");
  },
);
await endpoint(
  "fish credit",
  "fishaudio",
  () => ({ method: "GET", url: `${U.FISHAUDIO_BASE_URL}/wallet/self/api-credit` }),
  (res, b) => assertEq(bodyJson(b).credit, "10.00", "credit"),
);

// ---------------------------------------------------------------------------------------------
// Inworld

const inworldTts = {
  text: TEXT,
  voiceId: "Ashley",
  modelId: "inworld-tts-1.5-mini",
  audioConfig: { audioEncoding: "LINEAR16", sampleRateHertz: 24000 },
};
await endpoint(
  "inworld tts",
  "inworld",
  () => ({ url: `${U.INWORLD_BASE_URL}/tts/v1/voice`, ...jsonBody(inworldTts) }),
  (res, b) => {
    const j = bodyJson(b);
    expectTone(base64ToBytes(j.audioContent), TEXT, { sampleRate: 24000, container: "wav" });
    assertEq(j.usage, { processedCharactersCount: TEXT.length, modelId: "inworld-tts-1.5-mini" }, "usage");
  },
);
await endpoint(
  "inworld tts stream",
  "inworld",
  () => ({ url: `${U.INWORLD_BASE_URL}/tts/v1/voice:stream`, ...jsonBody(inworldTts) }),
  (res, b) => {
    const lines = parseNdjson(utf8Decode(b));
    assert(lines.length >= 2, "≥ 2 lines");
    expectTone(decodeAll(lines.map((l) => l.result.audioContent)), TEXT, { sampleRate: 24000, container: "wav" });
  },
  { specPath: "/not-in-spec" },
);
await endpoint(
  "inworld stt",
  "inworld",
  () => ({
    url: `${U.INWORLD_BASE_URL}/stt/v1/transcribe`,
    ...jsonBody({
      transcribeConfig: { modelId: "inworld/inworld-stt-1", audioEncoding: "AUTO_DETECT", language: "en-US" },
      audioData: { content: bytesToBase64(wav(7000)) },
    }),
  }),
  (res, b) =>
    assertEq(
      bodyJson(b),
      {
        transcription: { transcript: mockTranscriptFor(7000), isFinal: true, wordTimestamps: [] },
        usage: { transcribedAudioMs: 7000, modelId: "inworld/inworld-stt-1" },
      },
      "stt",
    ),
);
await endpoint(
  "inworld voices",
  "inworld",
  () => ({ method: "GET", url: `${U.INWORLD_BASE_URL}/voices/v1/voices` }),
  (res, b) => assert(bodyJson(b).voices.length > 0, "voices"),
);

// ---------------------------------------------------------------------------------------------
// Resemble AI

await endpoint(
  "resemble synthesize",
  "resembleai",
  () => ({
    url: `${U.RESEMBLEAI_BASE_URL}/synthesize`,
    ...jsonBody({ voice_uuid: "55592656", data: TEXT, output_format: "mp3", sample_rate: 22050 }),
  }),
  (res, b) => {
    const j = bodyJson(b);
    assertEq([j.success, j.output_format, j.sample_rate], [true, "mp3", 22050], "synthesize");
    expectAudio(base64ToBytes(j.audio_content), TEXT, "mp3");
    assertEq(j.duration, mockDurationSeconds(mockAudio(TEXT, "mp3").length), "duration");
  },
);
await endpoint(
  "resemble stream",
  "resembleai",
  () => ({
    url: `${U.RESEMBLEAI_BASE_URL}/stream`,
    ...jsonBody({ voice_uuid: "55592656", data: TEXT, precision: "PCM_16", sample_rate: "22050" }),
  }),
  (res, b) => {
    expectTone(b, TEXT, { sampleRate: 22050, container: "wav", streamed: true });
    assertEq(res.headers.get("content-type"), "audio/wav", "content-type");
  },
);
await endpoint(
  "resemble mgmt voices",
  "resembleai",
  () => ({ method: "GET", url: `${U.RESEMBLEAI_MANAGEMENT_BASE_URL}/api/v2/voices?page=1&page_size=10` }),
  (res, b) => assertEq(bodyJson(b).success, true, "voices"),
);
await test("resemble mgmt accepts Token token=", async () => {
  const res = await fetch(`${U.RESEMBLEAI_MANAGEMENT_BASE_URL}/api/v2/voices?page=1`, { headers: { authorization: "Token token=abc" } });
  assertEq(res.status, 200, "status");
  assertEq((await lastRecord("resembleai-mgmt")).specErrors, [], "specErrors");
});

// ---------------------------------------------------------------------------------------------
// Groq

await endpoint(
  "groq chat",
  "groq",
  () => ({ url: `${U.GROQ_BASE_URL}/chat/completions`, ...jsonBody({ model: "llama-3.1-8b-instant", messages: MSGS }) }),
  (res, b) => {
    const j = bodyJson(b);
    assertEq(
      [j.choices[0].message.content, j.usage.total_tokens, typeof j.x_groq.id],
      [expectedChat.reply, expectedChat.totalTokens, "string"],
      "chat",
    );
  },
);
await endpoint(
  "groq chat stream",
  "groq",
  () => ({ url: `${U.GROQ_BASE_URL}/chat/completions`, ...jsonBody({ model: "llama-3.1-8b-instant", messages: MSGS, stream: true }) }),
  (res, b) => {
    const chunks = chatStream(b);
    assert(
      chunks.every((c) => !c.usage),
      "no top-level usage",
    );
    const last = chunks[chunks.length - 1];
    assertEq([last.choices[0].finish_reason, last.x_groq.usage.completion_tokens], ["stop", expectedChat.completionTokens], "x_groq.usage");
  },
);
await endpoint(
  "groq transcription json",
  "groq",
  () => ({
    url: `${U.GROQ_BASE_URL}/audio/transcriptions`,
    body: form({ model: "whisper-large-v3-turbo" }, { file: [wav(8000), "a.wav", "audio/wav"] }),
  }),
  (res, b) => {
    const j = bodyJson(b);
    assertEq([j.text, typeof j.x_groq.id], [mockTranscriptFor(8000), "string"], "json");
  },
);
await endpoint(
  "groq transcription verbose_json",
  "groq",
  () => ({
    url: `${U.GROQ_BASE_URL}/audio/transcriptions`,
    body: form({ model: "whisper-large-v3", response_format: "verbose_json" }, { file: [wav(8000), "a.wav", "audio/wav"] }),
  }),
  (res, b) => assertEq(bodyJson(b).duration, 8, "duration"),
);
await endpoint(
  "groq models",
  "groq",
  () => ({ method: "GET", url: `${U.GROQ_BASE_URL}/models` }),
  (res, b) => assertEq(bodyJson(b).object, "list", "models"),
);

// ---------------------------------------------------------------------------------------------
// Hugging Face

await endpoint(
  "hf chat",
  "huggingface",
  () => ({
    url: `${U.HUGGINGFACE_BASE_URL}/v1/chat/completions`,
    ...jsonBody({ model: "meta-llama/Llama-3.1-8B-Instruct", messages: MSGS, max_tokens: 64 }),
  }),
  (res, b) => assertEq(bodyJson(b).choices[0].message.content, expectedChat.reply, "chat"),
);
await endpoint(
  "hf chat stream",
  "huggingface",
  () => ({
    url: `${U.HUGGINGFACE_BASE_URL}/v1/chat/completions`,
    ...jsonBody({ model: "meta-llama/Llama-3.1-8B-Instruct", messages: MSGS, stream: true }),
  }),
  (res, b) => {
    const chunks = chatStream(b);
    assertEq(chunks[chunks.length - 1].usage.prompt_tokens, expectedChat.promptTokens, "usage chunk");
  },
);
await endpoint(
  "hf inference tts",
  "huggingface",
  () => ({ url: `${U.HUGGINGFACE_BASE_URL}/hf-inference/models/facebook/mms-tts-eng`, ...jsonBody({ inputs: TEXT }) }),
  (res, b) => {
    expectTone(b, TEXT, { sampleRate: 16000, container: "flac" });
    assertEq(res.headers.get("content-type"), "audio/flac", "content-type");
  },
);
await endpoint(
  "hf inference asr",
  "huggingface",
  () => ({
    url: `${U.HUGGINGFACE_BASE_URL}/hf-inference/models/openai/whisper-large-v3`,
    headers: { "content-type": "audio/flac" },
    body: wav(4500),
  }),
  (res, b) => assertEq(bodyJson(b), { text: mockTranscriptFor(4500) }, "asr"),
);
await endpoint(
  "hf inference tts, a model answering WAV",
  "huggingface",
  () => ({ url: `${U.HUGGINGFACE_BASE_URL}/hf-inference/models/voxgate/tone-wav`, ...jsonBody({ inputs: TEXT }) }),
  async (res, b) => {
    expectTone(b, TEXT, { sampleRate: 16000, container: "wav" });
    assertEq(res.headers.get("content-type"), "audio/wav", "content-type");
    assertEq((await lastRecord("huggingface")).specOperation !== null, true, "matched the hf-inference operation");
  },
);
await endpoint(
  "hf hub whoami",
  "huggingface",
  () => ({ method: "GET", url: `${U.HUGGINGFACE_HUB_BASE_URL}/api/whoami-v2` }),
  (res, b) => assertEq(bodyJson(b).type, "user", "whoami"),
);

// ---------------------------------------------------------------------------------------------
// Missing auth headers → each provider's 401

const KEY_CHECKS = {
  elevenlabs: `${U.ELEVENLABS_BASE_URL}/v1/user`,
  openai: `${U.OPENAI_BASE_URL}/models`,
  anthropic: `${U.ANTHROPIC_BASE_URL}/v1/models`,
  cartesia: `${U.CARTESIA_BASE_URL}/voices`,
  deepgram: `${U.DEEPGRAM_BASE_URL}/v1/projects`,
  fishaudio: `${U.FISHAUDIO_BASE_URL}/wallet/self/api-credit`,
  inworld: `${U.INWORLD_BASE_URL}/voices/v1/voices`,
  resembleai: `${U.RESEMBLEAI_MANAGEMENT_BASE_URL}/api/v2/voices?page=1`,
  groq: `${U.GROQ_BASE_URL}/models`,
  huggingface: `${U.HUGGINGFACE_HUB_BASE_URL}/api/whoami-v2`,
};
for (const [provider, url] of Object.entries(KEY_CHECKS)) {
  await test(`${provider} missing auth header → 401`, async () => {
    const headers =
      provider === "cartesia"
        ? { "cartesia-version": "2025-11-04" }
        : provider === "anthropic"
          ? { "anthropic-version": "2023-06-01" }
          : {};
    const res = await fetch(url, { headers });
    const text = await res.text();
    assert(res.status === 401, `status ${res.status}`);
    assert(text.length > 0, "body");
    if (!["cartesia", "fishaudio"].includes(provider)) JSON.parse(text);
  });
}
await test("anthropic missing anthropic-version → 400", async () => {
  const res = await fetch(`${U.ANTHROPIC_BASE_URL}/v1/models`, { headers: { "x-api-key": "k" } });
  assertEq([res.status, (await res.json()).error.type], [400, "invalid_request_error"], "400");
});
await test("cartesia missing Cartesia-Version → 400", async () => {
  const res = await fetch(`${U.CARTESIA_BASE_URL}/voices`, { headers: { authorization: "Bearer k" } });
  assertEq(res.status, 400, "status");
});

// ---------------------------------------------------------------------------------------------
// Spec checking catches adapter mistakes (the request is still answered)

async function specErrorsFor(provider, url, init) {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return { status: res.status, errors: (await lastRecord(provider)).specErrors };
}
await test("spec: OpenAI chat with a misspelt field and a wrong type", async () => {
  const { status, errors } = await specErrorsFor("openai", `${U.OPENAI_BASE_URL}/chat/completions`, {
    method: "POST",
    headers: { ...AUTH.openai("k"), "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: MSGS, max_token: 5, temperature: "hot" }),
  });
  assertEq(status, 200, "still answered");
  assert(errors.some((e) => e.includes("max_token")) && errors.some((e) => e.includes("temperature")), `errors: ${JSON.stringify(errors)}`);
});
await test("spec: Inworld TTS with voice_id instead of voiceId", async () => {
  const { errors } = await specErrorsFor("inworld", `${U.INWORLD_BASE_URL}/tts/v1/voice`, {
    method: "POST",
    headers: { ...AUTH.inworld("k"), "content-type": "application/json" },
    body: JSON.stringify({ text: "x", voice_id: "Ashley", modelId: "m" }),
  });
  assert(errors.some((e) => e.includes("voiceId")) && errors.some((e) => e.includes("voice_id")), `errors: ${JSON.stringify(errors)}`);
});
await test("spec: Hugging Face hf-inference TTS without inputs; a model id of one segment is checked too", async () => {
  const { errors } = await specErrorsFor("huggingface", `${U.HUGGINGFACE_BASE_URL}/hf-inference/models/gpt2`, {
    method: "POST",
    headers: { ...AUTH.huggingface("k"), "content-type": "application/json" },
    body: JSON.stringify({ text: "x" }),
  });
  assert(
    errors.some((e) => e.includes("inputs")),
    `errors: ${JSON.stringify(errors)}`,
  );
});
await test("spec: ElevenLabs unknown output_format and STT without model_id", async () => {
  let { errors } = await specErrorsFor("elevenlabs", `${U.ELEVENLABS_BASE_URL}/v1/text-to-speech/v?output_format=mp3_44100`, {
    method: "POST",
    headers: { ...AUTH.elevenlabs("k"), "content-type": "application/json" },
    body: JSON.stringify({ text: "x" }),
  });
  assert(
    errors.some((e) => e.startsWith("query.output_format")),
    `errors: ${JSON.stringify(errors)}`,
  );
  ({ errors } = await specErrorsFor("elevenlabs", `${U.ELEVENLABS_BASE_URL}/v1/speech-to-text`, {
    method: "POST",
    headers: AUTH.elevenlabs("k"),
    body: form({ model: "scribe_v1" }, { file: [wav(10), "a.wav", "audio/wav"] }),
  }));
  assert(
    errors.some((e) => e.includes("model_id")) && errors.some((e) => e.includes("multipart.model")),
    `errors: ${JSON.stringify(errors)}`,
  );
});
await test("spec: Resemble mgmt voices without page; Deepgram with the key in the wrong header", async () => {
  let { errors } = await specErrorsFor("resembleai", `${U.RESEMBLEAI_MANAGEMENT_BASE_URL}/api/v2/voices`, {
    headers: AUTH.resembleai("k"),
  });
  assert(
    errors.some((e) => e.includes("query.page")),
    `errors: ${JSON.stringify(errors)}`,
  );
  const deepgram = await specErrorsFor("deepgram", `${U.DEEPGRAM_BASE_URL}/v1/projects`, { headers: { "x-api-key": "k" } });
  const status = deepgram.status;
  errors = deepgram.errors;
  assertEq(status, 401, "mock rejects it");
  assert(
    errors.some((e) => e.startsWith("auth:")) && errors.some((e) => e.includes("header.Authorization")),
    `errors: ${JSON.stringify(errors)}`,
  );
});

// ---------------------------------------------------------------------------------------------
// Faults

async function fault(f) {
  const res = await fetch(`${mock.origin}/__control/fault`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(f),
  });
  assert(res.ok, `fault rejected: ${await res.text()}`);
}
const chatInit = (extra = {}) => ({
  method: "POST",
  headers: { ...AUTH.openai("k"), "content-type": "application/json" },
  body: JSON.stringify({ model: "gpt-4o-mini", messages: MSGS, ...extra }),
});

await test("control: reset clears requests and faults", async () => {
  await fault({ provider: "openai", mode: "error", times: 5 });
  await fetch(`${mock.origin}/__control/reset`, { method: "POST" });
  assertEq(await (await fetch(`${mock.origin}/__control/requests`)).json(), [], "requests");
  assertEq(await (await fetch(`${mock.origin}/__control/faults`)).json(), [], "faults");
});
await test("fault bodyIncludes: only the request carrying the nonce gets it, and it survives a reset", async () => {
  await fault({ provider: "openai", mode: "error", status: 503, bodyIncludes: "nonce-123" });
  await fetch(`${mock.origin}/__control/reset`, { method: "POST" });
  assertEq((await fetch(`${U.OPENAI_BASE_URL}/chat/completions`, chatInit())).status, 200, "a request without the nonce");
  const hit = await fetch(`${U.OPENAI_BASE_URL}/chat/completions`, chatInit({ user: "nonce-123" }));
  assertEq(hit.status, 503, "the request with the nonce");
  assertEq(await (await fetch(`${mock.origin}/__control/faults`)).json(), [], "used up");
  const bad = await fetch(`${mock.origin}/__control/fault`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ mode: "error", bodyIncludes: "" }),
  });
  assertEq(bad.status, 400, "an empty bodyIncludes");
});
await test("fault error 429 (OpenAI shape + Retry-After), times: 2, then normal", async () => {
  await fault({ provider: "openai", path: "/chat/completions", mode: "error", status: 429, times: 2 });
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${U.OPENAI_BASE_URL}/chat/completions`, chatInit());
    const j = await res.json();
    assertEq([res.status, res.headers.get("retry-after"), j.error.code], [429, "7", "rate_limit_exceeded"], `attempt ${i}`);
  }
  assertEq((await fetch(`${U.OPENAI_BASE_URL}/chat/completions`, chatInit())).status, 200, "third attempt");
});
await test("fault error default 500 (Anthropic shape), path filter", async () => {
  await fault({ provider: "anthropic", path: "/v1/messages", mode: "error" });
  assertEq((await fetch(`${U.ANTHROPIC_BASE_URL}/v1/models`, { headers: AUTH.anthropic("k") })).status, 200, "other path untouched");
  const res = await fetch(`${U.ANTHROPIC_BASE_URL}/v1/messages`, {
    method: "POST",
    headers: { ...AUTH.anthropic("k"), "content-type": "application/json" },
    body: JSON.stringify({ model: "m", max_tokens: 5, messages: AMSGS }),
  });
  const j = await res.json();
  assertEq([res.status, j.type, j.error.type], [500, "error", "api_error"], "500");
});
await test("fault error 529 retryAfter 3 (Anthropic overloaded)", async () => {
  await fault({ provider: "anthropic", mode: "error", status: 529, retryAfter: 3 });
  const res = await fetch(`${U.ANTHROPIC_BASE_URL}/v1/models`, { headers: AUTH.anthropic("k") });
  assertEq([res.status, res.headers.get("retry-after"), (await res.json()).error.type], [529, "3", "overloaded_error"], "529");
});
await test("fault timeout (client gives up first)", async () => {
  await fault({ provider: "deepgram", mode: "timeout", delayMs: 2000 });
  const t0 = Date.now();
  let err = null;
  try {
    await fetch(`${U.DEEPGRAM_BASE_URL}/v1/projects`, { headers: AUTH.deepgram("k"), signal: AbortSignal.timeout(200) });
  } catch (e) {
    err = e;
  }
  assert(err && err.name === "TimeoutError", `expected TimeoutError, got ${err}`);
  assert(Date.now() - t0 < 1500, "gave up early");
});
await test("fault timeout short delay then a normal answer", async () => {
  await fault({ provider: "deepgram", mode: "timeout", delayMs: 150 });
  const t0 = Date.now();
  const res = await fetch(`${U.DEEPGRAM_BASE_URL}/v1/projects`, { headers: AUTH.deepgram("k") });
  assertEq(res.status, 200, "status");
  assert(Date.now() - t0 >= 140, "delayed");
});
await test("fault reset", async () => {
  await fault({ provider: "elevenlabs", mode: "reset" });
  let err = null;
  try {
    await fetch(`${U.ELEVENLABS_BASE_URL}/v1/voices`, { headers: AUTH.elevenlabs("k") });
  } catch (e) {
    err = e;
  }
  assert(err, "fetch should fail");
});
await test("fault truncate (raw audio stream)", async () => {
  await fault({ provider: "elevenlabs", path: "/stream", mode: "truncate" });
  const res = await fetch(`${U.ELEVENLABS_BASE_URL}/v1/text-to-speech/v/stream`, {
    method: "POST",
    headers: { ...AUTH.elevenlabs("k"), "content-type": "application/json" },
    body: JSON.stringify({ text: TEXT }),
  });
  assertEq(res.status, 200, "headers arrive");
  let err = null;
  try {
    await res.arrayBuffer();
  } catch (e) {
    err = e;
  }
  assert(err, "body should fail mid-stream");
});
await test("fault truncate (SSE: only the first event arrives)", async () => {
  await fault({ provider: "openai", mode: "truncate" });
  const res = await fetch(`${U.OPENAI_BASE_URL}/chat/completions`, chatInit({ stream: true }));
  const reader = res.body.getReader();
  let received = "";
  let err = null;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += utf8Decode(value);
    }
  } catch (e) {
    err = e;
  }
  assert(err, "stream should error");
  assertEq(parseSse(received).length, 1, "events before the cut");
});
await test("fault slow (first chunk at once, rest after delayMs)", async () => {
  await fault({ provider: "cartesia", mode: "slow", delayMs: 300 });
  const t0 = Date.now();
  const res = await fetch(`${U.CARTESIA_BASE_URL}/tts/bytes`, {
    method: "POST",
    headers: { ...AUTH.cartesia("k"), "content-type": "application/json" },
    body: JSON.stringify(cartesiaTts("raw")),
  });
  const reader = res.body.getReader();
  const first = await reader.read();
  const tFirst = Date.now() - t0;
  const parts = [first.value];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  const total = Date.now() - t0;
  assert(tFirst < 250 && total >= 290, `first chunk after ${tFirst} ms, all after ${total} ms`);
  expectTone(concatBytes(parts), TEXT, { sampleRate: 16000 });
});
await test("fault stall (SSE: the first events, then silence with the connection open)", async () => {
  await fault({ provider: "openai", mode: "stall", afterChunks: 2 });
  const ac = new AbortController();
  const res = await fetch(`${U.OPENAI_BASE_URL}/chat/completions`, { ...chatInit({ stream: true }), signal: ac.signal });
  const reader = res.body.getReader();
  let received = "";
  while (parseSse(received).length < 2) received += utf8Decode((await reader.read()).value);
  const next = await Promise.race([reader.read().then(() => "more"), new Promise((r) => setTimeout(() => r("silent"), 300))]);
  assertEq(next, "silent", "after the first events");
  assertEq(parseSse(received).length, 2, "events before the silence");
  ac.abort();
});
await test("x-mock-slow-ms header behaves like slow (JSON body split in two)", async () => {
  const t0 = Date.now();
  const res = await fetch(`${U.GROQ_BASE_URL}/models`, { headers: { ...AUTH.groq("k"), "x-mock-slow-ms": "200" } });
  const j = await res.json();
  assert(Date.now() - t0 >= 190, "delayed");
  assertEq(j.object, "list", "complete body");
});
await test("fault invalid_json", async () => {
  await fault({ provider: "huggingface", mode: "invalid_json" });
  const res = await fetch(`${U.HUGGINGFACE_HUB_BASE_URL}/api/whoami-v2`, { headers: AUTH.huggingface("k") });
  assertEq([res.status, res.headers.get("content-type")], [200, "application/json"], "headers");
  let err = null;
  try {
    await res.json();
  } catch (e) {
    err = e;
  }
  assert(err, "body must not parse");
});
await test("fault wrong_content_type", async () => {
  await fault({ provider: "resembleai-mgmt", mode: "wrong_content_type" });
  const res = await fetch(`${U.RESEMBLEAI_BASE_URL}/synthesize`, {
    method: "POST",
    headers: { ...AUTH.resembleai("k"), "content-type": "application/json" },
    body: JSON.stringify({ voice_uuid: "v", data: "x" }),
  });
  assertEq(res.status, 200, "synthesis host is not the mgmt base: untouched");
  assert((res.headers.get("content-type") || "").startsWith("application/json"), "json");
  const res2 = await fetch(`${U.RESEMBLEAI_MANAGEMENT_BASE_URL}/api/v2/voices?page=1`, { headers: AUTH.resembleai("k") });
  assert((res2.headers.get("content-type") || "").startsWith("text/html") && (await res2.text()).includes("<html"), "html");
});
await test("control: bad fault rejected, requests recorded with fault mode", async () => {
  const res = await fetch(`${mock.origin}/__control/fault`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ provider: "openai", mode: "explode" }),
  });
  assertEq(res.status, 400, "status");
  const recs = await (await fetch(`${mock.origin}/__control/requests?provider=huggingface`)).json();
  assertEq(recs[recs.length - 1].fault, "invalid_json", "fault recorded");
});

// ---------------------------------------------------------------------------------------------

await mock.close();
for (const w of warnings) console.log(`WARN  ${w}`);
for (const f of failures) console.log(`FAIL  ${f}`);
console.log(`\n${passed} passed, ${failures.length} failed, ${warnings.length} warnings`);
process.exit(failures.length ? 1 : 0);
