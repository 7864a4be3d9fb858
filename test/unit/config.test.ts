// Configuration is validated once: a malformed variable is named in a clear error.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ConfigError, getConfig } from "../../src/config";
import { onError } from "../../src/app";

const base = () => ({ ...(env as any) });

describe("config", () => {
  it("parses the test deployment's variables", () => {
    const config = getConfig(base());
    expect(config.API_KEY_PREFIX).toBe("plabs_");
    expect(config.PROVIDER_TIMEOUT_MS).toBe(2000);
    expect(config.OPENAI_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/openai\/v1$/);
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
    ]) {
      expect(() => getConfig({ ...base(), [name]: value }), name).toThrowError(new RegExp(name));
      expect(() => getConfig({ ...base(), [name]: value })).toThrowError(ConfigError);
    }
  });

  it("a configuration error is a JSON 500 naming the variable, never an HTML page", async () => {
    const res = onError(new ConfigError("Invalid configuration: PROVIDER_TIMEOUT_MS: must be a positive integer"), {
      var: { requestId: "req_test" },
      json: (body: unknown, status: number) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } }),
    } as any);
    expect(res.status).toBe(500);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("misconfigured");
    expect(body.error.message).toContain("PROVIDER_TIMEOUT_MS");
  });
});
