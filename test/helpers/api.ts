// Test-side helpers (run inside workerd): call the worker, mint JWTs, make paying users and keys.
import { SELF } from "cloudflare:test";
import { generateKeyPair, importJWK, SignJWT } from "jose";
import { env } from "./env";
import { type JsonInit, withJson } from "./request";

export const BASE = "http://voxgate.test";

export async function api(path: string, init: JsonInit = {}): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, withJson(init));
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export interface JwtOptions {
  role?: string;
  issuer?: string;
  audience?: string;
  expiresIn?: string | number;
  key?: CryptoKey;
  alg?: string;
}

export async function jwtFor(sub: string, opts: JwtOptions = {}): Promise<string> {
  const key = opts.key ?? ((await importJWK(JSON.parse(env.TEST_JWT_PRIVATE_JWK), "ES256")) as CryptoKey);
  const payload: Record<string, unknown> = {};
  if (opts.role) payload.role = opts.role;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: opts.alg ?? "ES256", kid: "test-es256" })
    .setSubject(sub)
    .setIssuer(opts.issuer ?? "https://auth.voxgate.test/")
    .setAudience(opts.audience ?? "voxgate-api")
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? "10m")
    .sign(key);
}

export async function otherSigningKey(): Promise<CryptoKey> {
  return (await generateKeyPair("ES256")).privateKey as CryptoKey;
}

/** An unsigned token (alg: none). */
export function unsignedJwt(sub: string): string {
  const enc = (o: unknown) => btoa(JSON.stringify(o)).replaceAll("=", "").replaceAll("+", "-").replaceAll("/", "_");
  const now = Math.floor(Date.now() / 1000);
  return `${enc({ alg: "none", typ: "JWT" })}.${enc({ sub, iss: "https://auth.voxgate.test/", aud: "voxgate-api", iat: now, exp: now + 600, role: "admin" })}.`;
}

let counter = 0;
export function uniqueSub(label = "user"): string {
  return `${label}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function adminJwt(): Promise<string> {
  return jwtFor("admin-operator", { role: "admin" });
}

export interface TestUser {
  sub: string;
  jwt: string;
  id: string;
}

/** A user seen through a JWT (created on first sight), optionally made paying by the admin API. */
export async function newUser(opts: { plan?: string; paygCredits?: number; planExpiresAt?: string | null } = {}): Promise<TestUser> {
  const sub = uniqueSub();
  const jwt = await jwtFor(sub);
  const me = await api("/v1/me", { headers: bearer(jwt) });
  if (me.status !== 200) throw new Error(`GET /v1/me → ${me.status} ${await me.text()}`);
  const id = ((await me.json()) as any).user.id as string;
  const patch: Record<string, unknown> = {};
  if (opts.plan) patch.plan = opts.plan;
  if (opts.paygCredits !== undefined) patch.paygCredits = opts.paygCredits;
  if (opts.planExpiresAt !== undefined) patch.planExpiresAt = opts.planExpiresAt;
  if (Object.keys(patch).length) {
    const res = await api(`/api/admin/users/${id}`, { method: "PATCH", headers: bearer(await adminJwt()), json: patch });
    if (res.status !== 200) throw new Error(`PATCH user → ${res.status} ${await res.text()}`);
  }
  return { sub, jwt, id };
}

export async function createKey(jwt: string, body: Record<string, unknown> = {}): Promise<{ key: string; id: string }> {
  const res = await api("/v1/keys", { method: "POST", headers: bearer(jwt), json: body });
  if (res.status !== 201) throw new Error(`POST /v1/keys → ${res.status} ${await res.text()}`);
  const json = (await res.json()) as any;
  return { key: json.key, id: json.apiKey.id };
}

/** Storage round trips the request made, from X-Voxgate-Storage. */
export function storageCounts(res: Response): Record<string, number> {
  const header = res.headers.get("x-voxgate-storage") ?? "";
  return Object.fromEntries(
    header
      .split(",")
      .map((p) => p.trim().split("="))
      .map(([k, v]) => [k, Number(v)]),
  );
}

export async function mockControl(path: string, init: JsonInit = {}): Promise<Response> {
  return fetch(`${env.TEST_MOCK_ORIGIN}/__control${path}`, withJson(init));
}

/** A word only one request carries, so a mock fault aimed at it cannot hit a test running at the same time. */
export function marker(): string {
  return `m${crypto.randomUUID().replaceAll("-", "").slice(0, 15)}`;
}

/**
 * Register a mock fault for the one request whose body includes `bodyIncludes` (the mock is shared by
 * every test file running at once; an untargeted fault could be taken — or reset — by another file).
 */
export async function faultFor(bodyIncludes: string, spec: Record<string, unknown>): Promise<void> {
  const res = await mockControl("/fault", { method: "POST", json: { ...spec, bodyIncludes } });
  if (res.status !== 200) throw new Error(`mock fault → ${res.status} ${await res.text()}`);
}

export async function upstreamRequests(provider: string): Promise<any[]> {
  return (await (await mockControl(`/requests?provider=${provider}`)).json()) as any[];
}

/** Poll until `check` passes (settlement runs after the response, in waitUntil). */
export async function eventually<T>(fn: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const start = Date.now();
  let last: T = await fn();
  while (!check(last)) {
    if (Date.now() - start > timeoutMs) return last;
    await new Promise((r) => setTimeout(r, 50));
    last = await fn();
  }
  return last;
}

export async function usageOf(jwt: string): Promise<any> {
  return (await api("/v1/usage", { headers: bearer(jwt) })).json();
}

/** A paying user with an API key. */
export async function newKeyUser(plan = "scale"): Promise<TestUser & { key: string }> {
  const u = await newUser({ plan });
  const { key } = await createKey(u.jwt);
  return { ...u, key };
}

/** An HS256 token: not on the algorithm allow-list, whatever it claims. */
export async function hs256Jwt(sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuer("https://auth.voxgate.test/")
    .setAudience("voxgate-api")
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode("x".repeat(32)));
}

/** A multipart body for POST /v1/audio/transcriptions: `bytes` of (mock) audio as clip.wav, the model, other fields. */
export function transcriptionForm(model: string, bytes: number, extra: [string, string][] = []): FormData {
  const form = new FormData();
  form.append("file", new File([new Uint8Array(bytes)], "clip.wav", { type: "audio/wav" }));
  form.append("model", model);
  for (const [k, v] of extra) form.append(k, v);
  return form;
}

/** POST /v1/audio/transcriptions (the OpenAI-compatible route) with `form`. */
export const openAiTranscribe = (key: string, form: FormData) =>
  api("/v1/audio/transcriptions", { method: "POST", headers: bearer(key), body: form });
