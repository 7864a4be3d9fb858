// Hostile tokens and an unreachable key set (issue 13, API.md §1): a JWT must carry `exp` and `sub`
// (otherwise 401, admin role or not), and when the remote JWKS (JWT_JWKS_URL) cannot be fetched a JWT
// request gets 503 auth_unavailable — never 401 (the caller's token may be fine) and never 500.
// Every JWKS URL here is on loopback: a port where nothing listens, or the mock server.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { importJWK, SignJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import { verifyJwt } from "../../../src/auth/jwt";
import { getConfig } from "../../../src/config";
import worker from "../../../src/index";
import { BASE, bearer, jwtFor, mockControl, newKeyUser, uniqueSub } from "../../helpers/api";
import { env } from "../../helpers/env";
import { withJson } from "../../helpers/request";

/** A token signed with the test key, with exactly the claims given (no exp/sub unless asked for). */
async function tokenWith(claims: { sub?: string; exp?: boolean; role?: string }): Promise<string> {
  const key = (await importJWK(JSON.parse(env.TEST_JWT_PRIVATE_JWK), "ES256")) as CryptoKey;
  const jwt = new SignJWT(claims.role ? { role: claims.role } : {})
    .setProtectedHeader({ alg: "ES256", kid: "test-es256" })
    .setIssuer("https://auth.voxgate.test/")
    .setAudience("voxgate-api")
    .setIssuedAt();
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  if (claims.exp) jwt.setExpirationTime("10m");
  return jwt.sign(key);
}

/** Calls the worker's fetch handler with the test env, changed by `vars` (a fresh env object: its own config). */
async function callWith(vars: Record<string, string>, path: string, headers: Record<string, string>): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${BASE}${path}`, withJson({ headers })), { ...(env as any), ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const nonce = () => `jwks-${crypto.randomUUID()}`;

describe("JWT claims", () => {
  it("a token without exp, or without sub, is refused with 401 (the same token with both passes)", async () => {
    const sub = uniqueSub("jwt-claims");
    const both = await tokenWith({ sub, exp: true });
    const noExp = await tokenWith({ sub });
    const noSub = await tokenWith({ exp: true });
    const neither = await tokenWith({});
    expect((await callWith({}, "/v1/me", bearer(both))).status).toBe(200);
    for (const [label, token] of [
      ["no exp", noExp],
      ["no sub", noSub],
      ["neither", neither],
    ] as const) {
      const res = await callWith({}, "/v1/me", bearer(token));
      expect(res.status, label).toBe(401);
      const body = (await res.json()) as any;
      expect(body.error.code, label).toBe("unauthorized");
    }
  });

  it("a token issued in the future (iat past a minute of clock skew) is refused with 401", async () => {
    const key = (await importJWK(JSON.parse(env.TEST_JWT_PRIVATE_JWK), "ES256")) as CryptoKey;
    const issuedIn = (seconds: number) =>
      new SignJWT({})
        .setProtectedHeader({ alg: "ES256", kid: "test-es256" })
        .setIssuer("https://auth.voxgate.test/")
        .setAudience("voxgate-api")
        .setSubject(uniqueSub("jwt-iat"))
        .setIssuedAt(Math.floor(Date.now() / 1000) + seconds)
        .setExpirationTime(Math.floor(Date.now() / 1000) + seconds + 600)
        .sign(key);
    const future = await callWith({}, "/v1/me", bearer(await issuedIn(3600)));
    expect(future.status).toBe(401);
    expect(((await future.json()) as any).error.code).toBe("unauthorized");
    expect((await callWith({}, "/v1/me", bearer(await issuedIn(30)))).status).toBe(200);
  });

  it("an admin token without exp is refused with 401 on /api/admin routes (with exp it passes)", async () => {
    const me = await callWith({}, "/v1/me", bearer(await jwtFor(uniqueSub("jwt-target"))));
    const userId = ((await me.json()) as any).user.id;
    const good = await tokenWith({ sub: "admin-operator", exp: true, role: "admin" });
    expect((await callWith({}, `/api/admin/users/${userId}`, bearer(good))).status).toBe(200);
    const permanent = await tokenWith({ sub: "admin-operator", role: "admin" });
    for (const path of [`/api/admin/users/${userId}`, `/api/admin/users/${userId}/usage`]) {
      const res = await callWith({}, path, bearer(permanent));
      expect(res.status, path).toBe(401);
    }
    const noSub = await tokenWith({ exp: true, role: "admin" });
    expect((await callWith({}, `/api/admin/users/${userId}`, bearer(noSub))).status).toBe(401);
  });
});

describe("an unreachable JWKS", () => {
  async function expectUnavailable(url: string, label: string, paths = ["/v1/me", "/api/admin/users/x"]) {
    const token = await jwtFor(uniqueSub("jwks"));
    for (const path of paths) {
      const res = await callWith({ JWT_JWKS_URL: url, JWT_JWKS: "" }, path, bearer(token));
      const body = (await res.json()) as any;
      expect(res.status, `${label} ${path}: ${JSON.stringify(body)}`).toBe(503);
      expect(body.error.code, label).toBe("auth_unavailable");
      expect(body.success).toBe(false);
    }
  }

  it("nothing listens at the URL (loopback port 1): 503 auth_unavailable", async () => {
    await expectUnavailable(`http://127.0.0.1:1/${nonce()}/jwks.json`, "connection refused");
  });

  it("the URL answers 404 or 500: 503 auth_unavailable", async () => {
    // The mock serves no such path: 404.
    await expectUnavailable(`${env.TEST_MOCK_ORIGIN}/${nonce()}/jwks.json`, "404");
    // A fault aimed at this URL's unique path only: 500.
    const path = nonce();
    const fault = await mockControl("/fault", { method: "POST", json: { provider: "openai", path, mode: "error", status: 500, times: 4 } });
    expect(fault.status).toBe(200);
    await expectUnavailable(`${env.TEST_MOCK_ORIGIN}/openai/v1/${path}`, "500");
  });

  it("the URL answers 200 with invalid JSON, or JSON that is not a key set: 503 auth_unavailable", async () => {
    const path = nonce();
    await mockControl("/fault", { method: "POST", json: { provider: "openai", path, mode: "invalid_json", times: 4 } });
    await expectUnavailable(`${env.TEST_MOCK_ORIGIN}/openai/v1/${path}`, "invalid JSON");
    // The mock's health document: 200 JSON, not {"keys":[…]}.
    await expectUnavailable(`${env.TEST_MOCK_ORIGIN}/__control/health?${nonce()}`, "not a JWKS");
  });

  it("the URL answers nothing within jose's timeout: 503 auth_unavailable", async () => {
    const path = nonce();
    await mockControl("/fault", { method: "POST", json: { provider: "openai", path, mode: "timeout", delayMs: 8000, times: 1 } });
    await expectUnavailable(`${env.TEST_MOCK_ORIGIN}/openai/v1/${path}`, "timeout", ["/v1/me"]);
  }, 20_000);

  it("an API key still works while the JWKS is unreachable; a malformed token is still 401", async () => {
    const vars = { JWT_JWKS_URL: `http://127.0.0.1:1/${nonce()}`, JWT_JWKS: "" };
    const { key } = await newKeyUser();
    expect((await callWith(vars, "/v1/me", bearer(key))).status).toBe(200);
    expect((await callWith(vars, "/v1/me", bearer("not.a-jwt"))).status).toBe(401);
  });
});

describe("verified tokens remembered per isolate", () => {
  async function signed(sub: string, expiresAt: number): Promise<string> {
    const key = (await importJWK(JSON.parse(env.TEST_JWT_PRIVATE_JWK), "ES256")) as CryptoKey;
    return new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: "test-es256" })
      .setIssuer("https://auth.voxgate.test/")
      .setAudience("voxgate-api")
      .setSubject(sub)
      .setExpirationTime(expiresAt)
      .sign(key);
  }

  it("a token's signature is checked once, but only against the key set, issuer and audience it passed", async () => {
    const config = getConfig(env as any);
    const token = await signed(uniqueSub("jwt-cache"), Math.floor(Date.now() / 1000) + 600);
    const verify = vi.spyOn(crypto.subtle, "verify");
    try {
      expect((await verifyJwt(token, config)).ok).toBe(true);
      const checks = verify.mock.calls.length;
      expect(checks).toBeGreaterThan(0);
      for (let i = 0; i < 5; i++) expect((await verifyJwt(token, config)).ok).toBe(true);
      expect(verify.mock.calls.length).toBe(checks);
      // Another audience, or a key set without the token's key: verified afresh, and refused.
      expect(await verifyJwt(token, { ...config, JWT_AUDIENCE: "another-api" })).toMatchObject({ ok: false });
      const otherKeys = JSON.stringify({ keys: [{ ...JSON.parse(config.JWT_JWKS!).keys[0], kid: "someone-else" }] });
      expect(await verifyJwt(token, { ...config, JWT_JWKS: otherKeys })).toMatchObject({ ok: false });
    } finally {
      verify.mockRestore();
    }
  });

  it("a remembered token is refused once its exp has passed", async () => {
    const config = getConfig(env as any);
    const token = await signed(uniqueSub("jwt-cache-exp"), Math.floor(Date.now() / 1000) + 2);
    expect((await verifyJwt(token, config)).ok).toBe(true);
    expect((await verifyJwt(token, config)).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await verifyJwt(token, config)).toMatchObject({ ok: false, reason: "token expired" });
  }, 10_000);
});
