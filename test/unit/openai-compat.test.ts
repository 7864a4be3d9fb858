// The OpenAI-compatible surface (issue 7): OpenAI request/response shapes on top of the gateway
// pipeline, streaming chunks with and without include_usage, OpenAI's error shape, model naming.
import { beforeEach, describe, expect, it } from "vitest";
import { parseModel } from "../../src/api/openai-shapes";
import { api, bearer, eventually, faultFor, marker, mockControl, newKeyUser, newUser, upstreamRequests, usageOf } from "../helpers/api";
import { expectMockAudio } from "../helpers/provider-cases";
// @ts-expect-error plain JS module shared with the mock server
import { mockDurationSeconds, mockTranscriptFor } from "../mocks/audio.mjs";

beforeEach(async () => {
  await mockControl("/reset", { method: "POST" });
});

const keyUser = newKeyUser;

const completions = (auth: Record<string, string>, json: unknown) => api("/v1/chat/completions", { method: "POST", headers: auth, json });
const user = (content: unknown) => [{ role: "user", content }];

/** `data:` payloads of an SSE body, `[DONE]` kept as a string. */
async function sseData(res: Response): Promise<any[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((b) => b.startsWith("data: "))
    .map((b) => b.slice(6))
    .map((d) => (d === "[DONE]" ? d : JSON.parse(d)));
}

function expectOpenAiError(body: any, type: string, code: string | null, param: string | null = null) {
  // OpenAI's error object in Voxgate's envelope (API.md §8).
  expect(Object.keys(body)).toEqual(["success", "error", "requestId"]);
  expect(body.success).toBe(false);
  expect(body.requestId).toEqual(expect.any(String));
  expect(body.error).toEqual({ message: expect.any(String), type, param, code });
}

describe("POST /v1/chat/completions", () => {
  it("a bare OpenAI model: chat.completion object, usage in OpenAI's names, the request translated upstream", async () => {
    const u = await keyUser();
    const res = await completions(bearer(u.key), {
      model: "gpt-4.1-mini",
      messages: [
        { role: "developer", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "hello there world" }] },
      ],
      temperature: 0.5,
      max_tokens: 64,
    });
    expect(res.status, await res.clone().text()).toBe(200);
    for (const h of ["x-request-id", "x-ratelimit-limit", "x-ratelimit-remaining", "x-usage-current", "x-usage-remaining"])
      expect(res.headers.get(h), h).toBeTruthy();
    expect(res.headers.get("x-provider-used")).toBe("openai");
    const body = (await res.json()) as any;
    expect(body).toMatchObject({
      id: expect.stringMatching(/^chatcmpl-/),
      object: "chat.completion",
      created: expect.any(Number),
      model: "gpt-4.1-mini",
      choices: [{ index: 0, message: { role: "assistant", content: "Echo: hello there world" }, finish_reason: "stop" }],
    });
    expect(body.usage.completion_tokens).toBe(4);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    const [req] = await upstreamRequests("openai");
    expect(req.specErrors).toEqual([]);
    expect(req.body).toEqual({
      model: "gpt-4.1-mini",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "hello there world" },
      ],
      temperature: 0.5,
      max_completion_tokens: 64,
    });
    // Metered like /v1/chat: the provider's tokens at gpt-4.1-mini's price.
    const usage = await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 1,
    );
    expect(usage.breakdown.llm).toBe((body.usage.prompt_tokens * 1 + body.usage.completion_tokens * 3) / 1000);
  });

  it("<provider>/<model>: Anthropic gets its own wire format (system apart, max_tokens)", async () => {
    const u = await keyUser();
    const res = await completions(bearer(u.key), {
      model: "anthropic/claude-sonnet-4-20250514",
      messages: [{ role: "system", content: "Be kind." }, ...user("hi claude")],
      max_completion_tokens: 99,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.model).toBe("anthropic/claude-sonnet-4-20250514");
    expect(body.choices[0].message.content).toBe("Echo: hi claude");
    const [req] = await upstreamRequests("anthropic");
    expect(req.specErrors).toEqual([]);
    expect(req.body).toMatchObject({
      model: "claude-sonnet-4-20250514",
      system: "Be kind.",
      max_tokens: 99,
      messages: [{ role: "user", content: "hi claude" }],
    });
  });

  it("a bare claude-… model reaches Anthropic (the OpenAI SDK's users name it so)", async () => {
    const u = await keyUser();
    const res = await completions(bearer(u.key), { model: "claude-3-5-haiku-latest", messages: user("bare claude") });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as any).choices[0].message.content).toBe("Echo: bare claude");
    const sent = (await upstreamRequests("anthropic")).filter((r: any) => r.body?.messages?.[0]?.content === "bare claude");
    expect(sent).toHaveLength(1);
    expect(sent[0].body.model).toBe("claude-3-5-haiku-latest");
    expect(sent[0].specErrors).toEqual([]);
  });

  it("model naming: split at the first slash only when it names a provider (huggingface/org/model, groq/org/model, aliases)", async () => {
    expect(parseModel("gpt-4.1-mini")).toEqual({ provider: "openai", model: "gpt-4.1-mini" });
    // A bare Claude model is Anthropic's (OpenAI has none: it went there and failed).
    expect(parseModel("claude-sonnet-4-20250514")).toEqual({ provider: "anthropic", model: "claude-sonnet-4-20250514" });
    expect(parseModel("huggingface/meta-llama/Llama-4-Maverick-17B-128E-Instruct")).toEqual({
      provider: "huggingface",
      model: "meta-llama/Llama-4-Maverick-17B-128E-Instruct",
    });
    expect(parseModel("meta-llama/llama-4-scout")).toEqual({ provider: "openai", model: "meta-llama/llama-4-scout" });
    expect(parseModel("Fish-Audio/s1")).toEqual({ provider: "fishaudio", model: "s1" });

    const u = await keyUser();
    const hf = await completions(
      { ...bearer(u.key), "x-provider-key-huggingface": "byok-hf-key" },
      { model: "huggingface/meta-llama/Llama-4-Maverick-17B-128E-Instruct", messages: user("hf") },
    );
    expect(hf.status, await hf.clone().text()).toBe(200);
    expect(hf.headers.get("x-usage-bypassed")).toBe("true");
    const [hreq] = await upstreamRequests("huggingface");
    expect(hreq.body.model).toBe("meta-llama/Llama-4-Maverick-17B-128E-Instruct");
    expect(hreq.headers.authorization).toBe("Bearer byok-hf-key");

    const groq = await completions(bearer(u.key), { model: "groq/meta-llama/llama-4-scout-17b-16e-instruct", messages: user("groq") });
    expect(groq.status).toBe(200);
    expect((await upstreamRequests("groq"))[0].body.model).toBe("meta-llama/llama-4-scout-17b-16e-instruct");

    // "meta-llama" is no provider: the whole name is an OpenAI model.
    const bare = await completions(
      { ...bearer(u.key), "x-provider-key-openai": "byok-openai" },
      { model: "meta-llama/llama-4-scout", messages: user("x") },
    );
    expect(bare.headers.get("x-provider-used")).toBe("openai");
    expect((await upstreamRequests("openai"))[0].body.model).toBe("meta-llama/llama-4-scout");

    const empty = await completions(bearer(u.key), { model: "anthropic/", messages: user("x") });
    expect(empty.status).toBe(400);
    expectOpenAiError(await empty.json(), "invalid_request_error", "validation_failed", "model");
    const tts = await completions(bearer(u.key), { model: "deepgram/aura-2", messages: user("x") });
    expect(tts.status).toBe(400);
    expectOpenAiError(await tts.json(), "invalid_request_error", "unsupported_operation", "model");
  });

  for (const model of ["gpt-4.1-mini", "anthropic/claude-sonnet-4-20250514", "groq/meta-llama/llama-4-scout-17b-16e-instruct"]) {
    it(`${model}: stream without include_usage → chat.completion.chunk events, finish chunk, [DONE], no usage`, async () => {
      const u = await keyUser();
      const res = await completions(bearer(u.key), { model, messages: user("stream these four words"), stream: true });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      const events = await sseData(res);
      expect(events.at(-1)).toBe("[DONE]");
      const chunks = events.slice(0, -1);
      for (const c of chunks) {
        expect(c).toMatchObject({ id: chunks[0].id, object: "chat.completion.chunk", model });
        expect("usage" in c).toBe(false);
      }
      expect(chunks[0].choices[0].delta.role).toBe("assistant");
      expect(chunks.map((c) => c.choices[0].delta.content ?? "").join("")).toBe("Echo: stream these four words");
      expect(chunks.at(-1).choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: "stop" });
      expect(chunks.slice(0, -1).every((c) => c.choices[0].finish_reason === null)).toBe(true);
    });
  }

  it("stream with include_usage: usage null on every chunk, then a usage chunk with no choices; metered from it", async () => {
    const u = await keyUser();
    const res = await completions(bearer(u.key), {
      model: "anthropic/claude-sonnet-4-20250514",
      messages: user("count my tokens"),
      stream: true,
      stream_options: { include_usage: true },
    });
    const events = await sseData(res);
    expect(events.at(-1)).toBe("[DONE]");
    const usageChunk = events.at(-2);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.completion_tokens).toBe(4);
    expect(usageChunk.usage.prompt_tokens).toBeGreaterThan(0);
    expect(usageChunk.usage.total_tokens).toBe(usageChunk.usage.prompt_tokens + 4);
    for (const c of events.slice(0, -2)) expect(c.usage).toBeNull();
    expect(events.at(-3).choices[0].finish_reason).toBe("stop");
    const usage = await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 1,
    );
    expect(usage.breakdown.llm).toBe((usageChunk.usage.prompt_tokens * 6 + 4 * 30) / 1000);
  });

  it("a stream cut short ends with an OpenAI error event (which the SDK raises), not [DONE]", async () => {
    const u = await keyUser();
    const cut = marker();
    // Cut after the role chunk and two words: the stream had started (a cut before the first token is a 502).
    await faultFor(cut, { provider: "openai", mode: "truncate", afterChunks: 3 });
    const res = await completions(bearer(u.key), { model: "gpt-4.1-mini", messages: user(`a b c d e f ${cut}`), stream: true });
    expect(res.status).toBe(200);
    const events = await sseData(res);
    expect(events).not.toContain("[DONE]");
    expect(events.at(-1)).toEqual({ error: { message: expect.any(String), type: "api_error", param: null, code: "provider_error" } });
  });

  it("Idempotency-Key: a retry replays the same completion and is charged once", async () => {
    const u = await keyUser();
    const send = () =>
      completions({ ...bearer(u.key), "idempotency-key": `oa-${u.id}` }, { model: "gpt-4.1-mini", messages: user("once") });
    const first = (await (await send()).json()) as any;
    await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 1,
    );
    const retry = await send();
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await retry.json()).toEqual(first);
    expect(await upstreamRequests("openai")).toHaveLength(1);
  });

  it("Idempotency-Key: the same body with its keys in another order, at any depth, is the same request (replayed, not 422)", async () => {
    const u = await keyUser();
    const schema = (order: "ab" | "ba") => {
      const props = order === "ab" ? { a: { type: "string" }, b: { type: "number" } } : { b: { type: "number" }, a: { type: "string" } };
      return order === "ab"
        ? { type: "object", properties: props, required: ["a", "b"], additionalProperties: false }
        : { additionalProperties: false, required: ["a", "b"], properties: props, type: "object" };
    };
    const headers = { ...bearer(u.key), "idempotency-key": `oa-order-${u.id}` };
    const first = await completions(headers, {
      model: "gpt-4.1-mini",
      messages: user("in order"),
      response_format: { type: "json_schema", json_schema: { name: "answer", schema: schema("ab") } },
    });
    expect(first.status).toBe(200);
    const body = await first.json();
    await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 1,
    );
    const reordered = await completions(headers, {
      response_format: { json_schema: { schema: schema("ba"), name: "answer" }, type: "json_schema" },
      messages: [{ content: "in order", role: "user" }],
      model: "gpt-4.1-mini",
    });
    expect(reordered.status, await reordered.clone().text()).toBe(200);
    expect(reordered.headers.get("idempotent-replayed")).toBe("true");
    expect(await reordered.json()).toEqual(body);
    // A different value at depth is still a different body.
    const changed = await completions(headers, {
      model: "gpt-4.1-mini",
      messages: user("in order"),
      response_format: { type: "json_schema", json_schema: { name: "answer", schema: { ...schema("ab"), required: ["a"] } } },
    });
    expect(changed.status).toBe(422);
    expect(await upstreamRequests("openai")).toHaveLength(1);
  });
});

describe("errors in OpenAI's shape", () => {
  it("401: authentication_error / invalid_api_key, with X-Request-Id; native routes keep Voxgate's shape", async () => {
    for (const headers of [{}, bearer("plabs_not-a-real-key-000000000000000000000000000"), bearer("garbage")]) {
      const res = await completions(headers, { model: "gpt-4.1-mini", messages: user("x") });
      expect(res.status).toBe(401);
      expect(res.headers.get("x-request-id")).toMatch(/^req_/);
      expectOpenAiError(await res.json(), "authentication_error", "invalid_api_key");
    }
    for (const path of ["/v1/models", "/v1/audio/speech", "/v1/audio/transcriptions"]) {
      const res = await api(path, { method: path === "/v1/models" ? "GET" : "POST", json: path === "/v1/models" ? undefined : {} });
      expect(res.status, path).toBe(401);
      expectOpenAiError(await res.json(), "authentication_error", "invalid_api_key");
    }
    const native = await api("/v1/chat", { method: "POST", json: {} });
    expect(((await native.json()) as any).success).toBe(false);
  });

  it("400 validation: invalid_request_error with the first field as param; 415 too", async () => {
    const u = await keyUser();
    const res = await completions(bearer(u.key), { model: "gpt-4.1-mini" });
    expect(res.status).toBe(400);
    expectOpenAiError(await res.json(), "invalid_request_error", "validation_failed", "messages");
    const image = await completions(bearer(u.key), {
      model: "gpt-4.1-mini",
      messages: user([{ type: "image_url", image_url: { url: "x" } }]),
    });
    expect(image.status).toBe(400);
    expect(((await image.json()) as any).error.message).toContain("only text content parts");
    const tools = await completions(bearer(u.key), { model: "gpt-4.1-mini", messages: user("x"), tools: [{ type: "function" }] });
    expectOpenAiError(await tools.json(), "invalid_request_error", "validation_failed", "tools");
    const text = await api("/v1/chat/completions", {
      method: "POST",
      headers: { ...bearer(u.key), "content-type": "text/plain" },
      body: "hi",
    });
    expect(text.status).toBe(415);
    expectOpenAiError(await text.json(), "invalid_request_error", "unsupported_media_type");
    expect(await upstreamRequests("openai")).toHaveLength(0);
  });

  it("429: rate_limit_error with Retry-After; 402: type insufficient_quota, code insufficient_credits", async () => {
    const u = await newUser(); // free: 30 requests a minute
    let res: Response | undefined;
    for (let i = 0; i < 40; i++) {
      res = await api("/v1/models", { headers: bearer(u.jwt) });
      if (res.status === 429) break;
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect(res!.status).toBe(429);
    expect(Number(res!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(res!.headers.get("x-ratelimit-remaining")).toBe("0");
    expectOpenAiError(await res!.json(), "rate_limit_error", "rate_limit_exceeded");

    const poor = await newUser(); // 2,500 credits cannot cover 128k output tokens at claude-sonnet-4's price
    const big = await completions(bearer(poor.jwt), {
      model: "anthropic/claude-sonnet-4-20250514",
      messages: user("x"),
      max_tokens: 128_000,
    });
    expect(big.status).toBe(402);
    // Voxgate's code (API.md §6), so an exhausted account is told from a key's spent limit; OpenAI's type.
    expectOpenAiError(await big.json(), "insufficient_quota", "insufficient_credits");
    expect(await upstreamRequests("anthropic")).toHaveLength(0);
  });

  it("402 for a key's spent monthly limit keeps its own code: key_credit_limit_reached, not the account's", async () => {
    const u = await newUser({ plan: "pro" });
    const created = await api("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: { monthlyCreditLimit: 0.001 } });
    const key = ((await created.json()) as any).key as string;
    const res = await completions(bearer(key), { model: "openai/gpt-4.1", messages: user("hello"), max_tokens: 100 });
    expect(res.status).toBe(402);
    expectOpenAiError(await res.json(), "insufficient_quota", "key_credit_limit_reached");
  });

  it("provider failure: 502 api_error", async () => {
    const u = await keyUser();
    const res = await completions(
      { ...bearer(u.key), "x-provider-key-openai": "invalid-key" },
      { model: "gpt-4.1-mini", messages: user("x") },
    );
    expect(res.status).toBe(502);
    expectOpenAiError(await res.json(), "api_error", "provider_error");
  });
});

describe("POST /v1/audio/speech", () => {
  it("<provider>/<model>: audio bytes; an OpenAI voice name means the provider's default voice", async () => {
    const u = await keyUser();
    const res = await api("/v1/audio/speech", {
      method: "POST",
      headers: bearer(u.key),
      json: { model: "elevenlabs/eleven_flash_v2_5", voice: "alloy", input: "Hello there." },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expect(res.headers.get("x-provider-used")).toBe("elevenlabs");
    expectMockAudio(new Uint8Array(await res.arrayBuffer()), "Hello there.");
    const [req] = await upstreamRequests("elevenlabs");
    expect(req.path).toBe("/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream");
    expect(req.body.model_id).toBe("eleven_flash_v2_5");

    const own = await api("/v1/audio/speech", {
      method: "POST",
      headers: bearer(u.key),
      json: { model: "cartesia/sonic-3", voice: { id: "my-voice" }, input: "hi", response_format: "wav" },
    });
    expect(own.headers.get("content-type")).toBe("audio/wav");
    await own.arrayBuffer();
    expect((await upstreamRequests("cartesia"))[0].body.voice).toMatchObject({ id: "my-voice" });
  });

  it("a bare OpenAI model goes to OpenAI (with the caller's key, or metered on the platform key); unsupported formats are 400", async () => {
    const u = await keyUser();
    const res = await api("/v1/audio/speech", {
      method: "POST",
      headers: { ...bearer(u.key), "x-provider-key-openai": "byok-openai" },
      json: { model: "tts-1", voice: "nova", input: "hi", response_format: "opus" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/ogg");
    await res.arrayBuffer();
    expect((await upstreamRequests("openai"))[0].body).toEqual({ model: "tts-1", input: "hi", voice: "nova", response_format: "opus" });

    // OpenAI speech has a platform price now (API.md §6): the platform key serves it, metered.
    const priced = await api("/v1/audio/speech", {
      method: "POST",
      headers: bearer(u.key),
      json: { model: "tts-1", voice: "nova", input: "hi" },
    });
    expect(priced.status).toBe(200);
    expect(priced.headers.get("x-usage-bypassed")).toBe("false");
    expect(Number(priced.headers.get("x-usage-cost"))).toBe((2 * 15 * 0.9) / 1000);
    await priced.arrayBuffer();
    const aac = await api("/v1/audio/speech", {
      method: "POST",
      headers: bearer(u.key),
      json: { model: "elevenlabs/x", voice: "v", input: "hi", response_format: "aac" },
    });
    // aac exists (OpenAI's and Deepgram's), but ElevenLabs does not produce it and it cannot be made here.
    expect(aac.status).toBe(400);
    expectOpenAiError(await aac.json(), "invalid_request_error", "unsupported_format", "response_format");
    const ogg = await api("/v1/audio/speech", {
      method: "POST",
      headers: bearer(u.key),
      json: { model: "tts-1", voice: "nova", input: "hi", response_format: "ogg" },
    });
    expectOpenAiError(await ogg.json(), "invalid_request_error", "validation_failed", "response_format");
  });
});

describe("POST /v1/audio/transcriptions", () => {
  const upload = (model: string, extra: Record<string, string> = {}) => {
    const form = new FormData();
    form.append("file", new File([new Uint8Array(6000)], "clip.wav", { type: "audio/wav" }));
    form.append("model", model);
    for (const [k, v] of Object.entries(extra)) form.append(k, v);
    return form;
  };

  it("json (default), text and verbose_json; metered per second like /v1/transcribe", async () => {
    const u = await keyUser();
    const res = await api("/v1/audio/transcriptions", { method: "POST", headers: bearer(u.key), body: upload("whisper-1") });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ text: mockTranscriptFor(6000), usage: { type: "duration", seconds: mockDurationSeconds(6000) } });
    const [req] = await upstreamRequests("openai");
    expect(req.body.fields.model).toBe("whisper-1");
    const usage = await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 1,
    );
    expect(usage.breakdown.stt).toBe((12 * mockDurationSeconds(6000)) / 60);

    const text = await api("/v1/audio/transcriptions", {
      method: "POST",
      headers: bearer(u.key),
      body: upload("groq/whisper-large-v3-turbo", { response_format: "text", language: "en" }),
    });
    expect(text.headers.get("content-type")).toContain("text/plain");
    expect(await text.text()).toBe(mockTranscriptFor(6000));
    const [greq] = await upstreamRequests("groq");
    expect(greq.body.fields).toMatchObject({ model: "whisper-large-v3-turbo", language: "en" });

    const verbose = await api("/v1/audio/transcriptions", {
      method: "POST",
      headers: bearer(u.key),
      body: upload("deepgram/nova-3", { response_format: "verbose_json" }),
    });
    expect(await verbose.json()).toMatchObject({ task: "transcribe", duration: mockDurationSeconds(6000), text: mockTranscriptFor(6000) });
  });

  it("validation: model required, response_format limited, file required", async () => {
    const u = await keyUser();
    const form = new FormData();
    form.append("file", new File([new Uint8Array(10)], "a.wav"));
    const noModel = await api("/v1/audio/transcriptions", { method: "POST", headers: bearer(u.key), body: form });
    expect(noModel.status).toBe(400);
    expectOpenAiError(await noModel.json(), "invalid_request_error", "validation_failed", "model");
    // srt and vtt are served (openai-options.test.ts); diarized_json is not.
    const diarized = await api("/v1/audio/transcriptions", {
      method: "POST",
      headers: bearer(u.key),
      body: upload("whisper-1", { response_format: "diarized_json" }),
    });
    expectOpenAiError(await diarized.json(), "invalid_request_error", "validation_failed", "response_format");
    const noFile = new FormData();
    noFile.append("model", "whisper-1");
    const res = await api("/v1/audio/transcriptions", { method: "POST", headers: bearer(u.key), body: noFile });
    expectOpenAiError(await res.json(), "invalid_request_error", "validation_failed", "file");
  });
});

describe("GET /v1/models", () => {
  it("lists every servable <provider>/<model> in OpenAI's list shape, owned_by the provider", async () => {
    const u = await keyUser();
    const res = await api("/v1/models", { headers: bearer(u.key) });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit")).toBe("1000");
    const body = (await res.json()) as any;
    expect(body.object).toBe("list");
    const ids = body.data.map((m: any) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [
      "openai/gpt-4.1-mini",
      "openai/gpt-4.1",
      "openai/gpt-4o-mini-tts",
      "openai/whisper-1",
      "anthropic/claude-sonnet-4-20250514",
      "anthropic/claude-3-5-haiku",
      "groq/meta-llama/llama-4-scout-17b-16e-instruct",
      "groq/meta-llama/llama-4-maverick",
      "huggingface/meta-llama/Llama-4-Scout-17B-16E-Instruct",
      "elevenlabs/eleven_flash_v2_5",
      "elevenlabs/scribe_v1",
      "cartesia/sonic-3",
      "deepgram/nova-3",
      "fishaudio/s1",
      "inworld/inworld-tts-1.5-mini",
      "resembleai/default",
    ]) {
      expect(ids, id).toContain(id);
    }
    for (const m of body.data) {
      expect(m).toEqual({ id: m.id, object: "model", created: expect.any(Number), owned_by: m.id.split("/")[0] });
      expect(parseModel(m.id).provider).toBe(m.owned_by);
    }
    expect(ids.some((id: string) => id.startsWith("anthropic/gpt") || id.startsWith("openai/claude"))).toBe(false);
  });
});

describe("OpenAPI document", () => {
  it("renders with the OpenAI-compatible and agent routes", async () => {
    const res = await api("/openapi.json");
    expect(res.status, await res.clone().text()).toBe(200);
    const doc = (await res.json()) as any;
    for (const path of [
      "/v1/chat/completions",
      "/v1/audio/speech",
      "/v1/audio/transcriptions",
      "/v1/models",
      "/v1/agents",
      "/v1/agents/{id}",
      "/v1/agents/{id}/chat",
      "/v1/agents/{id}/speak",
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });
});

describe("finish_reason and refusal as the provider answered them", () => {
  const sseChunks = (text: string) =>
    text
      .split("\n\n")
      .filter((e) => e.startsWith("data: ") && e !== "data: [DONE]")
      .map((e) => JSON.parse(e.slice(6)));

  it("an answer cut at its cap is finish_reason length (OpenAI, Groq, Anthropic's max_tokens), streamed or not; a normal one stop", async () => {
    const u = await keyUser();
    for (const model of ["openai/gpt-4.1-mini", "groq/llama-3.3-70b-versatile", "anthropic/claude-3-5-haiku-latest"]) {
      const cut = await completions(bearer(u.key), { model, max_tokens: 5, messages: user("say a lot mock-finish-length") });
      expect(cut.status, model).toBe(200);
      expect(((await cut.json()) as any).choices[0].finish_reason, model).toBe("length");
      const streamed = await completions(bearer(u.key), { model, stream: true, messages: user("say a lot mock-finish-length") });
      const chunks = sseChunks(await streamed.text());
      expect(chunks.at(-1).choices[0].finish_reason, model).toBe("length");
      const whole = await completions(bearer(u.key), { model, messages: user("say a little") });
      expect(((await whole.json()) as any).choices[0].finish_reason, model).toBe("stop");
    }
  });

  it("OpenAI's refusal stays a refusal: content null, refusal the text, finish_reason content_filter", async () => {
    const u = await keyUser();
    const res = await completions(bearer(u.key), { model: "openai/gpt-4.1-mini", messages: user("do something bad mock-refusal") });
    expect(res.status).toBe(200);
    const choice = ((await res.json()) as any).choices[0];
    expect(choice.message.content).toBeNull();
    expect(typeof choice.message.refusal).toBe("string");
    expect(choice.message.refusal.length).toBeGreaterThan(0);
    expect(choice.finish_reason).toBe("content_filter");
  });

  it("Voxgate's own /v1/chat done event keeps its shape (no finish field)", async () => {
    const u = await keyUser();
    const res = await api("/v1/chat", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "openai", model: "gpt-4.1-mini", stream: true, messages: user("hi mock-finish-length") },
    });
    const done = sseChunks(await res.text()).find((e) => e.type === "done");
    expect(Object.keys(done).sort()).toEqual(["cost", "type", "usage"]);
  });
});
