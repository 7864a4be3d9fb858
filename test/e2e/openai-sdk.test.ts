// The official `openai` SDK, unchanged, against a real `wrangler dev` (issue 7): a Voxgate API key and
// baseURL pointed at Voxgate; chat (plain and streamed) through the OpenAI, Anthropic and Groq mocks,
// speech, transcription, model listing, and the SDK's typed errors for 401, 400 and 429.
import OpenAI, { toFile } from "openai";
import { beforeEach, describe, expect, it } from "vitest";
import { first } from "../helpers/items";
import { expectMockAudio } from "../helpers/provider-cases";
import { expectSpeechTone } from "../helpers/speech-check";
// @ts-expect-error plain JS module shared with the mock server
import { mockDurationSeconds, mockTranscriptFor } from "../mocks/audio.mjs";
import { bearer, call, mock, payingUser, settled, upstream, workerUrl } from "./client";

beforeEach(async () => {
  await mock("/reset", { method: "POST" });
});

const sdk = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${workerUrl()}/v1`, maxRetries: 0 });
const usage = async (jwt: string) => (await (await call("/v1/usage", { headers: bearer(jwt) })).json()) as any;

const CHAT = [
  { model: "gpt-4.1-mini", provider: "openai", upstreamModel: "gpt-4.1-mini" },
  { model: "anthropic/claude-sonnet-4-20250514", provider: "anthropic", upstreamModel: "claude-sonnet-4-20250514" },
  { model: "groq/meta-llama/llama-4-scout-17b-16e-instruct", provider: "groq", upstreamModel: "meta-llama/llama-4-scout-17b-16e-instruct" },
];

describe("chat.completions through the SDK", () => {
  for (const c of CHAT) {
    it(`${c.model}: plain`, async () => {
      const u = await payingUser("pro");
      const { data: completion, response } = await sdk(u.key)
        .chat.completions.create({
          model: c.model,
          messages: [
            { role: "system", content: "Be brief." },
            { role: "user", content: "hello from the sdk" },
          ],
          max_tokens: 50,
        })
        .withResponse();
      expect(response.headers.get("x-provider-used")).toBe(c.provider);
      expect(completion.object).toBe("chat.completion");
      expect(completion.model).toBe(c.model);
      const choice = first(completion.choices, "choice");
      expect(choice.message).toMatchObject({ role: "assistant", content: "Echo: hello from the sdk" });
      expect(choice.finish_reason).toBe("stop");
      expect(completion.usage!.completion_tokens).toBe(5);
      expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + 5);
      const [req] = await upstream(c.provider);
      expect(req.body.model).toBe(c.upstreamModel);
      expect(req.specErrors).toEqual([]);
      const used = await settled(
        () => usage(u.jwt),
        (b) => b.requestCount === 1,
      );
      expect(used.breakdown.llm).toBeGreaterThan(0);
    });

    it(`${c.model}: streamed, with and without include_usage`, async () => {
      const u = await payingUser("pro");
      const client = sdk(u.key);
      const withUsage = await client.chat.completions.create({
        model: c.model,
        messages: [{ role: "user", content: "stream these four words" }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = "";
      const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
      for await (const chunk of withUsage) {
        chunks.push(chunk);
        text += chunk.choices[0]?.delta?.content ?? "";
      }
      expect(text).toBe("Echo: stream these four words");
      expect(chunks.every((ch) => ch.object === "chat.completion.chunk")).toBe(true);
      const last = chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage).toMatchObject({ completion_tokens: 5 });
      expect(first(chunks.at(-2)!.choices, "choice").finish_reason).toBe("stop");

      const plain = await client.chat.completions.create({
        model: c.model,
        messages: [{ role: "user", content: "no usage please" }],
        stream: true,
      });
      const seen: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
      for await (const chunk of plain) seen.push(chunk);
      expect(seen.map((ch) => ch.choices[0]?.delta?.content ?? "").join("")).toBe("Echo: no usage please");
      expect(seen.some((ch) => ch.usage)).toBe(false);
      expect(first(seen.at(-1)!.choices, "choice").finish_reason).toBe("stop");
      const used = await settled(
        () => usage(u.jwt),
        (b) => b.requestCount === 2,
      );
      expect(used.requestCount).toBe(2);
    });
  }

  it("a provider stream cut short after its first token surfaces as an APIError while iterating", async () => {
    const u = await payingUser("pro");
    // After the role chunk and two words: the answer had started (a cut before the first token is a 502).
    await mock("/fault", { method: "POST", json: { provider: "openai", mode: "truncate", afterChunks: 3 } });
    const stream = await sdk(u.key).chat.completions.create({
      model: "gpt-4.1-mini",
      messages: [{ role: "user", content: "a b c d e f" }],
      stream: true,
    });
    await expect(
      (async () => {
        for await (const _ of stream);
      })(),
    ).rejects.toBeInstanceOf(OpenAI.APIError);
  });
});

describe("audio through the SDK", () => {
  it("audio.speech.create: the audio bytes (ElevenLabs with its default voice; OpenAI with the caller's key)", async () => {
    const u = await payingUser("pro");
    const res = await sdk(u.key).audio.speech.create({
      model: "elevenlabs/eleven_flash_v2_5",
      voice: "alloy",
      input: "Spoken through the SDK.",
    });
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expectMockAudio(new Uint8Array(await res.arrayBuffer()), "Spoken through the SDK.");
    const [req] = await upstream("elevenlabs");
    expect(req.path).toMatch(/^\/v1\/text-to-speech\/[^/]+\/stream$/);
    expect(req.body.model_id).toBe("eleven_flash_v2_5");

    const byok = new OpenAI({
      apiKey: u.key,
      baseURL: `${workerUrl()}/v1`,
      maxRetries: 0,
      defaultHeaders: { "X-Provider-Key-OpenAI": "byok-openai-key" },
    });
    const wav = await byok.audio.speech.create({ model: "gpt-4o-mini-tts", voice: "coral", input: "wav please", response_format: "wav" });
    expect(wav.headers.get("content-type")).toBe("audio/wav");
    expect(wav.headers.get("x-usage-bypassed")).toBe("true");
    // OpenAI's wav is 24 kHz: the mock's tone comes through untouched.
    expectSpeechTone(new Uint8Array(await wav.arrayBuffer()), "wav", 24000, "wav please");
    expect((await upstream("openai"))[0].body).toMatchObject({ model: "gpt-4o-mini-tts", voice: "coral", response_format: "wav" });
  });

  it("audio.transcriptions.create with toFile: json, text, verbose_json", async () => {
    const u = await payingUser("pro");
    const client = sdk(u.key);
    const file = () => toFile(Buffer.alloc(5000), "clip.wav", { type: "audio/wav" });
    const json = await client.audio.transcriptions.create({ file: await file(), model: "whisper-1" });
    expect(json.text).toBe(mockTranscriptFor(5000));
    const text = await client.audio.transcriptions.create({
      file: await file(),
      model: "groq/whisper-large-v3-turbo",
      response_format: "text",
    });
    expect(text).toBe(mockTranscriptFor(5000));
    const verbose = await client.audio.transcriptions.create({
      file: await file(),
      model: "deepgram/nova-3",
      response_format: "verbose_json",
      language: "en",
    });
    expect(verbose).toMatchObject({ text: mockTranscriptFor(5000), duration: mockDurationSeconds(5000) });
    expect((await upstream("openai"))[0].body.files.file.size).toBe(5000);
    expect((await upstream("groq"))[0].body.fields.model).toBe("whisper-large-v3-turbo");
    expect(await upstream("deepgram")).toHaveLength(1);
    const used = await settled(
      () => usage(u.jwt),
      (b) => b.requestCount === 3,
    );
    expect(used.breakdown.stt).toBeGreaterThan(0);
  });
});

describe("models and errors through the SDK", () => {
  it("models.list: every <provider>/<model>, owned_by the provider", async () => {
    const u = await payingUser("pro");
    const ids: string[] = [];
    for await (const m of sdk(u.key).models.list()) {
      expect(m.owned_by).toBe(m.id.split("/")[0]);
      ids.push(m.id);
    }
    for (const id of [
      "openai/gpt-4.1-mini",
      "anthropic/claude-sonnet-4-20250514",
      "groq/meta-llama/llama-4-scout-17b-16e-instruct",
      "elevenlabs/eleven_flash_v2_5",
      "deepgram/nova-3",
    ]) {
      expect(ids).toContain(id);
    }
  });

  it("an invalid key → AuthenticationError (code invalid_api_key, with the request id)", async () => {
    const err = await sdk("plabs_this-key-does-not-exist-0000000000000000000")
      .chat.completions.create({ model: "gpt-4.1-mini", messages: [{ role: "user", content: "x" }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.status).toBe(401);
    expect(err.code).toBe("invalid_api_key");
    expect(err.type).toBe("authentication_error");
    expect(err.requestID).toMatch(/^req_/);
    await expect(sdk("not-even-a-key").models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("a model with no platform price → BadRequestError naming the model param", async () => {
    const u = await payingUser("pro");
    const err = await sdk(u.key)
      .chat.completions.create({ model: "o9-experimental", messages: [{ role: "user", content: "x" }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.code).toBe("model_not_priced");
    expect(err.param).toBe("model");
  });

  it("a burst past the starter key's 60/min → RateLimitError with Retry-After", async () => {
    const u = await payingUser("starter");
    const client = sdk(u.key);
    const results = await Promise.allSettled(Array.from({ length: 70 }, () => client.models.list()));
    const limited = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason);
    expect(results.length - limited.length).toBeGreaterThanOrEqual(60);
    expect(limited.length).toBeGreaterThan(0);
    for (const e of limited) expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    const err = limited[0] as InstanceType<typeof OpenAI.RateLimitError>;
    expect(err.status).toBe(429);
    expect(err.type).toBe("rate_limit_error");
    expect(Number(err.headers?.get("retry-after"))).toBeGreaterThan(0);
    expect(err.headers?.get("x-ratelimit-limit")).toBe("60");
  });
});
