// Configuration is validated once: a malformed variable is named in a clear error.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ConfigError, getConfig } from "../../src/config";
import worker from "../../src/index";
import { BASE_URL_VARIABLES, PROVIDERS } from "../../src/providers/registry";
import { env } from "../helpers/env";

const base = () => ({ ...(env as any) });

describe("config", () => {
  it("parses the test deployment's variables", () => {
    const config = getConfig(base());
    expect(config.API_KEY_PREFIX).toBe("plabs_");
    expect(config.PROVIDER_TIMEOUT_MS).toBe(2000);
    expect(config.providerUrls.openai?.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/openai\/v1$/);
  });

  it("every provider's base-URL variables come from its adapter, and the test deployment sets each one", () => {
    const config = getConfig(base());
    const vars = base() as Record<string, unknown>;
    expect(BASE_URL_VARIABLES.length).toBeGreaterThanOrEqual(PROVIDERS.length);
    for (const v of BASE_URL_VARIABLES) {
      expect(vars[v.name], `${v.name} is set for the tests`).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      expect(config.providerUrls[v.provider]?.[v.entry], v.name).toBe(vars[v.name]);
    }
    // Unset, each falls back to the adapter's own default.
    const bare = getConfig(Object.fromEntries(Object.entries(vars).filter(([k]) => !k.endsWith("_BASE_URL"))) as never);
    for (const p of PROVIDERS) expect(bare.providerUrls[p.id]).toEqual(p.baseUrls);
  });

  it("an empty or blank variable is unset: its default applies (surrounding spaces are dropped)", () => {
    for (const blank of ["", "  "]) {
      const config = getConfig({
        ...base(),
        SMS_PROVIDER: blank,
        DEFAULT_TTS_PROVIDER: blank,
        DEFAULT_STT_PROVIDER: blank,
        DEFAULT_LLM_PROVIDER: blank,
      });
      expect(config.SMS_PROVIDER).toBe("console");
      expect([config.DEFAULT_TTS_PROVIDER, config.DEFAULT_STT_PROVIDER, config.DEFAULT_LLM_PROVIDER]).toEqual([
        "elevenlabs",
        "openai",
        "openai",
      ]);
    }
    const spaced = getConfig({ ...base(), SMS_PROVIDER: " twilio ", DEFAULT_TTS_PROVIDER: " cartesia " });
    expect([spaced.SMS_PROVIDER, spaced.DEFAULT_TTS_PROVIDER]).toEqual(["twilio", "cartesia"]);
  });

  it("names each malformed variable", () => {
    for (const [name, value] of [
      ["PROVIDER_TIMEOUT_MS", "soon"],
      ["OPENAI_BASE_URL", "ftp://x"],
      ["JWT_JWKS", "{not json"],
      ["PROVIDER_KEY_ENCRYPTION_KEY", "c2hvcnQ="],
      ["API_KEY_PREFIX", "bad prefix!"],
      ["SMS_PROVIDER", "pigeon"],
      ["DEBUG_STORAGE_COUNTS", "maybe"],
    ] as const) {
      expect(() => getConfig({ ...base(), [name]: value }), name).toThrowError(new RegExp(name));
      expect(() => getConfig({ ...base(), [name]: value })).toThrowError(ConfigError);
    }
  });

  it("PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS is validated like the current key: a bad entry is named, its key never shown", async () => {
    const k1 = btoa("1".repeat(32));
    const k2 = btoa("2".repeat(32));
    const short = btoa("short-key-material");
    const current = { PROVIDER_KEY_ENCRYPTION_KEY: k2, PROVIDER_KEY_ENCRYPTION_KEY_VERSION: "2" };
    for (const bad of [
      `1:${short}`, // not 32 bytes
      "1:not base64!", // not base64 (and not one token)
      k1, // no version
      `0:${k1}`, // version not positive
      `v1:${k1}`,
      `1:${k1} 3:${k1}`, // a missing comma
      `1:${k1},1:${k1}`, // a version twice
      `2:${k1}`, // the current version, with another key
    ]) {
      const attempt = () => getConfig({ ...base(), ...current, PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS: bad });
      expect(attempt, bad).toThrowError(ConfigError);
      expect(attempt, bad).toThrowError(/PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS/);
      try {
        attempt();
      } catch (e) {
        for (const secret of [k1, short]) expect((e as Error).message, bad).not.toContain(secret);
      }
    }
    // Blank, spaced, a trailing comma, and the current key listed under its own version are all fine.
    expect(
      getConfig({ ...base(), ...current, PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS: "  " }).PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS.size,
    ).toBe(0);
    const ok = getConfig({ ...base(), ...current, PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS: ` 1 : ${k1} , 2:${k2},` });
    expect([...ok.PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS]).toEqual([
      [1, k1],
      [2, k2],
    ]);

    // Through the real worker: a JSON 500 misconfigured naming the variable, as for PRICES.
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request("http://voxgate.test/v1/me"),
      { ...base(), PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS: `1:${short}` },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(500);
    const body = (await res.json()) as any;
    expect([body.error.code, body.error.message]).toEqual([
      "misconfigured",
      expect.stringContaining("PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS"),
    ]);
    expect(body.error.message).not.toContain(short);
  });

  it("a configuration error is a JSON 500 naming the variable, never an HTML page", async () => {
    // The real worker with one malformed variable: the error comes out of the app's own onError.
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request("http://voxgate.test/v1/me"), { ...base(), PROVIDER_TIMEOUT_MS: "soon" }, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("misconfigured");
    expect(body.error.message).toContain("PROVIDER_TIMEOUT_MS");
    expect(body.requestId).toBe(res.headers.get("x-request-id"));
  });
});
