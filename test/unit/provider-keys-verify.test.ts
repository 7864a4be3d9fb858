// Stored provider keys that cannot be used as they are: a key this deployment can no longer decrypt (one
// answer on every route), and a key its provider knows but restricts (verify says so, not "invalid").

import { beforeEach, describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import { seal } from "../../src/crypto/provider-key-vault";
import { api, bearer, faultFor, marker, mockControl, newKeyUser, upstreamRequests } from "../helpers/api";
import { env } from "../helpers/env";

beforeEach(async () => {
  await mockControl("/reset", { method: "POST" });
});

const verify = (key: string, provider: string) => api(`/v1/provider-keys/${provider}/verify`, { method: "POST", headers: bearer(key) });
const store = (key: string, provider: string, apiKey: string) =>
  api("/v1/provider-keys", { method: "POST", headers: bearer(key), json: { provider, apiKey } });
const verifiedAt = async (key: string, provider: string) =>
  ((await (await api("/v1/provider-keys", { headers: bearer(key) })).json()) as any).providerKeys.find((k: any) => k.provider === provider)
    .verifiedAt;

describe("a stored key that cannot be decrypted", () => {
  it("the gateway and verify give the same 400 provider_key_missing, naming the provider; nothing reaches it; storing it again mends it", async () => {
    const u = await newKeyUser();
    // Sealed under a master key this deployment no longer has (rotated away without listing it in
    // PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS), stored through the Account object as the route stores it.
    const gone = { ...getConfig(env as any), PROVIDER_KEY_ENCRYPTION_KEY: btoa("r".repeat(32)), PROVIDER_KEY_ENCRYPTION_KEY_VERSION: 9 };
    const sealed = await seal(gone, u.id, "groq", "gsk_rotated-away-groq-key");
    await (env as any).ACCOUNT.getByName(u.id).putProviderKey(u.id, {
      userId: u.id,
      provider: "groq",
      ...sealed,
      last4: "-key",
      now: Date.now(),
    });

    const chat = await api("/v1/chat", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "groq", model: "llama-3.3-70b-versatile", messages: [{ role: "user", content: "hi" }] },
    });
    const check = await verify(u.key, "groq");
    const [viaChat, viaVerify] = [(await chat.json()) as any, (await check.json()) as any];
    expect([
      [chat.status, viaChat.error.code],
      [check.status, viaVerify.error.code],
    ]).toEqual([
      [400, "provider_key_missing"],
      [400, "provider_key_missing"],
    ]);
    const answers = [];
    for (const body of [viaChat, viaVerify]) {
      expect(body.error.provider).toBe("groq");
      expect(body.error.message).toMatch(/stored Groq key .*decrypted.*store it again/);
      answers.push(body.error.message);
    }
    expect(answers[0]).toBe(answers[1]);
    expect(await upstreamRequests("groq")).toHaveLength(0);
    expect(await verifiedAt(u.key, "groq")).toBeNull();

    expect((await store(u.key, "groq", "gsk_stored-again-groq-key")).status).toBe(201);
    expect(await (await verify(u.key, "groq")).json()).toEqual({ success: true, provider: "groq", valid: true, status: 200 });
  });
});

describe("a stored key that cannot be decrypted, at a realtime upgrade", () => {
  it("the same 400 provider_key_missing as the gateway and verify give, naming the provider (unreadableStoredKey)", async () => {
    const u = await newKeyUser();
    const gone = { ...getConfig(env as any), PROVIDER_KEY_ENCRYPTION_KEY: btoa("r".repeat(32)), PROVIDER_KEY_ENCRYPTION_KEY_VERSION: 9 };
    const sealed = await seal(gone, u.id, "deepgram", "rotated-away-deepgram-key-0123456789");
    await (env as any).ACCOUNT.getByName(u.id).putProviderKey(u.id, {
      userId: u.id,
      provider: "deepgram",
      ...sealed,
      last4: "6789",
      now: Date.now(),
    });
    const res = await api("/v1/realtime/listen?provider=deepgram&encoding=linear16&sampleRate=16000", {
      headers: { ...bearer(u.key), upgrade: "websocket", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" },
    });
    const check = (await (await verify(u.key, "deepgram")).json()) as any;
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error).toEqual(check.error);
    expect(body.error).toMatchObject({ code: "provider_key_missing", provider: "deepgram" });
    expect(body.error.message).toMatch(/stored Deepgram key .*decrypted.*store it again/);
    expect(await upstreamRequests("deepgram")).toHaveLength(0);
  });
});

describe("verify: a key the provider knows but restricts", () => {
  it("Anthropic's 403 permission_error from the key check is a valid, restricted key (with the provider's reason, never the key); verifiedAt is set", async () => {
    const u = await newKeyUser();
    const secret = "good-anthropic-restricted-key";
    await store(u.key, "anthropic", secret);
    await mockControl("/fault", {
      method: "POST",
      json: {
        provider: "anthropic",
        path: "/v1/models",
        mode: "error",
        status: 403,
        message: `Your API key ${secret} does not have permission to use the specified resource.`,
      },
    });
    const res = await verify(u.key, "anthropic");
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ success: true, provider: "anthropic", valid: true, status: 403, restricted: true });
    expect(body.message).toContain("does not have permission");
    expect(JSON.stringify(body)).not.toContain(secret);
    expect(await verifiedAt(u.key, "anthropic")).not.toBeNull();
  });

  it("ElevenLabs' 401 missing_permissions (a key without user_read) is valid and restricted too", async () => {
    const u = await newKeyUser();
    await store(u.key, "elevenlabs", "noperm-elevenlabs-key");
    const body = (await (await verify(u.key, "elevenlabs")).json()) as any;
    expect(body).toMatchObject({ success: true, provider: "elevenlabs", valid: true, status: 401, restricted: true });
    expect(body.message).toContain("user_read");
  });

  it("OpenAI's 401 'Missing scopes' (a restricted key without the Models read scope) is valid and restricted", async () => {
    const u = await newKeyUser();
    await store(u.key, "openai", "sk-restricted-openai-key");
    const message =
      "You have insufficient permissions for this operation. Missing scopes: api.model.read. Check that you have the correct " +
      "role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, " +
      "that it has the necessary scopes.";
    await mockControl("/fault", { method: "POST", json: { provider: "openai", path: "/models", mode: "error", status: 401, message } });
    const body = (await (await verify(u.key, "openai")).json()) as any;
    expect(body).toMatchObject({ success: true, provider: "openai", valid: true, status: 401, restricted: true });
    expect(body.message).toContain("api.model.read");
  });

  it("a bare 403 (no permission error the provider names) is not valid: some providers refuse a bad key with it", async () => {
    const u = await newKeyUser();
    await store(u.key, "groq", "gsk_forbidden-groq-key");
    await mockControl("/fault", { method: "POST", json: { provider: "groq", path: "/models", mode: "error", status: 403 } });
    expect(await (await verify(u.key, "groq")).json()).toEqual({ success: true, provider: "groq", valid: false, status: 403 });
  });

  it("a 401 is still an invalid key, and a 2xx a plain valid one: neither carries restricted", async () => {
    const u = await newKeyUser();
    await store(u.key, "anthropic", "invalid-anthropic-key");
    expect(await (await verify(u.key, "anthropic")).json()).toEqual({ success: true, provider: "anthropic", valid: false, status: 401 });
    await store(u.key, "elevenlabs", "good-elevenlabs-key");
    expect(await (await verify(u.key, "elevenlabs")).json()).toEqual({ success: true, provider: "elevenlabs", valid: true, status: 200 });
  });
});

describe("verify reads only what its verdict needs", () => {
  it("an accepted key check's body is not read: a trickling 200 is answered at once", { timeout: 15_000 }, async () => {
    const u = await newKeyUser();
    await store(u.key, "openai", "sk-good-openai-key");
    // Half the model list, the rest a minute later: the verdict is the status; the list is never needed.
    await mockControl("/fault", { method: "POST", json: { provider: "openai", path: "/models", mode: "slow", delayMs: 60_000 } });
    const res = await verify(u.key, "openai");
    expect(await res.json()).toEqual({ success: true, provider: "openai", valid: true, status: 200 });
  });
});

describe("a provider that answers with a redirect, or a key check with a page", () => {
  /** Requests that reached the redirect's target (the mock records every control request, headers included). */
  const reachedTarget = async (tag: string) => (await upstreamRequests("control")).filter((r) => String(r.path).includes(tag));

  it("a redirect is never followed — the platform, BYOK or stored key never goes where it points: 502 with its status", async () => {
    const u = await newKeyUser();
    const tag = marker();
    const location = `${env.TEST_MOCK_ORIGIN}/__control/elsewhere-${tag}`;
    const speechMarker = marker();
    await faultFor(speechMarker, { provider: "elevenlabs", mode: "error", status: 307, location });
    const speech = await api("/v1/synthesize", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "elevenlabs", text: speechMarker },
    });
    expect(speech.status).toBe(502);
    expect(((await speech.json()) as any).error).toMatchObject({ code: "provider_error", providerStatus: 307 });

    const chatMarker = marker();
    await faultFor(chatMarker, { provider: "anthropic", mode: "error", status: 308, location });
    const chat = await api("/v1/chat", {
      method: "POST",
      headers: { ...bearer(u.key), "x-provider-key-anthropic": "sk-ant-callers-own-secret-42" },
      json: { provider: "anthropic", model: "claude-3-5-haiku-latest", messages: [{ role: "user", content: chatMarker }] },
    });
    expect(chat.status).toBe(502);
    expect(((await chat.json()) as any).error.providerStatus).toBe(308);

    await store(u.key, "elevenlabs", "stored-elevenlabs-secret-77");
    await mockControl("/fault", {
      method: "POST",
      json: { provider: "elevenlabs", path: "/v1/user", mode: "error", status: 302, location },
    });
    const check = await verify(u.key, "elevenlabs");
    expect(check.status).toBe(502);
    expect(((await check.json()) as any).error.providerStatus).toBe(302);
    expect(await verifiedAt(u.key, "elevenlabs")).toBeNull();

    expect(await reachedTarget(tag)).toEqual([]);
  });

  it("a key check answered 200 with an HTML page (a proxy, a captive portal) is no verdict: 502, verifiedAt not stamped", async () => {
    const u = await newKeyUser();
    await store(u.key, "openai", "sk-stored-openai-key-1234");
    await mockControl("/fault", { method: "POST", json: { provider: "openai", path: "/v1/models", mode: "wrong_content_type" } });
    const res = await verify(u.key, "openai");
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("provider_error");
    expect(body.error.message).toContain("text/html");
    expect(await verifiedAt(u.key, "openai")).toBeNull();
    // The same check answered as the provider does: valid, and stamped.
    expect(await (await verify(u.key, "openai")).json()).toEqual({ success: true, provider: "openai", valid: true, status: 200 });
    expect(await verifiedAt(u.key, "openai")).not.toBeNull();
  });
});

describe("verifiedAt says what the latest check of the stored key found", () => {
  it("a check still running when another key is stored does not stamp the new key (an audit: it did)", async () => {
    const u = await newKeyUser();
    const m = marker();
    expect((await store(u.key, "elevenlabs", `good-key-${m}`)).status).toBe(201);
    // The key check of the first key (its key carries the nonce) takes 1.5 s.
    await faultFor(m, { provider: "elevenlabs", path: "/v1/user", mode: "timeout", delayMs: 1500 });
    const checking = verify(u.key, "elevenlabs");
    await new Promise((ok) => setTimeout(ok, 400));
    expect((await store(u.key, "elevenlabs", "invalid-replacement-key")).status).toBe(201);
    const check = await checking;
    expect(await check.json()).toMatchObject({ valid: true, status: 200 }); // the first key's verdict
    expect(await verifiedAt(u.key, "elevenlabs")).toBeNull();
  });

  it("a key that passed and later fails its check is no longer shown verified", async () => {
    const u = await newKeyUser();
    const m = marker();
    expect((await store(u.key, "elevenlabs", `good-key-${m}`)).status).toBe(201);
    expect(await (await verify(u.key, "elevenlabs")).json()).toMatchObject({ valid: true });
    expect(await verifiedAt(u.key, "elevenlabs")).toEqual(expect.any(String));
    // Revoked at the provider since: its check answers 401.
    await faultFor(m, { provider: "elevenlabs", path: "/v1/user", mode: "error", status: 401 });
    expect(await (await verify(u.key, "elevenlabs")).json()).toMatchObject({ valid: false, status: 401 });
    expect(await verifiedAt(u.key, "elevenlabs")).toBeNull();
  });

  it("an answer that says nothing about the key (400, 404, 408) leaves verifiedAt as it was (a change audit)", async () => {
    const u = await newKeyUser();
    const m = marker();
    expect((await store(u.key, "elevenlabs", `good-key-${m}`)).status).toBe(201);
    expect(await (await verify(u.key, "elevenlabs")).json()).toMatchObject({ valid: true });
    const stamped = await verifiedAt(u.key, "elevenlabs");
    expect(stamped).toEqual(expect.any(String));
    for (const status of [400, 404, 408]) {
      await faultFor(m, { provider: "elevenlabs", path: "/v1/user", mode: "error", status });
      await (await verify(u.key, "elevenlabs")).arrayBuffer();
      expect(await verifiedAt(u.key, "elevenlabs"), String(status)).toBe(stamped);
    }
  });
});
