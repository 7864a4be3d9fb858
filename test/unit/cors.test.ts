// CORS (src/http/cors.ts): a browser app on another origin may call the bearer-credential APIs — its
// preflight answered without credentials, the answers readable with their X-Usage-* / X-RateLimit-* /
// Server-Timing headers — never credentialed, and never the portal (a cookie session). CORS_ORIGINS narrows it.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { env } from "../helpers/env";
import { call, keyOf, userOn } from "../helpers/reliability";

const APP = "https://app.example.com";

/** The worker with the test env changed by `vars` (a fresh env object: its own config). */
async function callWith(vars: Record<string, string>, path: string, init: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://voxgate.test${path}`, init) as any, { ...(env as any), ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const preflightOf = (path: string, method: string, origin = APP, headers = "authorization, content-type, idempotency-key") =>
  ({
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": method, "access-control-request-headers": headers },
  }) as RequestInit;

describe("CORS", () => {
  it("a preflight for a route that exists is 204 without credentials, allowing the method and the headers asked for", async () => {
    const res = await call("/v1/chat", preflightOf("/v1/chat", "POST") as any);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toBe("POST");
    expect(res.headers.get("access-control-allow-headers")).toBe("authorization, content-type, idempotency-key");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    // Sonna's alias, a key's rotate and an admin route likewise.
    for (const [path, method] of [
      ["/api/v1/user/api-keys", "POST"],
      ["/v1/keys/key_x/rotate", "POST"],
      ["/v1/keys/key_x", "DELETE"],
      ["/api/admin/users/u1", "PATCH"],
    ]) {
      const r = await call(path!, preflightOf(path!, method!) as any);
      expect(r.status, `${method} ${path}`).toBe(204);
    }
  });

  it("no preflight for an unknown route, a method the route lacks, or the portal (its cookie session stays same-origin)", async () => {
    for (const [path, method] of [
      ["/v1/nope", "POST"],
      ["/v1/me", "DELETE"],
      ["/portal/api/keys", "POST"],
      ["/portal/auth/phone-number/send-otp", "POST"],
    ]) {
      const res = await call(path!, preflightOf(path!, method!) as any);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get("access-control-allow-methods"), `${method} ${path}`).toBeNull();
      // The 404 itself is readable on the bearer APIs; the portal's paths carry no CORS header at all.
      const origin = res.headers.get("access-control-allow-origin");
      expect(origin, `${method} ${path}`).toBe(path!.startsWith("/portal/") ? null : "*");
      expect(((await res.json()) as any).success).toBe(false);
    }
  });

  it("answers to a cross-origin request — successes and errors alike — are readable, with the usage headers exposed", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const ok = await call("/v1/me", { headers: { authorization: `Bearer ${key.key}`, origin: APP } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("*");
    const exposed = (ok.headers.get("access-control-expose-headers") ?? "").split(/,\s*/);
    for (const h of ["x-request-id", "x-usage-remaining", "x-ratelimit-remaining", "retry-after", "server-timing", "x-provider-used"]) {
      expect(exposed).toContain(h);
    }
    expect(ok.headers.get("timing-allow-origin")).toBe("*");
    const denied = await call("/v1/me", { headers: { authorization: "Bearer plabs_nope", origin: APP } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("access-control-allow-origin")).toBe("*");
    // No Origin (not a browser): no CORS headers. The portal: none either.
    const plain = await call("/v1/me", { headers: { authorization: `Bearer ${key.key}` } });
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
    const portal = await call("/portal/api/me", { headers: { origin: APP } });
    expect(portal.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("CORS_ORIGINS lists the origins allowed (echoed, Vary: Origin), or none; a bad value is 500 misconfigured naming it", async () => {
    const vars = { CORS_ORIGINS: `${APP}, http://localhost:5173` };
    const allowed = await callWith(vars, "/v1/chat", preflightOf("/v1/chat", "POST"));
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(APP);
    expect(allowed.headers.get("vary")).toContain("Origin");
    const other = await callWith(vars, "/v1/chat", preflightOf("/v1/chat", "POST", "https://evil.example"));
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    expect(other.status).not.toBe(204);
    const answer = await callWith(vars, "/v1/me", { headers: { origin: "http://localhost:5173" } });
    expect(answer.status).toBe(401);
    expect(answer.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    const none = await callWith({ CORS_ORIGINS: "none" }, "/v1/me", { headers: { origin: APP } });
    expect(none.headers.get("access-control-allow-origin")).toBeNull();
    const bad = await callWith({ CORS_ORIGINS: "app.example.com/path" }, "/v1/me", { headers: { origin: APP } });
    expect(bad.status).toBe(500);
    const body = (await bad.json()) as any;
    expect(body.error.code).toBe("misconfigured");
    expect(body.error.message).toContain("CORS_ORIGINS");
  });
});
