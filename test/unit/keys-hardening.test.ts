// API keys and provider keys at their edges (API.md §1–§3, §8): a refused request writes no lastUsedAt
// (a failed request changes no state); an empty X-API-Key is no credential; an id that cannot exist is
// simply not found; a provider key too short to show part of is refused, and never shown whole.
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { BASE } from "../helpers/api";
import { env } from "../helpers/env";
import { backgroundDone, call, keyOf, sleep, userOn } from "../helpers/reliability";

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function lastUsedOf(keyId: string): Promise<number | null> {
  const row = await env.DB.prepare("SELECT last_used_at FROM api_keys WHERE id = ?").bind(keyId).first<{ last_used_at: number | null }>();
  return row?.last_used_at ?? null;
}

async function codeOf(res: Response): Promise<string> {
  return ((await res.json()) as any).error?.code;
}

describe("lastUsedAt: written only for a request the Account object admitted", () => {
  it("a revoked, rotated-out or out-of-scope key's refused request leaves it null; an admitted one writes it", async () => {
    const u = await userOn("pro");
    const revoked = await keyOf(u);
    expect((await call(`/v1/keys/${revoked.id}`, { method: "DELETE", headers: auth(u.jwt) })).status).toBe(200);
    const rotated = await keyOf(u);
    expect((await call(`/v1/keys/${rotated.id}/rotate`, { method: "POST", headers: auth(u.jwt) })).status).toBe(201);
    const ttsOnly = await keyOf(u, { scopes: ["tts"] });
    // Each was created through this isolate, so it is remembered as known: only admission can refuse it.
    expect((await call("/v1/me", { headers: auth(revoked.key) })).status).toBe(401);
    expect((await call("/v1/keys", { headers: { "x-api-key": rotated.key } })).status).toBe(401);
    expect((await call("/v1/keys", { headers: auth(ttsOnly.key) })).status).toBe(403);
    await backgroundDone();
    for (const k of [revoked, rotated, ttsOnly]) expect(await lastUsedOf(k.id), k.id).toBeNull();
    const listed = ((await (await call("/v1/keys", { headers: auth(u.jwt) })).json()) as any).apiKeys;
    expect(listed.every((k: any) => k.lastUsedAt === null)).toBe(true);

    expect((await call("/v1/me", { headers: auth(ttsOnly.key) })).status).toBe(200);
    await backgroundDone();
    expect(await lastUsedOf(ttsOnly.id)).toBeGreaterThan(0);
  });

  it("a realtime session opened with a key is a use of it (admitted by Account.openSession), also with the key in OpenAI's subprotocol", async () => {
    const ways = [
      { path: "/v1/realtime/listen?provider=deepgram&encoding=linear16&sampleRate=16000", headers: (k: string) => auth(k) },
      {
        path: "/v1/realtime?model=openai/gpt-realtime",
        headers: (k: string) => ({ "sec-websocket-protocol": `realtime, openai-insecure-api-key.${k}` }),
      },
    ];
    for (const way of ways) {
      const u = await userOn("pro");
      const key = await keyOf(u);
      // A WebSocket client's whole handshake (RFC 6455 §4.1): without its key and version the upgrade is refused (400/426).
      const headers = new Headers({
        ...way.headers(key.key),
        upgrade: "websocket",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
      });
      const ctx = createExecutionContext();
      const res = await worker.fetch(new Request(`${BASE}${way.path}`, { headers }), env as any, ctx);
      expect(res.status, way.path).toBe(101);
      const ws = res.webSocket as WebSocket;
      ws.accept();
      const closed = new Promise((done) => ws.addEventListener("close", done));
      ws.close(1000);
      await Promise.race([closed, sleep(3_000)]);
      let lastUsed: number | null = null;
      for (let i = 0; i < 50 && lastUsed === null; i++) {
        await sleep(20);
        lastUsed = await lastUsedOf(key.id);
      }
      expect(lastUsed, way.path).toBeGreaterThan(0);
    }
  });
});

describe("an empty header is not a credential", () => {
  it("an empty or whitespace-only X-API-Key next to a valid Bearer key or JWT is ignored (200, not 400)", async () => {
    const u = await userOn("pro");
    const { key } = await keyOf(u);
    for (const blank of ["", " ", "\t  "]) {
      for (const token of [key, u.jwt]) {
        const res = await call("/v1/me", { headers: { ...auth(token), "x-api-key": blank } });
        expect(res.status, JSON.stringify(blank)).toBe(200);
      }
      // Alone it is no credential at all: 401, as without the header.
      const alone = await call("/v1/me", { headers: { "x-api-key": blank } });
      expect(alone.status).toBe(401);
      expect(await codeOf(alone)).toBe("unauthorized");
    }
    // A different, non-empty value still conflicts.
    const other = await keyOf(u);
    expect(await codeOf(await call("/v1/me", { headers: { ...auth(key), "x-api-key": other.key } }))).toBe("conflicting_credentials");
  });
});

describe("an id that cannot exist is simply not found", () => {
  it("a 300-character id: 404 not_found on the key, agent and webhook routes (was 400 validation_failed)", async () => {
    const u = await userOn("pro");
    const long = "a".repeat(300);
    const routes: [string, string, unknown?][] = [
      ["DELETE", `/v1/keys/${long}`],
      ["POST", `/v1/keys/${long}/rotate`],
      ["PATCH", `/v1/keys/${long}`, { name: "x" }],
      ["DELETE", `/api/v1/user/api-keys/${long}`],
      ["GET", `/v1/agents/${long}`],
      ["PUT", `/v1/agents/${long}`, { name: "x" }],
      ["DELETE", `/v1/agents/${long}`],
      ["POST", `/v1/agents/${long}/chat`, { messages: [{ role: "user", content: "hi" }] }],
      ["POST", `/v1/agents/${long}/speak`, { text: "hi" }],
      ["DELETE", `/v1/webhooks/${long}`],
      ["POST", `/v1/webhooks/${long}/test`],
      ["GET", `/v1/webhooks/${long}/deliveries`],
    ];
    for (const [method, path, json] of routes) {
      const res = await call(path, { method, headers: auth(u.jwt), json });
      expect(res.status, `${method} ${path.slice(0, 20)}`).toBe(404);
      expect(await codeOf(res), `${method} ${path.slice(0, 20)}`).toBe("not_found");
    }
  });
});

describe("a provider key's secret is never shown", () => {
  it("a key under 8 characters is refused (400 validation_failed, nothing stored); 8 and up show only the last 4", async () => {
    const u = await userOn("pro");
    for (const short of ["a", "abcd", "abcdefg"]) {
      const res = await call("/v1/provider-keys", { method: "POST", headers: auth(u.jwt), json: { provider: "cartesia", apiKey: short } });
      expect(res.status, short).toBe(400);
      expect(await codeOf(res), short).toBe("validation_failed");
    }
    const list = async () => ((await (await call("/v1/provider-keys", { headers: auth(u.jwt) })).json()) as any).providerKeys;
    expect(await list()).toEqual([]);
    const ok = await call("/v1/provider-keys", {
      method: "POST",
      headers: auth(u.jwt),
      json: { provider: "cartesia", apiKey: "abcd1234" },
    });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as any).providerKey.last4).toBe("1234");
    expect((await list())[0].last4).toBe("1234");
  });

  it("a short key stored before the rule shows nothing of itself in last4", async () => {
    const u = await userOn("pro");
    // As stored before: last4 was the whole 4-character key; the sealed form is 4 bytes + the 16-byte tag.
    const sealed = btoa(String.fromCharCode(...new Uint8Array(20)));
    await env.DB.prepare(
      "INSERT INTO provider_keys (user_id, provider, ciphertext, iv, key_version, last4, created_at, updated_at) VALUES (?, 'groq', ?, ?, 1, 'abcd', ?, ?)",
    )
      .bind(u.id, sealed, btoa("123456789012"), Date.now(), Date.now())
      .run();
    const listed = ((await (await call("/v1/provider-keys", { headers: auth(u.jwt) })).json()) as any).providerKeys;
    expect(listed).toMatchObject([{ provider: "groq", last4: "" }]);
  });
});

describe("creating a key with a field it does not take", () => {
  it("a misspelt field (expiresInDay) is 400 validation_failed naming it; no key is made", async () => {
    const u = await userOn("pro");
    const auth = { authorization: `Bearer ${u.jwt}` };
    const count = async () => ((await (await call("/v1/keys", { headers: auth })).json()) as any).apiKeys.length;
    const before = await count();
    const res = await call("/v1/keys", { method: "POST", headers: auth, json: { name: "typo", expiresInDay: 30 } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("validation_failed");
    expect(JSON.stringify(body.error)).toContain("expiresInDay");
    expect(await count()).toBe(before);
  });
});

describe("an operator changes API_KEY_PREFIX", () => {
  it("what looks like a key made under an earlier prefix: a prefix ending in _; another opaque token costs no key look-up", async () => {
    const { looksLikeApiKey } = await import("../../src/auth/api-key");
    const secret = "Ab3-_x9Qz1".repeat(4).concat("k2Z");
    expect(looksLikeApiKey(`plabs_${secret}`, "plabs_")).toBe(true);
    expect(looksLikeApiKey(`sona_sk_${secret}`, "plabs_")).toBe(true);
    expect(looksLikeApiKey(`_${secret}`, "plabs_")).toBe(true);
    expect(looksLikeApiKey("0123456789abcdef".repeat(4), "plabs_")).toBe(false); // a hex token
    expect(looksLikeApiKey(`sona${secret}`, "plabs_")).toBe(false);
    expect(looksLikeApiKey(`sona_sk_${secret}x`, "plabs_")).toBe(false);
  });

  it("keys made under the earlier prefix keep working; keys made after carry the new one; an unknown key of either shape is 401", async () => {
    const u = await userOn("pro");
    const before = await keyOf(u); // made under plabs_ (the test config's prefix)
    expect(before.key.startsWith("plabs_")).toBe(true);
    const renamed = { ...env, API_KEY_PREFIX: "sona_sk_" };
    const callAs = (token: string, path = "/v1/me", init: RequestInit = {}) =>
      worker.fetch(
        new Request(`${BASE}${path}`, { ...init, headers: init.headers ?? auth(token) }),
        renamed as any,
        createExecutionContext(),
      );

    const me = await callAs(before.key);
    expect(me.status).toBe(200);
    expect(((await me.json()) as any).user.id).toBe(u.id);
    const made = await callAs(u.jwt, "/v1/keys", { method: "POST" });
    expect(made.status).toBe(201);
    const after = ((await made.json()) as any).key as string;
    expect(after.startsWith("sona_sk_")).toBe(true);
    expect((await callAs(after)).status).toBe(200);
    expect((await callAs(before.key, "/v1/keys", { headers: { "x-api-key": before.key } })).status).toBe(200);

    // Revocation still ends an earlier-prefix key on its next request.
    expect((await callAs(u.jwt, `/v1/keys/${before.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await callAs(before.key)).status).toBe(401);
    for (const unknown of [`plabs_${"A".repeat(43)}`, `sona_sk_${"B".repeat(43)}`, `other_${"C".repeat(43)}`]) {
      const res = await callAs(unknown);
      expect(res.status, unknown).toBe(401);
      expect(await codeOf(res)).toBe("unauthorized");
    }
  });
});

describe("a JSON string holding half of a surrogate pair", () => {
  it("is 400 validation_failed naming the field, nothing stored; a whole pair (an emoji) and a literal backslash-u text are kept as sent", async () => {
    const u = await userOn("pro");
    const list = async () => ((await (await call("/v1/keys", { headers: auth(u.jwt) })).json()) as any).apiKeys as any[];
    const refused: [string, Record<string, unknown>, string][] = [
      ["/v1/keys", { name: "a\ud800b" }, "name"],
      ["/v1/keys", { name: "ok", "\udc00": 1 }, "\udc00"],
      ["/v1/webhooks", { url: `${env.TEST_WEBHOOK_ORIGIN}/hooks/x`, events: ["key.created"], description: "x\udfffy" }, "description"],
      ["/v1/agents", { name: "Agent", systemPrompt: "be \ud83d kind" }, "systemPrompt"],
      ["/v1/chat", { model: "gpt-4.1-mini", messages: [{ role: "user", content: "hi \ud800" }] }, "messages.0.content"],
    ];
    for (const [path, json, field] of refused) {
      const res = await call(path, { method: "POST", headers: auth(u.jwt), json });
      const body = (await res.json()) as any;
      expect(res.status, path).toBe(400);
      expect(body.error.code).toBe("validation_failed");
      expect(body.error.fields.map((f: any) => f.path)).toEqual([field]);
    }
    expect(await list()).toEqual([]);
    expect(((await (await call("/v1/webhooks", { headers: auth(u.jwt) })).json()) as any).webhooks).toEqual([]);
    expect(((await (await call("/v1/agents", { headers: auth(u.jwt) })).json()) as any).agents).toEqual([]);

    for (const name of ["\ud83d\ude00 prod", "\\ud800 literal"]) {
      const res = await call("/v1/keys", { method: "POST", headers: auth(u.jwt), json: { name } });
      expect(res.status, name).toBe(201);
      expect(((await res.json()) as any).apiKey.name).toBe(name);
    }
    expect((await list()).map((k) => k.name).sort()).toEqual(["\\ud800 literal", "\ud83d\ude00 prod"].sort());
  });
});

describe("a surrogate escape deep inside a JSON body", () => {
  it("7,000 arrays deep, a lone or a whole pair: 400, never a 500 (the walk does not recurse)", async () => {
    const u = await userOn("pro");
    for (const inner of ['"\\ud800"', '"\\ud83d\\ude00"']) {
      const body = `${"[".repeat(7000)}${inner}${"]".repeat(7000)}`;
      const keys = await call("/v1/keys", { method: "POST", headers: { ...auth(u.jwt), "content-type": "application/json" }, body });
      expect(keys.status, inner).toBe(400);
      expect(JSON.stringify(await keys.json()).length, inner).toBeLessThan(2_000);
      const otp = await call("/portal/auth/phone-number/send-otp", {
        method: "POST",
        headers: { "content-type": "application/json", origin: BASE },
        body,
      });
      expect(otp.status, inner).toBe(400);
      expect(((await otp.json()) as any).success).toBe(false);
    }
  });
});
