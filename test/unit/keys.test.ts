// API-key lifecycle and credentials (issue: foundation).

import { describe, expect, it } from "vitest";
import { api, bearer, createKey, hs256Jwt, jwtFor, newUser, otherSigningKey, storageCounts, uniqueSub, unsignedJwt } from "../helpers/api";
import { env } from "../helpers/env";
import { inAccount } from "../helpers/reliability";

/** Move a key's expiry into the past (as time passing would): in D1 and in the Account object's copy. */
async function expireKey(userId: string, keyId: string) {
  await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?")
    .bind(Date.now() - 1, keyId)
    .run();
  await inAccount(userId, async (instance) => {
    const state = await instance.copy;
    state.keys.get(keyId).expiresAt = Date.now() - 1;
  });
}

describe("credentials", () => {
  it("accepts an API key as Bearer and as X-API-Key", async () => {
    const u = await newUser({ plan: "pro" });
    const { key } = await createKey(u.jwt);
    expect(key).toMatch(/^plabs_[A-Za-z0-9_-]{43}$/);
    const viaBearer = await api("/v1/me", { headers: bearer(key) });
    expect(viaBearer.status).toBe(200);
    expect(((await viaBearer.json()) as any).user.id).toBe(u.id);
    const viaHeader = await api("/v1/me", { headers: { "x-api-key": key } });
    expect(viaHeader.status).toBe(200);
    const same = await api("/v1/me", { headers: { ...bearer(key), "x-api-key": key } });
    expect(same.status).toBe(200);
  });

  it("answers 400 when Authorization and X-API-Key differ", async () => {
    const u = await newUser({ plan: "pro" });
    const a = await createKey(u.jwt);
    const b = await createKey(u.jwt);
    const res = await api("/v1/me", { headers: { ...bearer(a.key), "x-api-key": b.key } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.success).toBe(false);
    expect(body.error.code).toBe("conflicting_credentials");
    expect(body.requestId).toBe(res.headers.get("x-request-id"));
  });

  it("401 for missing, malformed and unknown credentials", async () => {
    const credentials: Record<string, string>[] = [
      {},
      { authorization: "Basic abc" },
      bearer(`plabs_${"A".repeat(43)}`),
      bearer("nonsense"),
      { "x-api-key": "plabs_short" },
    ];
    for (const headers of credentials) {
      const res = await api("/v1/me", { headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      const body = (await res.json()) as any;
      expect(body.error.code).toBe("unauthorized");
    }
  });

  it("verifies JWTs: issuer, audience, algorithm, expiry, signature, alg:none", async () => {
    const sub = uniqueSub();
    expect((await api("/v1/me", { headers: bearer(await jwtFor(sub)) })).status).toBe(200);
    const bad = [
      await jwtFor(sub, { issuer: "https://evil.example/" }),
      await jwtFor(sub, { audience: "someone-else" }),
      await jwtFor(sub, { expiresIn: Math.floor(Date.now() / 1000) - 60 }),
      await jwtFor(sub, { key: await otherSigningKey() }),
      unsignedJwt(sub),
    ];
    for (const token of bad) {
      const res = await api("/v1/me", { headers: bearer(token) });
      expect(res.status).toBe(401);
    }
    // HS256 is not on the allow-list even when the signature would check out against a shared secret.
    const hs = await hs256Jwt(sub);
    expect((await api("/v1/me", { headers: bearer(hs) })).status).toBe(401);
  });

  it("creates a user on first sight of a sub, on the free plan with no PAYG credits", async () => {
    const jwt = await jwtFor(uniqueSub());
    const res = await api("/v1/me", { headers: bearer(jwt) });
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ success: true, user: { plan: "free", planExpiresAt: null, paygCredits: 0, role: "user" } });
    const again = (await (await api("/v1/me", { headers: bearer(jwt) })).json()) as any;
    expect(again.user.id).toBe(body.user.id);
  });

  it("an admin JWT is marked admin", async () => {
    const jwt = await jwtFor(uniqueSub(), { role: "admin" });
    const body = (await (await api("/v1/me", { headers: bearer(jwt) })).json()) as any;
    expect(body.user.role).toBe("admin");
  });
});

describe("key lifecycle", () => {
  it("only paying users may create keys (403 paid_plan_required)", async () => {
    const free = await newUser();
    const res = await api("/v1/keys", { method: "POST", headers: bearer(free.jwt), json: { name: "x" } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.code).toBe("paid_plan_required");
    const payg = await newUser({ paygCredits: 5 });
    expect((await api("/v1/keys", { method: "POST", headers: bearer(payg.jwt), json: {} })).status).toBe(201);
    const expired = await newUser({ plan: "pro", planExpiresAt: new Date(Date.now() - 1000).toISOString() });
    expect((await api("/v1/keys", { method: "POST", headers: bearer(expired.jwt), json: {} })).status).toBe(403);
  });

  it("creates with name and expiry, lists newest first without plaintext or hash", async () => {
    const u = await newUser({ plan: "starter" });
    const res = await api("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: { name: "ci", expiresInDays: 30 } });
    expect(res.status).toBe(201);
    const created = (await res.json()) as any;
    expect(created.success).toBe(true);
    // API.md §2's fields, and a scoped key's rules (§7.1: every scope, no limits of its own by default).
    expect(Object.keys(created.apiKey).sort()).toEqual([
      "createdAt",
      "expiresAt",
      "id",
      "keyPrefix",
      "lastUsedAt",
      "monthlyCreditLimit",
      "name",
      "providers",
      "requestsPerMinute",
      "revokedAt",
      "scopes",
    ]);
    expect(created.apiKey.scopes).toEqual(["tts", "stt", "llm", "realtime", "agents", "keys", "provider-keys", "webhooks"]);
    expect([created.apiKey.providers, created.apiKey.monthlyCreditLimit, created.apiKey.requestsPerMinute]).toEqual([null, null, null]);
    expect(created.apiKey.keyPrefix).toBe(created.key.slice(0, "plabs_".length + 5));
    const days = (Date.parse(created.apiKey.expiresAt) - Date.parse(created.apiKey.createdAt)) / 86_400_000;
    expect(days).toBeCloseTo(30, 5);
    const second = await createKey(u.jwt, { name: "second" });
    const list = (await (await api("/v1/keys", { headers: bearer(u.jwt) })).json()) as any;
    expect(list.apiKeys.map((k: any) => k.id)).toEqual([second.id, created.apiKey.id]);
    const text = JSON.stringify(list);
    expect(text).not.toContain(created.key);
    expect(text).not.toContain(second.key.slice(12));
    expect(text).not.toMatch(/[0-9a-f]{64}/);
  });

  it("validates the create body and lists the fields", async () => {
    const u = await newUser({ plan: "pro" });
    const res = await api("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: { name: "", expiresInDays: 0 } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.fields.map((f: any) => f.path).sort()).toEqual(["expiresInDays", "name"]);
    const malformed = await api("/v1/keys", {
      method: "POST",
      headers: { ...bearer(u.jwt), "content-type": "application/json" },
      body: "{oops",
    });
    expect(malformed.status).toBe(400);
    const wrongType = await api("/v1/keys", { method: "POST", headers: { ...bearer(u.jwt), "content-type": "text/plain" }, body: "hi" });
    expect(wrongType.status).toBe(415);
  });

  it("a name that is empty after trimming is refused, naming the field (create, PATCH); names are stored trimmed", async () => {
    const u = await newUser({ plan: "pro" });
    // Whitespace, and characters that show nothing either (zero-width, word joiner, Mongolian vowel
    // separator, a Hangul filler, bidi marks) with it or alone.
    for (const name of [" ", "   ", "\t\n", "\u00a0\u3000", "\u200b", " \u200b\u200c\u200d ", "\u2060\u180e", "\u3164", "\u200e\u200f"]) {
      const res = await api("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: { name } });
      expect(res.status, JSON.stringify(name)).toBe(400);
      const body = (await res.json()) as any;
      expect(body.error.code).toBe("validation_failed");
      expect(body.error.fields.map((f: any) => f.path)).toEqual(["name"]);
    }
    expect(((await (await api("/v1/keys", { headers: bearer(u.jwt) })).json()) as any).apiKeys).toEqual([]);

    const created = await api("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: { name: "  ci runner \t" } });
    expect(created.status).toBe(201);
    const { apiKey } = (await created.json()) as any;
    expect(apiKey.name).toBe("ci runner");
    const blank = await api(`/v1/keys/${apiKey.id}`, { method: "PATCH", headers: bearer(u.jwt), json: { name: "  " } });
    expect(blank.status).toBe(400);
    expect(((await blank.json()) as any).error.fields.map((f: any) => f.path)).toEqual(["name"]);
    const renamed = await api(`/v1/keys/${apiKey.id}`, { method: "PATCH", headers: bearer(u.jwt), json: { name: " deploy " } });
    expect(((await renamed.json()) as any).apiKey.name).toBe("deploy");
    // 100 characters once trimmed is still within bounds.
    const long = await api("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: { name: ` ${"n".repeat(100)} ` } });
    expect(long.status).toBe(201);
    expect((await api("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: { name: ` ${"n".repeat(101)} ` } })).status).toBe(400);
    // Something visible with invisible characters around it is a name (an emoji's ZWJ and variation selector kept).
    const emoji = await api("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: { name: "\u200bops \u2764\ufe0f" } });
    expect(((await emoji.json()) as any).apiKey.name).toBe("\u200bops \u2764\ufe0f");
    const list = (await (await api("/v1/keys", { headers: bearer(u.jwt) })).json()) as any;
    expect(list.apiKeys.map((k: any) => k.name)).toEqual(["\u200bops \u2764\ufe0f", "n".repeat(100), "deploy"]);
  });

  it("stores nothing but a SHA-256 hash in D1", async () => {
    const u = await newUser({ plan: "pro" });
    const { key, id } = await createKey(u.jwt);
    const row = (await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(id).first()) as any;
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
    expect(row.key_hash).toBe([...digest].map((b) => b.toString(16).padStart(2, "0")).join(""));
    const dump = JSON.stringify(await env.DB.prepare("SELECT * FROM api_keys").all());
    expect(dump).not.toContain(key.slice("plabs_".length));
  });

  it("allows at most 10 active keys, exactly, under 12 concurrent creates", async () => {
    const u = await newUser({ plan: "pro" });
    const results = await Promise.all(
      Array.from({ length: 12 }, () => api("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: {} })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 409)).toHaveLength(2);
    const conflict = results.find((r) => r.status === 409)!;
    expect(((await conflict.json()) as any).error.code).toBe("key_limit_reached");
    // Revoking one frees a slot.
    const list = (await (await api("/v1/keys", { headers: bearer(u.jwt) })).json()) as any;
    expect((await api(`/v1/keys/${list.apiKeys[0].id}`, { method: "DELETE", headers: bearer(u.jwt) })).status).toBe(200);
    expect((await api("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: {} })).status).toBe(201);
  });

  it("revocation: the key gets 401 on its very next request", async () => {
    const u = await newUser({ plan: "pro" });
    const { key, id } = await createKey(u.jwt);
    expect((await api("/v1/me", { headers: bearer(key) })).status).toBe(200); // now cached in the isolate
    const del = await api(`/v1/keys/${id}`, { method: "DELETE", headers: bearer(u.jwt) });
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ success: true });
    const after = await api("/v1/me", { headers: bearer(key) });
    expect(after.status).toBe(401);
    const list = (await (await api("/v1/keys", { headers: bearer(u.jwt) })).json()) as any;
    expect(list.apiKeys[0].revokedAt).not.toBeNull();
  });

  it("rotation is atomic: old key 401 at once, new key works, same name and lifetime", async () => {
    const u = await newUser({ plan: "pro" });
    const res = await api("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: { name: "prod", expiresInDays: 7 } });
    const old = (await res.json()) as any;
    expect((await api("/v1/me", { headers: bearer(old.key) })).status).toBe(200);
    const rot = await api(`/v1/keys/${old.apiKey.id}/rotate`, { method: "POST", headers: bearer(old.key) });
    expect(rot.status).toBe(201);
    const rotated = (await rot.json()) as any;
    expect(rotated.revokedKeyId).toBe(old.apiKey.id);
    expect(rotated.apiKey.name).toBe("prod");
    const life = (k: any) => Date.parse(k.expiresAt) - Date.parse(k.createdAt);
    expect(life(rotated.apiKey)).toBe(life(old.apiKey));
    expect((await api("/v1/me", { headers: bearer(old.key) })).status).toBe(401);
    expect((await api("/v1/me", { headers: bearer(rotated.key) })).status).toBe(200);
    // Rotating the old key again: it is no longer active.
    expect((await api(`/v1/keys/${old.apiKey.id}/rotate`, { method: "POST", headers: bearer(u.jwt) })).status).toBe(404);
  });

  it("an expired key gets 401", async () => {
    const u = await newUser({ plan: "pro" });
    const { key, id } = await createKey(u.jwt, { expiresInDays: 1 });
    expect((await api("/v1/me", { headers: bearer(key) })).status).toBe(200);
    await expireKey(u.id, id);
    const res = await api("/v1/me", { headers: bearer(key) });
    expect(res.status).toBe(401);
  });

  it("an expired key is no longer active: PATCH and rotate answer 404 and change nothing", async () => {
    const u = await newUser({ plan: "pro" });
    const { id } = await createKey(u.jwt, { expiresInDays: 1, name: "old" });
    await expireKey(u.id, id);
    for (const [method, path, json] of [
      ["PATCH", `/v1/keys/${id}`, { name: "renamed" }],
      ["PATCH", `/v1/keys/${id}`, {}],
      ["POST", `/v1/keys/${id}/rotate`, undefined],
    ] as const) {
      const res = await api(path, { method, headers: bearer(u.jwt), json });
      expect(res.status, `${method} ${path} ${JSON.stringify(json)}`).toBe(404);
      expect(((await res.json()) as any).error.code).toBe("not_found");
    }
    const listed = ((await (await api("/v1/keys", { headers: bearer(u.jwt) })).json()) as any).apiKeys;
    expect(listed.map((k: any) => [k.id, k.name])).toEqual([[id, "old"]]);
  });

  it("another user's key or an unknown id: 404", async () => {
    const a = await newUser({ plan: "pro" });
    const b = await newUser({ plan: "pro" });
    const { id } = await createKey(a.jwt);
    for (const [method, path] of [
      ["DELETE", `/v1/keys/${id}`],
      ["POST", `/v1/keys/${id}/rotate`],
      ["DELETE", `/v1/keys/key_unknown`],
      ["DELETE", `/api/v1/user/api-keys/${id}`],
    ] as const) {
      const res = await api(path, { method, headers: bearer(b.jwt) });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(((await res.json()) as any).error.code).toBe("not_found");
    }
    expect((await api("/v1/me", { headers: bearer((await createKey(a.jwt)).key) })).status).toBe(200);
  });

  it("Sonna aliases behave the same", async () => {
    const u = await newUser({ plan: "scale" });
    const res = await api("/api/v1/user/api-keys", { method: "POST", headers: bearer(u.jwt), json: { name: "sonna" } });
    expect(res.status).toBe(201);
    const created = (await res.json()) as any;
    expect(created).toMatchObject({ success: true, key: expect.any(String), apiKey: { name: "sonna", revokedAt: null } });
    const list = (await (await api("/api/v1/user/api-keys", { headers: { "x-api-key": created.key } })).json()) as any;
    expect(list.apiKeys).toHaveLength(1);
    expect((await api(`/api/v1/user/api-keys/${created.apiKey.id}`, { method: "DELETE", headers: bearer(u.jwt) })).status).toBe(200);
    expect((await api("/v1/me", { headers: { "x-api-key": created.key } })).status).toBe(401);
  });

  it("a recently verified key costs no D1 query and one Durable Object call", async () => {
    const u = await newUser({ plan: "pro" });
    const { key } = await createKey(u.jwt);
    await api("/v1/me", { headers: bearer(key) });
    const res = await api("/v1/me", { headers: bearer(key) });
    expect(res.status).toBe(200);
    expect(storageCounts(res)).toEqual({ d1: 0, do: 1, kv_read: 0, kv_write: 0 });
  });

  it("lastUsedAt is filled in after use, off the request path", async () => {
    const u = await newUser({ plan: "pro" });
    const { key, id } = await createKey(u.jwt);
    await api("/v1/me", { headers: bearer(key) });
    let lastUsed: number | null = null;
    for (let i = 0; i < 50 && lastUsed === null; i++) {
      await new Promise((r) => setTimeout(r, 20));
      lastUsed = ((await env.DB.prepare("SELECT last_used_at FROM api_keys WHERE id = ?").bind(id).first()) as any).last_used_at;
    }
    expect(lastUsed).not.toBeNull();
  });
});

describe("errors and request ids", () => {
  it("unknown routes get 404 JSON with a request id", async () => {
    const res = await api("/v1/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ success: false, error: { code: "not_found" } });
    expect(body.requestId).toMatch(/^req_/);
  });

  it("echoes a well-formed X-Request-Id and replaces a malformed one", async () => {
    const ok = await api("/openapi.json", { headers: { "x-request-id": "abc-123" } });
    expect(ok.headers.get("x-request-id")).toBe("abc-123");
    const bad = await api("/openapi.json", { headers: { "x-request-id": "bad id\twith spaces" } });
    expect(bad.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it("the OpenAPI document: refs resolve, dates are date-time, the admin usage answer is typed, credential and Origin errors listed", async () => {
    const doc = (await (await api("/openapi.json")).json()) as any;
    const text = JSON.stringify(doc);
    for (const [, name = ""] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g))
      expect(doc.components.schemas[name], name).toBeDefined();
    const s = doc.components.schemas;
    for (const f of ["createdAt", "expiresAt", "lastUsedAt", "revokedAt"]) expect(s.ApiKey.properties[f].format, f).toBe("date-time");
    expect(s.Me.properties.user.properties.planExpiresAt.format).toBe("date-time");
    const usage = doc.paths["/api/admin/users/{id}/usage"].get.responses[200].content["application/json"].schema;
    const usageSchema = usage.$ref ? s[usage.$ref.split("/").pop()] : usage;
    expect(usageSchema.required).toEqual(["success", "usage"]);
    expect(usageSchema.properties.usage.$ref).toBe("#/components/schemas/Usage");
    // Any route taking an API key or a JWT may answer 400 (the two credential headers differ) and 503 auth_unavailable.
    let credentialed = 0;
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        // A portal state change from another Origin: 403.
        if (op.security?.some((sec: any) => "portalSession" in sec) && method !== "get")
          expect(op.responses["403"], `${method} ${path} 403`).toBeDefined();
        if (!op.security?.some((sec: any) => "bearerAuth" in sec)) continue;
        credentialed++;
        for (const status of ["400", "401", "503"]) expect(op.responses[status], `${method} ${path} ${status}`).toBeDefined();
      }
    }
    expect(credentialed).toBeGreaterThan(40);
  });

  it("serves an OpenAPI 3.1 document and a reference page", async () => {
    const doc = (await (await api("/openapi.json")).json()) as any;
    expect(doc.openapi).toBe("3.1.0");
    for (const p of ["/v1/keys", "/v1/keys/{id}/rotate", "/v1/synthesize", "/v1/chat", "/v1/transcribe", "/api/admin/users/{id}"]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    const page = await api("/docs");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("/openapi.json");
  });
});
