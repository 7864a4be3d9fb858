// A fallback list that names a provider (and model, and voice for speech) already in the chain — the
// request's own provider, or an earlier entry — tries it once (API.md §4.2): the duplicate is dropped, the
// first place kept. Not a 400: an agent's one stored list serves speak and chat, so its speech fallback
// may well be its chat provider, and `models` on /v1/chat/completions conventionally repeats the model.
import { describe, expect, it } from "vitest";
import { env } from "../helpers/env";
import { call, fault, userOn } from "../helpers/reliability";

const auth = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const nonce = () => `n${crypto.randomUUID().replaceAll("-", "")}`;

async function requestsTo(provider: string, marker: string): Promise<any[]> {
  const all = (await (await fetch(`${env.TEST_MOCK_ORIGIN}/__control/requests?provider=${provider}`)).json()) as any[];
  return all.filter((r) => JSON.stringify(r.body ?? "").includes(marker));
}

describe("duplicate fallback entries are tried once", () => {
  it("chat: the request's own provider and model again (by id, with the model, or as its default) is not tried twice", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "error", status: 503 });
    const res = await call("/v1/chat", {
      method: "POST",
      headers: auth(user.jwt),
      json: {
        provider: "openai",
        model: "gpt-4.1-mini", // OpenAI's default model: "openai" alone names the same
        messages: [{ role: "user", content: marker }],
        fallback: ["openai", { provider: "openai", model: "gpt-4.1-mini" }, "anthropic", { provider: "anthropic" }],
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("openai=503, anthropic=200");
    expect(await requestsTo("openai", marker)).toHaveLength(1);
  });

  it("chat: the same provider with another model is another entry, tried (guard)", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "openai", bodyIncludes: marker, mode: "error", status: 503 });
    const res = await call("/v1/chat", {
      method: "POST",
      headers: auth(user.jwt),
      json: {
        provider: "openai",
        model: "gpt-4.1-mini",
        messages: [{ role: "user", content: marker }],
        fallback: [{ provider: "openai", model: "gpt-4.1" }],
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("openai=503, openai=200");
    expect((await requestsTo("openai", marker)).map((r) => r.body.model)).toEqual(["gpt-4.1-mini", "gpt-4.1"]);
  });

  it("an agent's stored list naming its own speech provider (and one entry twice): each tried once", async () => {
    const user = await userOn("pro");
    const created = await call("/v1/agents", {
      method: "POST",
      headers: auth(user.jwt),
      json: { name: "dupes", ttsProvider: "elevenlabs", llmProvider: "openai", fallback: ["elevenlabs", "cartesia", "cartesia"] },
    });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as any).agent.id;
    const marker = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: marker, mode: "error", status: 503 });
    await fault({ provider: "cartesia", bodyIncludes: marker, mode: "error", status: 503 });
    const res = await call(`/v1/agents/${id}/speak`, { method: "POST", headers: auth(user.jwt), json: { text: marker } });
    expect(res.status).toBe(502);
    expect(res.headers.get("x-provider-attempts")).toBe("elevenlabs=503, cartesia=503");
    expect(await requestsTo("elevenlabs", marker)).toHaveLength(1);
    expect(await requestsTo("cartesia", marker)).toHaveLength(1);
  });

  it("speech: the same provider with another voice is another entry, tried (guard)", async () => {
    const user = await userOn("pro");
    const marker = nonce();
    await fault({ provider: "cartesia", bodyIncludes: marker, mode: "error", status: 503 });
    const res = await call("/v1/synthesize", {
      method: "POST",
      headers: auth(user.jwt),
      json: { provider: "cartesia", voiceId: "voice-a", text: marker, fallback: [{ provider: "cartesia", voiceId: "voice-b" }] },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-provider-attempts")).toBe("cartesia=503, cartesia=200");
    await res.arrayBuffer();
  });
});
