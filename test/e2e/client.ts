// Node-side helpers for end-to-end tests against the `wrangler dev` the harness started.
import { importJWK, SignJWT } from "jose";
import { inject } from "vitest";
import { type JsonInit, withJson } from "../helpers/request";

export const workerUrl = () => inject("workerUrl");
export const mockOrigin = () => inject("mockOrigin");

export async function call(path: string, init: JsonInit = {}): Promise<Response> {
  return fetch(`${workerUrl()}${path}`, withJson(init));
}

export const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

export async function jwtFor(sub: string, role?: string): Promise<string> {
  const key = await importJWK(JSON.parse(inject("jwtPrivateJwk")), "ES256");
  return new SignJWT(role ? { role } : {})
    .setProtectedHeader({ alg: "ES256", kid: "test-es256" })
    .setSubject(sub)
    .setIssuer("https://auth.voxgate.test/")
    .setAudience("voxgate-api")
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(key);
}

let n = 0;
export async function payingUser(plan = "pro", extra: Record<string, unknown> = {}) {
  const sub = `e2e-${Date.now().toString(36)}-${n++}-${Math.random().toString(36).slice(2, 7)}`;
  const jwt = await jwtFor(sub);
  const me = (await (await call("/v1/me", { headers: bearer(jwt) })).json()) as any;
  const id = me.user.id as string;
  const res = await call(`/api/admin/users/${id}`, {
    method: "PATCH",
    headers: bearer(await jwtFor("e2e-admin", "admin")),
    json: { plan, ...extra },
  });
  if (res.status !== 200) throw new Error(`PATCH → ${res.status} ${await res.text()}`);
  const key = (await (await call("/v1/keys", { method: "POST", headers: bearer(jwt), json: { name: "e2e" } })).json()) as any;
  return { id, jwt, key: key.key as string, keyId: key.apiKey.id as string };
}

export async function mock(path: string, init: JsonInit = {}) {
  return fetch(`${mockOrigin()}/__control${path}`, withJson(init));
}

export async function upstream(provider: string): Promise<any[]> {
  return (await (await mock(`/requests?provider=${provider}`)).json()) as any[];
}

export async function settled<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 8000): Promise<T> {
  const start = Date.now();
  let v = await fn();
  while (!ok(v) && Date.now() - start < timeoutMs) {
    await new Promise((r) => setTimeout(r, 100));
    v = await fn();
  }
  return v;
}
