// What an audit found the worker answering differently from what it says (API.md §8, /openapi.json):
// misspelt fields ignored on JSON bodies, 413/415 and the real 200 content types missing from the document,
// and Content-Types with an empty parameter (RFC 9110 §5.6.6) refused by the route validator's own pattern.
import { beforeAll, describe, expect, it } from "vitest";
import { call, type TestAccount, userOn } from "../helpers/reliability";

const auth = (u: TestAccount) => ({ authorization: `Bearer ${u.jwt}` });

let user: TestAccount;
beforeAll(async () => {
  user = await userOn("pro");
});

async function errorOf(res: Response) {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

describe("a misspelt field in a JSON body is refused (400 validation_failed naming it), never ignored", () => {
  it("every native body: agents, agent chat/speak, webhooks, provider keys, synthesize, chat, transcribe", async () => {
    const agent = await call("/v1/agents", { method: "POST", headers: auth(user), json: { name: "support" } });
    expect(agent.status).toBe(201);
    const id = ((await agent.json()) as any).agent.id as string;
    const cases: [string, string, Record<string, unknown>, string][] = [
      ["POST", "/v1/agents", { name: "support", sytemPrompt: "Be brief." }, "sytemPrompt"],
      ["PUT", `/v1/agents/${id}`, { sytemPrompt: "x" }, "sytemPrompt"],
      ["POST", `/v1/agents/${id}/chat`, { messages: [{ role: "user", content: "hi" }], stram: true }, "stram"],
      ["POST", `/v1/agents/${id}/speak`, { text: "hi", fromat: "wav" }, "fromat"],
      ["POST", "/v1/webhooks", { url: "https://example.com/hook", events: ["key.created"], descripton: "typo" }, "descripton"],
      ["POST", "/v1/provider-keys", { provider: "openai", apiKey: "sk-test-0123456789abcdef", x: 1 }, "x"],
      ["POST", "/v1/synthesize", { text: "hi", voice_id: "x", fromat: "wav" }, "fromat"],
      ["POST", "/v1/chat", { model: "gpt-4.1-mini", messages: [{ role: "user", content: "hi" }], max_tokens: 5 }, "max_tokens"],
      ["POST", "/v1/transcribe", { audioUrl: "https://example.com/a.wav", langauge: "en" }, "langauge"],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await call(path, { method, headers: auth(user), json: body });
      const what = `${method} ${path}`;
      expect(res.status, what).toBe(400);
      const error = await errorOf(res);
      expect(error.code, what).toBe("validation_failed");
      expect(error.message, what).toContain(field);
      // Named at its own path, one entry per unknown field (API.md §8: "list the fields").
      expect(
        (error as any).fields.map((f: any) => f.path),
        what,
      ).toContain(field);
    }
  });

  it("a chat message's own fields are as before: only the top level is strict", async () => {
    const res = await call("/v1/chat", {
      method: "POST",
      headers: auth(user),
      json: { model: "gpt-4.1-mini", messages: [{ role: "user", content: "hi", name: "alice" }], maxTokens: 5 },
    });
    expect(res.status).not.toBe(400);
  });

  it("a refused PUT changes nothing (updatedAt included); a refused synthesize costs nothing", async () => {
    const created = await call("/v1/agents", { method: "POST", headers: auth(user), json: { name: "keeper", systemPrompt: "A" } });
    const before = ((await created.json()) as any).agent;
    await new Promise((r) => setTimeout(r, 5)); // a write would stamp a later updatedAt
    const put = await call(`/v1/agents/${before.id}`, { method: "PUT", headers: auth(user), json: { sytemPrompt: "B" } });
    expect(put.status).toBe(400);
    const after = ((await (await call(`/v1/agents/${before.id}`, { headers: auth(user) })).json()) as any).agent;
    expect(after).toEqual(before);

    const usage = async () => {
      const u = (await (await call("/v1/usage", { headers: auth(user) })).json()) as any;
      const { requestId: _, ...rest } = u;
      return rest;
    };
    const spent = await usage();
    const res = await call("/v1/synthesize", { method: "POST", headers: auth(user), json: { text: "hi", voice_id: "x", fromat: "wav" } });
    expect(res.status).toBe(400);
    expect(await usage()).toEqual(spent);
  });
});

describe("/openapi.json describes what the worker answers", () => {
  let doc: any;
  beforeAll(async () => {
    doc = await (await call("/openapi.json")).json();
  });

  it("every POST, PUT and PATCH documents 413 and 415 (the envelope checks each one's body)", () => {
    const named = [
      "post /v1/keys",
      "patch /v1/keys/{id}",
      "post /v1/keys/{id}/rotate",
      "post /api/v1/user/api-keys",
      "post /v1/realtime/tokens",
      "post /v1/provider-keys/{provider}/verify",
      "post /v1/webhooks",
      "post /v1/webhooks/{id}/test",
      "post /portal/api/keys",
      "patch /api/admin/users/{id}",
      "post /api/admin/users/{id}/credits",
    ];
    const missing: string[] = [];
    let bodies = 0;
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        if (!["post", "put", "patch"].includes(method)) continue;
        if (op.requestBody?.content?.["application/json"]) bodies++;
        for (const status of ["413", "415"]) if (!op.responses[status]) missing.push(`${method} ${path} ${status}`);
      }
    }
    expect(bodies).toBeGreaterThan(10);
    for (const op of named) {
      const [method, path] = op.split(" ") as [string, string];
      expect(doc.paths[path]?.[method], op).toBeDefined();
    }
    expect(missing).toEqual([]);
  });

  it("speech routes list every audio Content-Type they answer; chat routes JSON and text/event-stream", () => {
    const types = (path: string) => Object.keys(doc.paths[path].post.responses["200"].content).sort();
    const everyFormat = [
      "audio/aac",
      "audio/basic",
      "audio/flac",
      "audio/mpeg",
      "audio/ogg",
      "audio/pcm",
      "audio/wav",
      "audio/x-alaw-basic",
    ];
    expect(types("/v1/synthesize")).toEqual([...everyFormat, "audio/x-mulaw"].sort());
    expect(types("/v1/agents/{id}/speak")).toEqual([...everyFormat, "audio/x-mulaw"].sort());
    expect(types("/v1/audio/speech")).toEqual(everyFormat); // no sampleRate there: µ-law is 8 kHz audio/basic
    expect(types("/v1/chat")).toEqual(["application/json", "text/event-stream"]);
    expect(types("/v1/agents/{id}/chat")).toEqual(["application/json", "text/event-stream"]);
  });
});

describe("Content-Type: the route validator accepts what the envelope accepts", () => {
  it("an empty parameter or a space before ';' is application/json; a wrong type is still 415", async () => {
    for (const type of ["application/json;", "application/json ;", "application/json;;charset=utf-8", "Application/JSON ; charset=UTF-8"]) {
      const key = await call("/v1/keys", { method: "POST", headers: { ...auth(user), "content-type": type }, body: '{"name":"ct"}' });
      expect(key.status, type).toBe(201);
      expect(((await key.json()) as any).apiKey.name, type).toBe("ct");
      // Validated as JSON (a missing model is the validator's 400, not a 415).
      const chat = await call("/v1/chat", { method: "POST", headers: { ...auth(user), "content-type": type }, body: '{"messages":[]}' });
      expect(chat.status, type).toBe(400);
      expect((await errorOf(chat)).code, type).toBe("validation_failed");
    }
    for (const type of ["text/plain", "application/jsonx", "application/json-patch"]) {
      const res = await call("/v1/keys", { method: "POST", headers: { ...auth(user), "content-type": type }, body: '{"name":"ct"}' });
      expect(res.status, type).toBe(415);
    }
  });

  it("/v1/audio/transcriptions with no body: its 415 names multipart only", async () => {
    const res = await call("/v1/audio/transcriptions", { method: "POST", headers: auth(user) });
    expect(res.status).toBe(415);
    const { message } = await errorOf(res);
    expect(message).toBe("Send multipart/form-data (file, model and the other fields), as OpenAI's API takes it.");
    const native = await call("/v1/transcribe", { method: "POST", headers: auth(user) });
    expect(native.status).toBe(415);
    expect((await errorOf(native)).message).toBe(
      "Send multipart/form-data, the audio bytes (audio/*), or application/json with an audioUrl.",
    );
  });
});
