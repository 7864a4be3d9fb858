// Agents and failover, from the agents audit: a request-level `fallback` on agent chat/speak (API.md §4.2),
// fallback entries that cannot serve the asked speech format drop out of the chain instead of vetoing it
// (§4.1), and metadata keys a JS object cannot hold as data are refused rather than silently lost.
import { describe, expect, it } from "vitest";
import { env } from "../helpers/env";
import { call, fault, userOn } from "../helpers/reliability";

const auth = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const nonce = () => `n${crypto.randomUUID().replaceAll("-", "")}`;

async function requestsTo(provider: string, marker: string): Promise<any[]> {
  const all = (await (await fetch(`${env.TEST_MOCK_ORIGIN}/__control/requests?provider=${provider}`)).json()) as any[];
  return all.filter((r) => JSON.stringify(r.body ?? "").includes(marker));
}

async function agentOf(jwt: string, body: Record<string, unknown>) {
  const res = await call("/v1/agents", { method: "POST", headers: auth(jwt), json: { name: "A", ...body } });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as any).agent;
}

const post = (path: string, jwt: string, json: unknown) => call(path, { method: "POST", headers: auth(jwt), json });

describe("agent chat and speak: a request's fallback", () => {
  it("replaces the stored fallback for that request (speak and chat)", async () => {
    const u = await userOn("pro");
    const ag = await agentOf(u.jwt, { ttsProvider: "elevenlabs", llmProvider: "anthropic", fallback: ["fishaudio", "groq"] });
    let m = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: m, mode: "error", status: 503 });
    const speak = await post(`/v1/agents/${ag.id}/speak`, u.jwt, { text: `hello ${m}`, fallback: ["cartesia"] });
    await speak.arrayBuffer();
    expect([speak.status, speak.headers.get("x-provider-attempts")]).toEqual([200, "elevenlabs=503, cartesia=200"]);
    expect(await requestsTo("fishaudio", m)).toHaveLength(0); // the stored entry was not used

    m = nonce();
    await fault({ provider: "anthropic", bodyIncludes: m, mode: "error", status: 503 });
    const chat = await post(`/v1/agents/${ag.id}/chat`, u.jwt, {
      messages: [{ role: "user", content: `hi ${m}` }],
      fallback: [{ provider: "openai", model: "gpt-4.1-mini" }],
    });
    const body = (await chat.json()) as any;
    expect([chat.status, chat.headers.get("x-provider-attempts"), body.model]).toEqual([200, "anthropic=503, openai=200", "gpt-4.1-mini"]);
    expect(await requestsTo("groq", m)).toHaveLength(0);
  });

  it("[] means no fallback for this request; without one the stored list still applies", async () => {
    const u = await userOn("pro");
    const ag = await agentOf(u.jwt, { ttsProvider: "elevenlabs", fallback: ["cartesia"] });
    let m = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: m, mode: "error", status: 503 });
    const none = await post(`/v1/agents/${ag.id}/speak`, u.jwt, { text: `a ${m}`, fallback: [] });
    expect([none.status, none.headers.get("x-provider-attempts")]).toEqual([502, "elevenlabs=503"]);
    await none.text();
    m = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: m, mode: "error", status: 503 });
    const stored = await post(`/v1/agents/${ag.id}/speak`, u.jwt, { text: `b ${m}` });
    await stored.arrayBuffer();
    expect([stored.status, stored.headers.get("x-provider-attempts")]).toEqual([200, "elevenlabs=503, cartesia=200"]);
  });

  it("is validated like /v1/chat's and /v1/synthesize's; the OpenAPI document says it replaces the stored one", async () => {
    const u = await userOn("pro");
    const ag = await agentOf(u.jwt, { ttsProvider: "elevenlabs", llmProvider: "anthropic" });
    const tooMany = await post(`/v1/agents/${ag.id}/chat`, u.jwt, {
      messages: [{ role: "user", content: "x" }],
      fallback: Array(5).fill("openai"),
    });
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as any).error.fields.map((f: any) => f.path)).toEqual(["fallback"]);
    const unknown = await post(`/v1/agents/${ag.id}/speak`, u.jwt, { text: "x", fallback: ["nope"] });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as any).error.code).toBe("unknown_provider");

    const doc = (await (await call("/openapi.json")).json()) as any;
    for (const name of ["AgentChatRequest", "AgentSpeakRequest"]) {
      expect(doc.components.schemas[name].properties.fallback.description, name).toContain("replaces the agent's stored fallback");
    }
  });
});

describe("a fallback entry that cannot serve the asked format", () => {
  it("drops out of the chain: the first provider serves (opus via elevenlabs, cartesia after it)", async () => {
    const u = await userOn("pro");
    const plain = await post("/v1/synthesize", u.jwt, { provider: "elevenlabs", text: "yo", format: "opus", fallback: ["cartesia"] });
    await plain.arrayBuffer();
    expect([plain.status, plain.headers.get("x-provider-attempts")]).toEqual([200, "elevenlabs=200"]);

    const ag = await agentOf(u.jwt, { ttsProvider: "elevenlabs", fallback: ["cartesia"] });
    const speak = await post(`/v1/agents/${ag.id}/speak`, u.jwt, { text: "yo", format: "opus" });
    await speak.arrayBuffer();
    expect([speak.status, speak.headers.get("x-provider-attempts")]).toEqual([200, "elevenlabs=200"]);
  });

  it("is not tried (nor listed) when the first fails; a later entry that can serve still does", async () => {
    const u = await userOn("pro");
    let m = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: m, mode: "error", status: 503 });
    const chained = await post("/v1/synthesize", u.jwt, {
      provider: "elevenlabs",
      text: m,
      format: "opus",
      fallback: ["cartesia", "openai"],
    });
    await chained.arrayBuffer();
    expect([chained.status, chained.headers.get("x-provider-attempts")]).toEqual([200, "elevenlabs=503, openai=200"]);
    expect(await requestsTo("cartesia", m)).toHaveLength(0);

    m = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: m, mode: "error", status: 503 });
    const alone = await post("/v1/synthesize", u.jwt, { provider: "elevenlabs", text: m, format: "opus", fallback: ["cartesia"] });
    expect([alone.status, alone.headers.get("x-provider-attempts")]).toEqual([502, "elevenlabs=503"]);
    await alone.text();
  });

  it("the request's own provider still gets 400 unsupported_format, whatever its fallbacks serve", async () => {
    const u = await userOn("pro");
    const res = await post("/v1/synthesize", u.jwt, { provider: "cartesia", text: "yo", format: "opus", fallback: ["elevenlabs"] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatchObject({ code: "unsupported_format", provider: "cartesia", format: "opus" });
  });
});

describe("agent metadata keys", () => {
  it("__proto__, constructor and prototype are refused at any depth, naming the field (create and update)", async () => {
    const u = await userOn("pro");
    const raw = (body: string, method = "POST", path = "/v1/agents") =>
      call(path, { method, headers: { ...auth(u.jwt), "content-type": "application/json" }, body });
    const top = await raw('{"name":"p","metadata":{"__proto__":{"x":1},"k":1}}');
    expect(top.status).toBe(400);
    const err = ((await top.json()) as any).error;
    expect(err.code).toBe("validation_failed");
    expect(err.fields.map((f: any) => f.path)).toEqual(["metadata.__proto__"]);

    const nested = await raw('{"name":"p","metadata":{"a":[{"constructor":1}],"b":{"c":{"prototype":2}}}}');
    expect(nested.status).toBe(400);
    expect((((await nested.json()) as any).error.fields.map((f: any) => f.path) as string[]).sort()).toEqual([
      "metadata.a.0.constructor",
      "metadata.b.c.prototype",
    ]);

    const ag = await agentOf(u.jwt, { metadata: { k: 1, nested: { list: ["__proto__"] } } }); // as a value it is plain data
    expect(ag.metadata).toEqual({ k: 1, nested: { list: ["__proto__"] } });
    const put = await raw('{"metadata":{"__proto__":{"x":1}}}', "PUT", `/v1/agents/${ag.id}`);
    expect(put.status).toBe(400);
    const kept = (await (await call(`/v1/agents/${ag.id}`, { headers: auth(u.jwt) })).json()) as any;
    expect(kept.agent.metadata).toEqual({ k: 1, nested: { list: ["__proto__"] } });
    // The raw-body check (a preprocess) leaves the documented shape an object.
    const doc = (await (await call("/openapi.json")).json()) as any;
    expect(JSON.stringify(doc.components.schemas.CreateAgent.properties.metadata)).toContain('"object"');
  });

  it("a metadata nested as deep as a 1 MiB body allows is checked in linear time: 400 at once, not minutes of CPU", async () => {
    const u = await userOn("pro");
    const depth = 150_000; // 300 KB of brackets; the walk used to copy the path at every level (~1 min here)
    const started = Date.now();
    const res = await call("/v1/agents", {
      method: "POST",
      headers: { ...auth(u.jwt), "content-type": "application/json" },
      body: `{"name":"deep","metadata":{"a":${"[".repeat(depth)}${"]".repeat(depth)}}}`,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.fields.map((f: any) => f.path)).toEqual(["metadata"]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
