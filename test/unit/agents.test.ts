// Voice agents (issue 7): CRUD owned per user, validation, and chat/speak through the gateway pipeline
// with the agent's settings visible in the upstream request, metered like the native routes.
import { beforeEach, describe, expect, it } from "vitest";
import { api, bearer, createKey, eventually, mockControl, newUser, upstreamRequests, usageOf } from "../helpers/api";
import { expectMockAudio, readSse } from "../helpers/provider-cases";

beforeEach(async () => {
  await mockControl("/reset", { method: "POST" });
});

const ADA = {
  name: "Ada",
  systemPrompt: "You are Ada, a concise receptionist.",
  firstMessage: "Hello, how can I help?",
  voiceId: "voice-ada-1",
  ttsProvider: "elevenlabs",
  ttsModel: "eleven_multilingual_v2",
  llmProvider: "anthropic",
  llmModel: "claude-sonnet-4-20250514",
  language: "en",
  temperature: 0.3,
  maxTokens: 200,
  metadata: { team: "front-desk", tags: ["a", "b"] },
};

async function createAgent(auth: Record<string, string>, body: Record<string, unknown> = ADA) {
  const res = await api("/v1/agents", { method: "POST", headers: auth, json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as any).agent;
}

const say = (content: string) => ({ messages: [{ role: "user", content }] });

describe("agent CRUD", () => {
  it("create 201, get, list newest first, partial PUT (null clears), delete", async () => {
    const u = await newUser({ plan: "pro" });
    const auth = bearer(u.jwt);
    const ada = await createAgent(auth);
    expect(ada).toMatchObject({ ...ADA, id: expect.stringMatching(/^agt_/) });
    expect(Date.parse(ada.createdAt)).toBeGreaterThan(0);
    expect(ada.updatedAt).toBe(ada.createdAt);
    const bare = await createAgent(auth, { name: "Bare" });
    expect(bare).toMatchObject({ name: "Bare", systemPrompt: null, ttsProvider: null, temperature: null, metadata: null });

    const got = await api(`/v1/agents/${ada.id}`, { headers: auth });
    expect(got.status).toBe(200);
    expect(((await got.json()) as any).agent).toEqual(ada);

    const list = (await (await api("/v1/agents", { headers: auth })).json()) as any;
    expect(list.success).toBe(true);
    expect(list.agents.map((a: any) => a.id)).toEqual([bare.id, ada.id]);

    const put = await api(`/v1/agents/${ada.id}`, {
      method: "PUT",
      headers: auth,
      json: { name: "Ada II", voiceId: null, ttsProvider: "fish-audio" },
    });
    expect(put.status, await put.clone().text()).toBe(200);
    const updated = ((await put.json()) as any).agent;
    expect(updated).toMatchObject({
      name: "Ada II",
      voiceId: null,
      ttsProvider: "fishaudio",
      systemPrompt: ADA.systemPrompt,
      metadata: ADA.metadata,
    });
    expect(updated.createdAt).toBe(ada.createdAt);

    expect((await api(`/v1/agents/${ada.id}`, { method: "DELETE", headers: auth })).status).toBe(200);
    expect((await api(`/v1/agents/${ada.id}`, { headers: auth })).status).toBe(404);
    expect((await api(`/v1/agents/${ada.id}`, { method: "DELETE", headers: auth })).status).toBe(404);
    const after = (await (await api("/v1/agents", { headers: auth })).json()) as any;
    expect(after.agents.map((a: any) => a.id)).toEqual([bare.id]);
  });

  it("validation errors list the fields (create and update)", async () => {
    const u = await newUser({ plan: "pro" });
    const auth = bearer(u.jwt);
    const res = await api("/v1/agents", {
      method: "POST",
      headers: auth,
      json: {
        name: "",
        systemPrompt: "x".repeat(10_001),
        temperature: 2.5,
        maxTokens: 16_385,
        ttsProvider: "anthropic",
        llmProvider: "deepgram",
      },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.fields.map((f: any) => f.path).sort()).toEqual([
      "llmProvider",
      "maxTokens",
      "name",
      "systemPrompt",
      "temperature",
      "ttsProvider",
    ]);
    expect(body.error.fields.find((f: any) => f.path === "ttsProvider").message).toContain("elevenlabs");

    const missing = await api("/v1/agents", { method: "POST", headers: auth, json: { systemPrompt: "hi" } });
    expect(((await missing.json()) as any).error.fields.map((f: any) => f.path)).toEqual(["name"]);
    const unknown = await api("/v1/agents", { method: "POST", headers: auth, json: { name: "x", llmProvider: "nope", maxTokens: 0 } });
    expect(((await unknown.json()) as any).error.fields.map((f: any) => f.path).sort()).toEqual(["llmProvider", "maxTokens"]);

    // Bounds are inclusive.
    await createAgent(auth, { name: "x".repeat(100), systemPrompt: "y".repeat(10_000), temperature: 2, maxTokens: 16_384 });

    const ada = await createAgent(auth);
    const put = await api(`/v1/agents/${ada.id}`, { method: "PUT", headers: auth, json: { name: null, temperature: -0.1 } });
    expect(put.status).toBe(400);
    expect(((await put.json()) as any).error.fields.map((f: any) => f.path).sort()).toEqual(["name", "temperature"]);
    expect(((await (await api(`/v1/agents/${ada.id}`, { headers: auth })).json()) as any).agent.temperature).toBe(ADA.temperature);
  });

  it("a speech model its provider cannot be asked for is refused when stored, not at every speak (an audit)", async () => {
    const u = await newUser({ plan: "pro" });
    const auth = bearer(u.jwt);
    const bad = await api("/v1/agents", {
      method: "POST",
      headers: auth,
      json: { name: "hf", ttsProvider: "huggingface", ttsModel: "x/a/b" },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.fields).toEqual([{ path: "ttsModel", message: expect.stringMatching(/not a model id/) }]);
    const ok = await createAgent(auth, { name: "hf", ttsProvider: "huggingface", ttsModel: "facebook/mms-tts-eng" });
    const put = await api(`/v1/agents/${ok.id}`, { method: "PUT", headers: auth, json: { ttsProvider: "huggingface", ttsModel: "a/b/c" } });
    expect(put.status).toBe(400);
    expect(((await (await api(`/v1/agents/${ok.id}`, { headers: auth })).json()) as any).agent.ttsModel).toBe("facebook/mms-tts-eng");
  });

  it("a PUT naming only one of ttsProvider and ttsModel is checked with the other as stored (a change audit)", async () => {
    const u = await newUser({ plan: "pro" });
    const auth = bearer(u.jwt);
    const hf = await createAgent(auth, { name: "hf", ttsProvider: "huggingface", ttsModel: "facebook/mms-tts-eng" });
    const model = await api(`/v1/agents/${hf.id}`, { method: "PUT", headers: auth, json: { ttsModel: "a/b/c" } });
    expect(model.status).toBe(400);
    expect(((await model.json()) as any).error.fields).toEqual([{ path: "ttsModel", message: expect.stringMatching(/not a model id/) }]);
    const el = await createAgent(auth, { name: "el", ttsProvider: "elevenlabs", ttsModel: "a/b/c" });
    expect((await api(`/v1/agents/${el.id}`, { method: "PUT", headers: auth, json: { ttsProvider: "huggingface" } })).status).toBe(400);
    expect(((await (await api(`/v1/agents/${el.id}`, { headers: auth })).json()) as any).agent.ttsProvider).toBe("elevenlabs");
  });

  it("what GET answered can be PUT back as it is: the agent's read-only fields are accepted and ignored (a change audit)", async () => {
    const u = await newUser({ plan: "pro" });
    const auth = bearer(u.jwt);
    const ada = await createAgent(auth);
    const put = await api(`/v1/agents/${ada.id}`, { method: "PUT", headers: auth, json: { ...ada, name: "Ada 2" } });
    expect(put.status, await put.clone().text()).toBe(200);
    const after = ((await put.json()) as any).agent;
    expect(after).toMatchObject({ id: ada.id, name: "Ada 2", createdAt: ada.createdAt, systemPrompt: ADA.systemPrompt });
  });

  it("a name that is empty after trimming is refused, naming the field (create and update); names are stored trimmed", async () => {
    const u = await newUser({ plan: "pro" });
    const auth = bearer(u.jwt);
    for (const name of [" ", "\t\n  "]) {
      const res = await api("/v1/agents", { method: "POST", headers: auth, json: { name } });
      expect(res.status, JSON.stringify(name)).toBe(400);
      const body = (await res.json()) as any;
      expect(body.error.code).toBe("validation_failed");
      expect(body.error.fields.map((f: any) => f.path)).toEqual(["name"]);
    }
    expect(((await (await api("/v1/agents", { headers: auth })).json()) as any).agents).toEqual([]);
    const agent = await createAgent(auth, { name: "  Front desk " });
    expect(agent.name).toBe("Front desk");
    const blank = await api(`/v1/agents/${agent.id}`, { method: "PUT", headers: auth, json: { name: "   " } });
    expect(blank.status).toBe(400);
    expect(((await blank.json()) as any).error.fields.map((f: any) => f.path)).toEqual(["name"]);
    const renamed = await api(`/v1/agents/${agent.id}`, { method: "PUT", headers: auth, json: { name: " Night desk" } });
    expect(((await renamed.json()) as any).agent.name).toBe("Night desk");
  });

  it("another user's agent is a 404 on every route, and stays untouched", async () => {
    const owner = await newUser({ plan: "pro" });
    const other = await newUser({ plan: "pro" });
    const ada = await createAgent(bearer(owner.jwt));
    const o = bearer(other.jwt);
    const calls: [string, string, unknown?][] = [
      ["GET", ""],
      ["PUT", "", { name: "stolen" }],
      ["DELETE", ""],
      ["POST", "/chat", say("hi")],
      ["POST", "/speak", { text: "hi" }],
    ];
    for (const [method, suffix, json] of calls) {
      const res = await api(`/v1/agents/${ada.id}${suffix}`, { method, headers: o, json });
      expect(res.status, `${method} ${suffix}`).toBe(404);
      expect(((await res.json()) as any).error.code).toBe("not_found");
    }
    expect(((await (await api("/v1/agents", { headers: o })).json()) as any).agents).toEqual([]);
    const mine = (await (await api(`/v1/agents/${ada.id}`, { headers: bearer(owner.jwt) })).json()) as any;
    expect(mine.agent.name).toBe("Ada");
    expect(await upstreamRequests("anthropic")).toHaveLength(0);
    expect(await upstreamRequests("elevenlabs")).toHaveLength(0);
  });

  it("needs credentials; a revoked key gets 401, not 404", async () => {
    expect((await api("/v1/agents")).status).toBe(401);
    const u = await newUser({ plan: "pro" });
    const { key, id } = await createKey(u.jwt);
    expect((await api(`/v1/agents/agt_nope/chat`, { method: "POST", headers: bearer(key), json: say("x") })).status).toBe(404);
    await api(`/v1/keys/${id}`, { method: "DELETE", headers: bearer(u.jwt) });
    expect((await api(`/v1/agents/agt_nope/chat`, { method: "POST", headers: bearer(key), json: say("x") })).status).toBe(401);
  });
});

describe("agent chat and speak", () => {
  it("chat: the agent's system prompt, model, temperature and maxTokens reach the provider; answered like /v1/chat", async () => {
    const u = await newUser({ plan: "pro" });
    const ada = await createAgent(bearer(u.jwt));
    const res = await api(`/v1/agents/${ada.id}/chat`, { method: "POST", headers: bearer(u.jwt), json: say("where is the lift") });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get("x-provider-used")).toBe("anthropic");
    const body = (await res.json()) as any;
    expect(body).toMatchObject({
      success: true,
      provider: "anthropic",
      model: ADA.llmModel,
      message: { role: "assistant", content: "Echo: where is the lift" },
    });
    const [req] = await upstreamRequests("anthropic");
    expect(req.specErrors).toEqual([]);
    expect(req.body).toMatchObject({ model: ADA.llmModel, system: ADA.systemPrompt, temperature: 0.3, max_tokens: 200 });
    expect(req.body.messages).toEqual([{ role: "user", content: "where is the lift" }]);

    // Metered like /v1/chat: the provider's token usage at claude-sonnet-4's price.
    const usage = await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 1,
    );
    expect(usage.breakdown.llm).toBe((body.usage.inputTokens * 6 + body.usage.outputTokens * 30) / 1000);
  });

  it("chat on an OpenAI agent streams delta events; no llmModel means the provider's default model", async () => {
    const u = await newUser({ plan: "pro" });
    const agent = await createAgent(bearer(u.jwt), {
      name: "Streamer",
      systemPrompt: "Be brief.",
      llmProvider: "openai",
      temperature: 1.5,
    });
    const res = await api(`/v1/agents/${agent.id}/chat`, {
      method: "POST",
      headers: bearer(u.jwt),
      json: { ...say("four words right here"), stream: true },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = await readSse(res);
    expect(
      events
        .filter((e) => e.type === "delta")
        .map((e) => e.text)
        .join(""),
    ).toBe("Echo: four words right here");
    expect(events.at(-1)).toMatchObject({ type: "done", usage: { outputTokens: 5 } });
    const [req] = await upstreamRequests("openai");
    expect(req.body).toMatchObject({ model: "gpt-4.1-mini", temperature: 1.5, stream: true });
    expect(req.body.messages[0]).toEqual({ role: "system", content: "Be brief." });
    const usage = await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 1,
    );
    expect(usage.breakdown.llm).toBeGreaterThan(0);
  });

  it("speak: the agent's TTS provider, model and voice; audio bytes; metered like /v1/synthesize", async () => {
    const u = await newUser({ plan: "pro" });
    const ada = await createAgent(bearer(u.jwt));
    const text = "a".repeat(100);
    const res = await api(`/v1/agents/${ada.id}/speak`, { method: "POST", headers: bearer(u.jwt), json: { text } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expect(res.headers.get("x-provider-used")).toBe("elevenlabs");
    expectMockAudio(new Uint8Array(await res.arrayBuffer()), text);
    const [req] = await upstreamRequests("elevenlabs");
    expect(req.path).toBe(`/v1/text-to-speech/${ADA.voiceId}/stream`);
    expect(req.body).toEqual({ text, model_id: ADA.ttsModel });
    expect(req.specErrors).toEqual([]);
    // 100 characters on ElevenLabs with a JWT: 16.6 credits, as on /v1/synthesize.
    const usage = await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 1,
    );
    expect(usage.breakdown.tts).toBe(16.6);

    const wav = await api(`/v1/agents/${ada.id}/speak`, { method: "POST", headers: bearer(u.jwt), json: { text: "hi", format: "pcm" } });
    expect(wav.headers.get("content-type")).toBe("audio/pcm");
    await wav.arrayBuffer();
    const bad = await api(`/v1/agents/${ada.id}/speak`, { method: "POST", headers: bearer(u.jwt), json: { text: "", format: "wma" } });
    expect(((await bad.json()) as any).error.fields.map((f: any) => f.path).sort()).toEqual(["format", "text"]);
  });

  it("speak takes sampleRate as /v1/synthesize does: 8 kHz pcm is a third of 24 kHz's bytes; a rate no plan serves is 400", async () => {
    const u = await newUser({ plan: "pro" });
    const ada = await createAgent(bearer(u.jwt));
    const speak = (json: Record<string, unknown>) => api(`/v1/agents/${ada.id}/speak`, { method: "POST", headers: bearer(u.jwt), json });
    const at24 = await speak({ text: "hello there", format: "pcm", sampleRate: 24000 });
    const at8 = await speak({ text: "hello there", format: "pcm", sampleRate: 8000 });
    expect([at24.status, at8.status]).toEqual([200, 200]);
    const [big, small] = [(await at24.arrayBuffer()).byteLength, (await at8.arrayBuffer()).byteLength];
    expect(small).toBeGreaterThan(0);
    expect(Math.abs(big / small - 3)).toBeLessThan(0.05);
    const odd = await speak({ text: "hello there", format: "pcm", sampleRate: 12345 });
    expect(odd.status).toBe(400);
    expect(((await odd.json()) as any).error.code).toBe("unsupported_format");
  });

  it("BYOK bypasses metering; an API key pays the discounted speech price", async () => {
    const u = await newUser({ plan: "pro" });
    const { key } = await createKey(u.jwt);
    const ada = await createAgent(bearer(key));
    const chat = await api(`/v1/agents/${ada.id}/chat`, {
      method: "POST",
      headers: { ...bearer(key), "x-provider-key-anthropic": "byok-anthropic-key" },
      json: say("hi"),
    });
    expect(chat.status).toBe(200);
    expect(chat.headers.get("x-usage-bypassed")).toBe("true");
    await chat.json();
    const speak = await api(`/v1/agents/${ada.id}/speak`, {
      method: "POST",
      headers: { ...bearer(key), "x-provider-key-elevenlabs": "byok-eleven-key" },
      json: { text: "bypass" },
    });
    expect(speak.headers.get("x-usage-bypassed")).toBe("true");
    await speak.arrayBuffer();
    expect((await upstreamRequests("anthropic"))[0].headers["x-api-key"]).toBe("byok-anthropic-key");
    expect((await upstreamRequests("elevenlabs"))[0].headers["xi-api-key"]).toBe("byok-eleven-key");

    const metered = await api(`/v1/agents/${ada.id}/speak`, { method: "POST", headers: bearer(key), json: { text: "a".repeat(100) } });
    expect(metered.headers.get("x-usage-bypassed")).toBe("false");
    await metered.arrayBuffer();
    const usage = await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 1,
    );
    expect(usage.credits.used).toBe(14.94);
    expect(usage.breakdown.llm).toBe(0);
  });

  it("Idempotency-Key on agent chat: a retry replays the answer and is charged once", async () => {
    const u = await newUser({ plan: "pro" });
    const ada = await createAgent(bearer(u.jwt));
    const send = () =>
      api(`/v1/agents/${ada.id}/chat`, {
        method: "POST",
        headers: { ...bearer(u.jwt), "idempotency-key": `agent-${ada.id}` },
        json: say("once only"),
      });
    const first = (await (await send()).json()) as any;
    await eventually(
      () => usageOf(u.jwt),
      (b) => b.requestCount === 1,
    );
    const retry = await send();
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await retry.json()).toEqual(first);
    expect(await upstreamRequests("anthropic")).toHaveLength(1);
    expect((await usageOf(u.jwt)).requestCount).toBe(1);
  });
});
