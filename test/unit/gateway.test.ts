// The provider gateway (issue: gateway): every provider × operation through the mock providers,
// the exact upstream request, normalized responses, key precedence, failures and streaming.

import { beforeEach, describe, expect, it } from "vitest";
import { api, bearer, faultFor, marker, mockControl, newKeyUser, upstreamRequests } from "../helpers/api";
import { env } from "../helpers/env";
import { CHAT_CASES, expectCaseAudio, expectMockAudio, readSse, STT_CASES, TTS_CASES } from "../helpers/provider-cases";
// @ts-expect-error plain JS module shared with the mock server
import { mockDurationSeconds, mockTranscriptFor } from "../mocks/audio.mjs";

beforeEach(async () => {
  await mockControl("/reset", { method: "POST" });
});

const keyUser = newKeyUser;

describe("POST /v1/synthesize", () => {
  for (const c of TTS_CASES) {
    it(`${c.provider} ${c.format}: plain audio bytes, exact upstream request`, async () => {
      const u = await keyUser();
      const text = `Hello from ${c.provider} in ${c.format}.`;
      const res = await api("/v1/synthesize", {
        method: "POST",
        headers: { ...bearer(u.key), ...(c.byok ? { "x-provider-key-openai": "byok-openai-key" } : {}) },
        json: { provider: c.provider, text, format: c.format, sampleRate: c.sampleRate },
      });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(res.headers.get("content-type")).toBe(
        { mp3: "audio/mpeg", wav: "audio/wav", pcm: "audio/pcm", opus: "audio/ogg", ulaw: "audio/basic" }[c.format],
      );
      expect(res.headers.get("x-provider-used")).toBe(c.provider);
      expect(res.headers.get("x-usage-bypassed")).toBe(c.byok ? "true" : "false");
      expectCaseAudio(c, new Uint8Array(await res.arrayBuffer()), text);
      const [req] = await upstreamRequests(c.provider);
      expect(req.path).toMatch(c.upstreamPath);
      expect(req.headers[c.auth[0]]).toBe(c.auth[1]);
      expect(req.specErrors).toEqual([]);
    });
  }

  it("refuses a compressed format the provider does not produce, and a rate nobody serves (400, nothing upstream)", async () => {
    const u = await keyUser();
    for (const [provider, format, sampleRate] of [
      ["cartesia", "opus"],
      ["resembleai", "flac"],
      ["elevenlabs", "aac"],
      ["huggingface", "mp3"],
      ["openai", "ulaw", 11025],
    ] as const) {
      const res = await api("/v1/synthesize", {
        method: "POST",
        headers: bearer(u.key),
        json: { provider, text: "hi", format, sampleRate },
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.code).toBe("unsupported_format");
    }
    for (const p of ["cartesia", "resembleai", "elevenlabs", "huggingface", "openai"]) expect(await upstreamRequests(p)).toHaveLength(0);
  });

  it("a provider without TTS: 400 unsupported_operation; an unknown one: 400 unknown_provider", async () => {
    const u = await keyUser();
    const a = await api("/v1/synthesize", { method: "POST", headers: bearer(u.key), json: { provider: "anthropic", text: "hi" } });
    expect(a.status).toBe(400);
    expect(((await a.json()) as any).error.code).toBe("unsupported_operation");
    const b = await api("/v1/synthesize", { method: "POST", headers: bearer(u.key), json: { provider: "nope", text: "hi" } });
    expect(((await b.json()) as any).error.code).toBe("unknown_provider");
  });

  it("validates the body and lists the fields", async () => {
    const u = await keyUser();
    const res = await api("/v1/synthesize", { method: "POST", headers: bearer(u.key), json: { text: "", format: "wma" } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error.fields.map((f: any) => f.path).sort()).toEqual(["format", "text"]);
    const long = await api("/v1/synthesize", { method: "POST", headers: bearer(u.key), json: { text: "x".repeat(5001) } });
    expect(long.status).toBe(400);
  });

  it("streams: the first audio bytes arrive while the provider still holds back the rest", async () => {
    const u = await keyUser();
    const slow = marker();
    await faultFor(slow, { provider: "elevenlabs", mode: "slow", delayMs: 1500 });
    const started = Date.now();
    const res = await api("/v1/synthesize", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "elevenlabs", text: `streaming please ${slow}` },
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAt = Date.now() - started;
    expect(first.done).toBe(false);
    expect(first.value!.byteLength).toBeGreaterThan(0);
    expect(firstAt).toBeLessThan(1200);
    const parts = [first.value!];
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expectMockAudio(new Uint8Array(Buffer.concat(parts)), `streaming please ${slow}`);
  });

  it("an upstream stream cut short surfaces as an error, not a clean end", async () => {
    const u = await keyUser();
    const cut = marker();
    await faultFor(cut, { provider: "elevenlabs", mode: "truncate" });
    const res = await api("/v1/synthesize", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "elevenlabs", text: `cut ${cut}` },
    });
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
  });
});

describe("POST /v1/transcribe", () => {
  for (const c of STT_CASES) {
    it(`${c.provider}: multipart upload → normalized transcript with durationSeconds`, async () => {
      const u = await keyUser();
      const form = new FormData();
      form.append("file", new File([new Uint8Array(5000)], "clip.wav", { type: "audio/wav" }));
      form.append("provider", c.provider);
      form.append("language", "en");
      const res = await api("/v1/transcribe", { method: "POST", headers: bearer(u.key), body: form });
      expect(res.status, await res.clone().text()).toBe(200);
      const body = (await res.json()) as any;
      expect(body).toMatchObject({
        success: true,
        text: mockTranscriptFor(5000),
        durationSeconds: mockDurationSeconds(5000),
        provider: c.provider,
      });
      expect(typeof body.model).toBe("string");
      const [req] = await upstreamRequests(c.provider);
      expect(req.path).toMatch(c.path);
      expect(req.headers[c.auth[0]]).toBe(c.auth[1]);
      expect(req.specErrors).toEqual([]);
    });
  }

  it("JSON audioUrl: Voxgate fetches it (an allow-listed loopback host here), measures it, and sends every provider the bytes", async () => {
    const u = await keyUser();
    // AUDIO_URL_ALLOW_HOSTS lists the mock's host:port. Deepgram gets the health document as "audio" (its type
    // is no audio type); OpenAI, which tells the format by the file name, a WAV at a URL with no extension.
    const health = `${env.TEST_MOCK_ORIGIN}/__control/health`;
    const tone = `${env.TEST_MOCK_ORIGIN}/__control/tone`;
    const size = (await (await fetch(tone)).arrayBuffer()).byteLength;
    for (const [provider, audioUrl] of [
      ["deepgram", health],
      ["openai", tone],
    ]) {
      const res = await api("/v1/transcribe", { method: "POST", headers: bearer(u.key), json: { provider, audioUrl } });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    const [dreq] = await upstreamRequests("deepgram");
    expect(dreq.body).not.toHaveProperty("url");
    expect(dreq.headers["content-type"]).toBe("application/octet-stream"); // not the file's claimed JSON type
    const [oreq] = await upstreamRequests("openai");
    expect(oreq.body.files.file.size).toBe(size);
    // The URL's last segment, with the extension of what the bytes are.
    expect(oreq.body.files.file.filename).toBe("tone.wav");
  });

  it("requires a file or audioUrl", async () => {
    const u = await keyUser();
    const form = new FormData();
    form.append("provider", "openai");
    const res = await api("/v1/transcribe", { method: "POST", headers: bearer(u.key), body: form });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("validation_failed");
  });
});

describe("POST /v1/chat", () => {
  for (const c of CHAT_CASES) {
    it(`${c.provider}: normalized answer and usage`, async () => {
      const u = await keyUser();
      const res = await api("/v1/chat", {
        method: "POST",
        headers: { ...bearer(u.key), "x-provider-key-huggingface": "byok-hf-key" },
        json: {
          provider: c.provider,
          model: c.model,
          system: "Be brief.",
          messages: [{ role: "user", content: "hello there world" }],
          temperature: 0.5,
          maxTokens: 64,
        },
      });
      expect(res.status, await res.clone().text()).toBe(200);
      const body = (await res.json()) as any;
      expect(body).toMatchObject({
        success: true,
        provider: c.provider,
        model: c.model,
        message: { role: "assistant", content: "Echo: hello there world" },
      });
      expect(body.usage.inputTokens).toBeGreaterThan(0);
      expect(body.usage.outputTokens).toBe(4);
      const [req] = await upstreamRequests(c.provider);
      expect(req.headers[c.auth[0]]).toBe(c.auth[1]);
      expect(req.specErrors).toEqual([]);
      expect(req.specOperation, "the request was checked against the provider spec").toBeTruthy();
      expect(req.body.model).toBe(c.model);
      if (c.provider === "anthropic") {
        expect(req.body.system).toBe("Be brief.");
        expect(req.body.max_tokens).toBe(64);
        expect(req.headers["anthropic-version"]).toBe("2023-06-01");
      } else {
        expect(req.body.messages[0]).toEqual({ role: "system", content: "Be brief." });
      }
    });

    it(`${c.provider}: stream → delta events and a done event with the provider's usage`, async () => {
      const u = await keyUser();
      const res = await api("/v1/chat", {
        method: "POST",
        headers: { ...bearer(u.key), "x-provider-key-huggingface": "byok-hf-key" },
        json: { provider: c.provider, model: c.model, messages: [{ role: "user", content: "stream these four words" }], stream: true },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      const events = await readSse(res);
      const deltas = events
        .filter((e) => e.type === "delta")
        .map((e) => e.text)
        .join("");
      expect(deltas).toBe("Echo: stream these four words");
      const done = events.at(-1);
      expect(done.type).toBe("done");
      expect(done.usage.outputTokens).toBe(5);
      expect(done.usage.inputTokens).toBeGreaterThan(0);
      const [req] = await upstreamRequests(c.provider);
      expect(req.specErrors).toEqual([]);
      if (c.provider === "openai") expect(req.body.stream_options).toEqual({ include_usage: true });
    });
  }

  it("a stream cut short ends with the error event, never with a done event", async () => {
    const u = await keyUser();
    const cut = marker();
    // Cut after the role chunk and two words: the stream had started (a cut before the first token is a 502).
    await faultFor(cut, { provider: "openai", mode: "truncate", afterChunks: 3 });
    const res = await api("/v1/chat", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: `a b c d e f ${cut}` }], stream: true },
    });
    expect(res.status).toBe(200);
    const events = await readSse(res);
    expect(events.at(-1)).toMatchObject({ type: "error", error: { code: "provider_error" } });
    expect(events.some((e) => e.type === "done")).toBe(false);
  });
});

describe("provider keys and precedence", () => {
  it("BYOK header > stored key > platform key; X-Usage-Bypassed says which", async () => {
    const u = await keyUser();
    const call = (headers: Record<string, string> = {}) =>
      api("/v1/synthesize", {
        method: "POST",
        headers: { ...bearer(u.key), ...headers },
        json: { provider: "elevenlabs", text: "key test" },
      });

    const platform = await call();
    expect(platform.headers.get("x-usage-bypassed")).toBe("false");
    await platform.arrayBuffer();

    const put = await api("/v1/provider-keys", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "elevenlabs", apiKey: "stored-eleven-key-1234" },
    });
    expect(put.status).toBe(201);
    expect(((await put.json()) as any).providerKey).toMatchObject({ provider: "elevenlabs", last4: "1234", verifiedAt: null });
    const stored = await call();
    expect(stored.headers.get("x-usage-bypassed")).toBe("true");
    await stored.arrayBuffer();

    const byok = await call({ "X-PROVIDER-KEY-ELEVENLABS": "byok-eleven-key" });
    expect(byok.headers.get("x-usage-bypassed")).toBe("true");
    expect(byok.headers.get("x-provider-used")).toBe("elevenlabs");
    await byok.arrayBuffer();

    const reqs = await upstreamRequests("elevenlabs");
    expect(reqs.map((r) => r.headers["xi-api-key"])).toEqual(["platform-elevenlabs-key", "stored-eleven-key-1234", "byok-eleven-key"]);
  });

  it("no key anywhere: 400 provider_key_missing (the test deployment has no Hugging Face platform key)", async () => {
    const u = await keyUser();
    const res = await api("/v1/chat", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "huggingface", model: "meta-llama/llama-4-scout", messages: [{ role: "user", content: "x" }] },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("provider_key_missing");
    expect(await upstreamRequests("huggingface")).toHaveLength(0);
  });

  it("stored keys: list without the secret, verify valid and invalid, delete, aliases", async () => {
    const u = await keyUser();
    await api("/v1/provider-keys", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "resemble-ai", apiKey: "good-resemble-key" },
    });
    await api("/v1/provider-keys", { method: "POST", headers: bearer(u.key), json: { provider: "openai", apiKey: "invalid-openai-key" } });
    const list = (await (await api("/v1/provider-keys", { headers: bearer(u.key) })).json()) as any;
    expect(list.providerKeys.map((k: any) => k.provider)).toEqual(["openai", "resembleai"]);
    expect(JSON.stringify(list)).not.toContain("good-resemble-key");

    const ok = (await (await api("/v1/provider-keys/resembleai/verify", { method: "POST", headers: bearer(u.key) })).json()) as any;
    expect(ok).toEqual({ success: true, provider: "resembleai", valid: true, status: 200 });
    const bad = (await (await api("/v1/provider-keys/openai/verify", { method: "POST", headers: bearer(u.key) })).json()) as any;
    expect(bad).toEqual({ success: true, provider: "openai", valid: false, status: 401 });
    const [check] = await upstreamRequests("resembleai");
    expect(check.base).toBe("resembleai-mgmt");

    const relist = (await (await api("/v1/provider-keys", { headers: bearer(u.key) })).json()) as any;
    expect(relist.providerKeys.find((k: any) => k.provider === "resembleai").verifiedAt).not.toBeNull();
    expect((await api("/v1/provider-keys/openai", { method: "DELETE", headers: bearer(u.key) })).status).toBe(200);
    expect((await api("/v1/provider-keys/openai", { method: "DELETE", headers: bearer(u.key) })).status).toBe(404);
    expect((await api("/v1/provider-keys/nope", { method: "DELETE", headers: bearer(u.key) })).status).toBe(400);
  });

  it("verify works for every provider's key check (valid and invalid)", async () => {
    const u = await keyUser();
    for (const provider of [
      "elevenlabs",
      "openai",
      "anthropic",
      "cartesia",
      "deepgram",
      "fishaudio",
      "inworld",
      "resembleai",
      "groq",
      "huggingface",
    ]) {
      for (const [apiKey, valid] of [
        [`good-${provider}`, true],
        [`invalid-${provider}`, false],
      ] as const) {
        await api("/v1/provider-keys", { method: "POST", headers: bearer(u.key), json: { provider, apiKey } });
        const res = await api(`/v1/provider-keys/${provider}/verify`, { method: "POST", headers: bearer(u.key) });
        const body = (await res.json()) as any;
        expect(body.valid, `${provider} ${apiKey}`).toBe(valid);
      }
    }
  });

  it("verify: a key check the provider fails (5xx) or sheds (429) is a 502 with its status, not valid:false", async () => {
    const u = await keyUser();
    await api("/v1/provider-keys", { method: "POST", headers: bearer(u.key), json: { provider: "deepgram", apiKey: "good-deepgram-key" } });
    const verify = () => api("/v1/provider-keys/deepgram/verify", { method: "POST", headers: bearer(u.key) });
    for (const status of [503, 429]) {
      await mockControl("/fault", { method: "POST", json: { provider: "deepgram", path: "/v1/projects", mode: "error", status } });
      const res = await verify();
      const body = (await res.json()) as any;
      expect([res.status, body.error?.code, body.error?.providerStatus], `${status}`).toEqual([502, "provider_error", status]);
      expect(JSON.stringify(body)).not.toContain("good-deepgram-key");
    }
    const list = (await (await api("/v1/provider-keys", { headers: bearer(u.key) })).json()) as any;
    expect(list.providerKeys[0].verifiedAt).toBeNull();
    // The key check answering for itself again: valid.
    expect(await (await verify()).json()).toEqual({ success: true, provider: "deepgram", valid: true, status: 200 });
  });

  it("the D1 row holds no plaintext; a ciphertext moved to another user's row does not decrypt", async () => {
    const a = await keyUser();
    const b = await keyUser();
    await api("/v1/provider-keys", {
      method: "POST",
      headers: bearer(a.key),
      json: { provider: "cartesia", apiKey: "secret-of-a-cartesia" },
    });
    await api("/v1/provider-keys", {
      method: "POST",
      headers: bearer(b.key),
      json: { provider: "cartesia", apiKey: "secret-of-b-cartesia" },
    });
    const dump = JSON.stringify(await env.DB.prepare("SELECT * FROM provider_keys").all());
    expect(dump).not.toContain("secret-of-a");
    const rowA = (await env.DB.prepare("SELECT * FROM provider_keys WHERE user_id = ?").bind(a.id).first()) as any;
    await env.DB.prepare("UPDATE provider_keys SET ciphertext = ?, iv = ? WHERE user_id = ?").bind(rowA.ciphertext, rowA.iv, b.id).run();
    const res = await api("/v1/provider-keys/cartesia/verify", { method: "POST", headers: bearer(b.key) });
    expect([res.status, ((await res.json()) as any).error.code]).toEqual([400, "provider_key_missing"]);
  });

  it("a row sealed under an older master-key version still decrypts", async () => {
    const u = await keyUser();
    // Seal with master key v1 (the test config lists it in PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS).
    const { seal } = await import("../../src/crypto/provider-key-vault");
    const { getConfig } = await import("../../src/config");
    const config = {
      ...getConfig(env as any),
      PROVIDER_KEY_ENCRYPTION_KEY: env.TEST_MASTER_KEY_V1,
      PROVIDER_KEY_ENCRYPTION_KEY_VERSION: 1,
    };
    const sealed = await seal(config, u.id, "groq", "old-version-groq-key");
    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO provider_keys (user_id, provider, ciphertext, iv, key_version, last4, created_at, updated_at) VALUES (?, 'groq', ?, ?, 1, '-key', ?, ?)",
    )
      .bind(u.id, sealed.ciphertext, sealed.iv, now, now)
      .run();
    const res = (await (await api("/v1/provider-keys/groq/verify", { method: "POST", headers: bearer(u.key) })).json()) as any;
    expect(res).toEqual({ success: true, provider: "groq", valid: true, status: 200 });
    const [req] = await upstreamRequests("groq");
    expect(req.headers.authorization).toBe("Bearer old-version-groq-key");
  });
});

describe("provider failures", () => {
  it("provider 4xx → 502 with its status and message, never its key", async () => {
    const u = await keyUser();
    const res = await api("/v1/synthesize", {
      method: "POST",
      headers: { ...bearer(u.key), "x-provider-key-elevenlabs": "invalid-byok-key-123456789" },
      json: { provider: "elevenlabs", text: "x" },
    });
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.error).toMatchObject({ code: "provider_error", providerStatus: 401, provider: "elevenlabs" });
    expect(JSON.stringify(body)).not.toContain("invalid-byok-key-123456789");
  });

  it("time-to-first-byte limit → 504; connection reset → 502", async () => {
    const u = await keyUser();
    const slow = marker();
    await faultFor(slow, { provider: "openai", mode: "timeout", delayMs: 5000 });
    const t = await api("/v1/chat", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: slow }] },
    });
    expect(t.status).toBe(504);
    expect(((await t.json()) as any).error.code).toBe("provider_timeout");
    const reset = marker();
    await faultFor(reset, { provider: "openai", mode: "reset" });
    const r = await api("/v1/chat", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: reset }] },
    });
    expect(r.status).toBe(502);
  });

  it("invalid JSON or a wrong content type from the provider → 502", async () => {
    const u = await keyUser();
    const invalid = marker();
    await faultFor(invalid, { provider: "anthropic", mode: "invalid_json" });
    const a = await api("/v1/chat", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "anthropic", model: "claude-3-5-haiku-latest", messages: [{ role: "user", content: invalid }] },
    });
    expect(a.status).toBe(502);
    const wrong = marker();
    await faultFor(wrong, { provider: "deepgram", mode: "wrong_content_type" });
    const b = await api("/v1/synthesize", { method: "POST", headers: bearer(u.key), json: { provider: "deepgram", text: wrong } });
    expect(b.status).toBe(502);
  });
});
