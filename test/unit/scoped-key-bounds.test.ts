// A scoped key's limits hold for the keys it makes (API.md §7.1): an API key with the `keys` scope may
// not create, PATCH, rotate or revoke its way to a key with more than it has — scopes, providers, monthly credit
// limit, requests per minute. Rules a create leaves out are inherited from the caller key; asking for
// more is 403 scope_denied naming the rule. An unrestricted key, a JWT and the portal are not bounded.
import { describe, expect, it } from "vitest";
import { call, keyOf, userOn } from "../helpers/reliability";

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const ALL = ["tts", "stt", "llm", "realtime", "agents", "keys", "provider-keys", "webhooks"];

const post = async (token: string, json: unknown) => {
  const res = await call("/v1/keys", { method: "POST", headers: auth(token), json });
  return { status: res.status, body: (await res.json()) as any };
};
const patch = async (token: string, id: string, json: unknown) => {
  const res = await call(`/v1/keys/${id}`, { method: "PATCH", headers: auth(token), json });
  return { status: res.status, body: (await res.json()) as any };
};
const keysOf = async (jwt: string) => ((await (await call("/v1/keys", { headers: auth(jwt) })).json()) as any).apiKeys as any[];

/** A 403 scope_denied whose fields name exactly `rules`. */
function expectDenied(r: { status: number; body: any }, rules: string[]) {
  expect(r.status, JSON.stringify(r.body)).toBe(403);
  expect(r.body.error.code).toBe("scope_denied");
  expect(r.body.error.fields.map((f: any) => f.path).sort()).toEqual([...rules].sort());
  for (const rule of rules) expect(r.body.error.message).toContain(rule);
}

describe("POST /v1/keys by a restricted key", () => {
  it("an empty body inherits every restriction of the caller (was: an unrestricted key)", async () => {
    const u = await userOn("pro");
    const caller = await keyOf(u, { scopes: ["keys", "tts"], providers: ["fishaudio"], monthlyCreditLimit: 1, requestsPerMinute: 7 });
    const made = await post(caller.key, {});
    expect(made.status).toBe(201);
    expect(made.body.apiKey).toMatchObject({
      scopes: ["keys", "tts"],
      providers: ["fishaudio"],
      monthlyCreditLimit: 1,
      requestsPerMinute: 7,
    });
    // And the new key is held to them at admission.
    expect((await call("/v1/webhooks", { headers: auth(made.body.key) })).status).toBe(403);
  });

  it("asking for more than the caller has is 403 scope_denied naming each rule, and creates nothing", async () => {
    const u = await userOn("pro");
    const caller = await keyOf(u, { scopes: ["keys", "tts"], providers: ["fishaudio"], monthlyCreditLimit: 1, requestsPerMinute: 7 });
    const before = (await keysOf(u.jwt)).length;
    expectDenied(await post(caller.key, { scopes: ["keys", "llm"] }), ["scopes"]);
    expectDenied(await post(caller.key, { providers: ["fishaudio", "openai"] }), ["providers"]);
    expectDenied(await post(caller.key, { monthlyCreditLimit: 1.001 }), ["monthlyCreditLimit"]);
    expectDenied(await post(caller.key, { requestsPerMinute: 8 }), ["requestsPerMinute"]);
    expectDenied(await post(caller.key, { scopes: ALL, monthlyCreditLimit: 100 }), ["scopes", "monthlyCreditLimit"]);
    expect(await keysOf(u.jwt)).toHaveLength(before);
    // Within the caller's rules (narrower or equal) is fine.
    const narrower = await post(caller.key, { scopes: ["tts"], monthlyCreditLimit: 0.5, requestsPerMinute: 7, name: "child" });
    expect(narrower.status).toBe(201);
    expect(narrower.body.apiKey).toMatchObject({
      scopes: ["tts"],
      providers: ["fishaudio"],
      monthlyCreditLimit: 0.5,
      requestsPerMinute: 7,
    });
  });

  it("a key that expires makes none that outlives it: no lifetime given expires with it, a longer one is 403", async () => {
    const u = await userOn("pro");
    const caller = await keyOf(u, { scopes: ["keys", "tts"], expiresInDays: 2 });
    const callerExpiry = (await keysOf(u.jwt)).find((k) => k.id === caller.id)!.expiresAt as string;
    const inherited = await post(caller.key, { name: "child" });
    expect(inherited.status).toBe(201);
    expect(inherited.body.apiKey.expiresAt).toBe(callerExpiry);
    expect((await post(caller.key, { expiresInDays: 1 })).status).toBe(201);
    const before = (await keysOf(u.jwt)).length;
    expectDenied(await post(caller.key, { expiresInDays: 3 }), ["expiresInDays"]);
    expectDenied(await post(caller.key, { expiresInDays: 3650 }), ["expiresInDays"]);
    expect(await keysOf(u.jwt)).toHaveLength(before);
    // Rotating: a key that never expires (or outlives the caller once rotated) is not the caller's to mint;
    // a shorter one, and the caller itself (same lifetime length, API.md §2), rotate as before.
    const forever = await keyOf(u, { scopes: ["tts"] });
    const rot = await call(`/v1/keys/${forever.id}/rotate`, { method: "POST", headers: auth(caller.key) });
    expect(rot.status).toBe(403);
    expect(((await rot.json()) as any).error.fields.map((f: any) => f.path)).toEqual(["expiresAt"]);
    const longer = await keyOf(u, { scopes: ["tts"], expiresInDays: 30 });
    expect((await call(`/v1/keys/${longer.id}/rotate`, { method: "POST", headers: auth(caller.key) })).status).toBe(403);
    const shorter = await keyOf(u, { scopes: ["tts"], expiresInDays: 1 });
    expect((await call(`/v1/keys/${shorter.id}/rotate`, { method: "POST", headers: auth(caller.key) })).status).toBe(201);
    expect((await call(`/v1/keys/${caller.id}/rotate`, { method: "POST", headers: auth(caller.key) })).status).toBe(201);
    // A key that never expires makes keys of any lifetime, as the owner does.
    const open = await keyOf(u, { scopes: ["keys", "tts"] });
    const made = await post(open.key, {});
    expect(made.status).toBe(201);
    expect(made.body.apiKey.expiresAt).toBeNull();
  });

  it("a caller with only some restrictions bounds only those: {scopes:[keys], monthlyCreditLimit:1}", async () => {
    const u = await userOn("pro");
    const caller = await keyOf(u, { scopes: ["keys"], monthlyCreditLimit: 1 });
    const made = await post(caller.key, { providers: ["openai"], requestsPerMinute: 300 });
    expect(made.status).toBe(201);
    expect(made.body.apiKey).toMatchObject({ scopes: ["keys"], providers: ["openai"], monthlyCreditLimit: 1, requestsPerMinute: 300 });
  });
});

describe("PATCH /v1/keys/:id by a restricted key", () => {
  it("may not lift or widen its own restrictions (null included), may narrow them", async () => {
    const u = await userOn("pro");
    const caller = await keyOf(u, { scopes: ["keys", "tts"], providers: ["fishaudio"], monthlyCreditLimit: 1, requestsPerMinute: 7 });
    expectDenied(await patch(caller.key, caller.id, { monthlyCreditLimit: null }), ["monthlyCreditLimit"]);
    expectDenied(await patch(caller.key, caller.id, { scopes: null, providers: null }), ["scopes", "providers"]);
    expectDenied(await patch(caller.key, caller.id, { requestsPerMinute: 300 }), ["requestsPerMinute"]);
    const own = (await keysOf(u.jwt)).find((k) => k.id === caller.id);
    expect(own).toMatchObject({ scopes: ["keys", "tts"], providers: ["fishaudio"], monthlyCreditLimit: 1, requestsPerMinute: 7 });
    const narrowed = await patch(caller.key, caller.id, { monthlyCreditLimit: 0.5, name: "tighter" });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.apiKey).toMatchObject({ name: "tighter", monthlyCreditLimit: 0.5 });
  });

  it("may not widen another key past its own rules, nor change or rotate a key that already has more", async () => {
    const u = await userOn("pro");
    const caller = await keyOf(u, { scopes: ["keys", "tts"], monthlyCreditLimit: 1 });
    const child = (await post(caller.key, { scopes: ["tts"] })).body.apiKey;
    expectDenied(await patch(caller.key, child.id, { scopes: ["tts", "llm"] }), ["scopes"]);
    expectDenied(await patch(caller.key, child.id, { monthlyCreditLimit: 2 }), ["monthlyCreditLimit"]);
    expect((await patch(caller.key, child.id, { scopes: ["keys"] })).status).toBe(200);
    // The owner's unrestricted key: renaming it would leave a key beyond the caller's; rotating it would
    // hand the caller an unrestricted plaintext.
    const wide = await keyOf(u);
    expectDenied(await patch(caller.key, wide.id, { name: "mine now" }), ["scopes", "monthlyCreditLimit"]);
    const rot = await call(`/v1/keys/${wide.id}/rotate`, { method: "POST", headers: auth(caller.key) });
    expect(rot.status).toBe(403);
    expect(((await rot.json()) as any).error.code).toBe("scope_denied");
    expect((await call("/v1/me", { headers: auth(wide.key) })).status).toBe(200); // not rotated out
    // Its own key and keys within it rotate as before, keeping their rules.
    const rotatedChild = await call(`/v1/keys/${child.id}/rotate`, { method: "POST", headers: auth(caller.key) });
    expect(rotatedChild.status).toBe(201);
    expect(((await rotatedChild.json()) as any).apiKey).toMatchObject({ scopes: ["keys"], monthlyCreditLimit: 1 });
    // Unknown ids stay 404 (not 403: nothing is revealed).
    expect((await patch(caller.key, "key_nope", { name: "x" })).status).toBe(404);
  });

  it("may not revoke a key with more than it has (a leaked narrow key takes no broader key away); may revoke within it", async () => {
    const u = await userOn("pro");
    const caller = await keyOf(u, { scopes: ["keys", "tts"], providers: ["fishaudio"] });
    const del = (token: string, id: string) => call(`/v1/keys/${id}`, { method: "DELETE", headers: auth(token) });
    const wide = await keyOf(u);
    const other = await keyOf(u, { scopes: ["keys", "tts"], providers: ["openai"] });
    for (const [target, rules] of [
      [wide, ["scopes", "providers"]],
      [other, ["providers"]],
    ] as const) {
      const res = await del(caller.key, target.id);
      expectDenied({ status: res.status, body: await res.json() }, [...rules]);
      expect((await call("/v1/me", { headers: auth(target.key) })).status).toBe(200); // still active
    }
    const child = (await post(caller.key, { scopes: ["tts"] })).body;
    expect((await del(caller.key, child.apiKey.id)).status).toBe(200);
    expect((await call("/v1/me", { headers: auth(child.key) })).status).toBe(401);
    expect((await del(caller.key, "key_nope")).status).toBe(404);
    // The owner's unrestricted key revokes anything, and a key may always revoke itself.
    expect((await del(wide.key, other.id)).status).toBe(200);
    expect((await del(caller.key, caller.id)).status).toBe(200);
    expect((await call("/v1/me", { headers: auth(caller.key) })).status).toBe(401);
  });
});

describe("callers that are not bounded", () => {
  it("an unrestricted key creates, widens, lifts and rotates anything, as the JWT does", async () => {
    const u = await userOn("pro");
    const admin = await keyOf(u);
    const made = await post(admin.key, {});
    expect(made.status).toBe(201);
    expect(made.body.apiKey).toMatchObject({ scopes: ALL, providers: null, monthlyCreditLimit: null, requestsPerMinute: null });
    const scoped = await post(admin.key, { scopes: ["tts"], providers: ["openai"], monthlyCreditLimit: 3, requestsPerMinute: 5 });
    expect(scoped.status).toBe(201);
    const lifted = await patch(admin.key, scoped.body.apiKey.id, {
      scopes: null,
      providers: null,
      monthlyCreditLimit: null,
      requestsPerMinute: null,
    });
    expect(lifted.status).toBe(200);
    expect(lifted.body.apiKey).toMatchObject({ scopes: ALL, providers: null, monthlyCreditLimit: null, requestsPerMinute: null });
    expect((await call(`/v1/keys/${admin.id}/rotate`, { method: "POST", headers: auth(admin.key) })).status).toBe(201);
    // The JWT: no caller key, no bounds.
    const restricted = await keyOf(u, { scopes: ["tts"], monthlyCreditLimit: 1 });
    expect((await patch(u.jwt, restricted.id, { scopes: null, monthlyCreditLimit: null })).status).toBe(200);
  });
});
