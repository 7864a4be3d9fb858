// Shared by the reliability suite (test/unit/reliability/): the route table every route of the OpenAPI
// document must appear in, a direct caller for high request counts, the error-shape checks, D1 + KV
// snapshots, and a portal sign-in that works with or without the mock Twilio.
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { expect } from "vitest";
import worker from "../../src/index";
import { api, BASE } from "./api";
import { env } from "./env";
import { type JsonInit, withJson } from "./request";

// ---- calling the worker -----------------------------------------------------------------------------

const pending = new Set<ExecutionContext>();

/**
 * Calls the worker's fetch handler directly, in this isolate, with the real bindings (D1, KV, the
 * Account object). The suites that send thousands of requests use this rather than SELF.fetch: under
 * @cloudflare/vitest-pool-workers every SELF.fetch is slower than the one before it (3 ms → 300 ms
 * after ~1,000 requests here; cloudflare/workers-sdk#15446), which would make 10,000 requests take hours.
 * The app, its middleware order and its storage are the same either way.
 */
export async function call(path: string, init: JsonInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  pending.add(ctx);
  return worker.fetch(new Request(`${BASE}${path}`, withJson(init)), env as any, ctx);
}

/** Wait for every waitUntil task (settlements, lastUsedAt writes) of the requests made through `call`. */
export async function backgroundDone(): Promise<void> {
  const ctxs = [...pending];
  pending.clear();
  await Promise.all(ctxs.map((c) => waitOnExecutionContext(c).catch(() => undefined)));
}

// ---- the route table ----------------------------------------------------------------------------------

/**
 * Who may call a route:
 * - user: an API key or a JWT (/v1/*, /api/v1/*); everything else 401.
 * - admin: an admin JWT only (/api/admin/*); an API key or a user JWT 403.
 * - portal: the portal session only (/portal/api/*); API keys and JWTs 401.
 * - portal-signin: no credential (/portal/auth/*: signing in is how one gets a session); API keys and JWTs 401.
 * - portal-page: the page at GET /portal: no credential needed; under /portal, so API keys and JWTs 401.
 * - public: no credential, any credential ignored (/openapi.json, /docs).
 */
export type RouteClass = "user" | "admin" | "portal" | "portal-signin" | "portal-page" | "public";

/** What a path parameter names, so a test can put a real (or another user's) resource in it. */
export type ParamKind = "apiKey" | "providerKey" | "agent" | "user" | "webhook" | "model";

export interface RouteSpec {
  method: string;
  path: string;
  cls: RouteClass;
  /** Errors in OpenAI's shape {error:{message,type,param,code}} instead of Voxgate's. */
  openai: boolean;
  /** The route takes a body (POST/PUT/PATCH). */
  body: boolean;
  param?: ParamKind;
  /** In the OpenAPI document (false: served, but documented elsewhere, e.g. the document itself). */
  documented: boolean;
}

/**
 * EVERY route, listed explicitly: the credential suite fails when the OpenAPI document has a route this
 * list does not name, so a new route cannot ship without a credential class. The class comes from the
 * path prefix (classify below) unless the entry overrides it.
 */
const ROUTE_LIST: string[] = [
  // API keys (API.md §2) and the Sonna aliases
  "POST /v1/keys",
  "GET /v1/keys",
  "POST /v1/keys/{id}/rotate",
  "PATCH /v1/keys/{id}",
  "DELETE /v1/keys/{id}",
  "POST /api/v1/user/api-keys",
  "GET /api/v1/user/api-keys",
  "DELETE /api/v1/user/api-keys/{id}",
  // account
  "GET /v1/me",
  "GET /v1/usage",
  "GET /api/v1/user/credits",
  // integrations (§7.1): webhooks and the request log
  "POST /v1/webhooks",
  "GET /v1/webhooks",
  "DELETE /v1/webhooks/{id}",
  "POST /v1/webhooks/{id}/test",
  "GET /v1/webhooks/{id}/deliveries",
  "GET /v1/requests",
  // provider keys (§3)
  "POST /v1/provider-keys",
  "GET /v1/provider-keys",
  "POST /v1/provider-keys/{provider}/verify",
  "DELETE /v1/provider-keys/{provider}",
  // gateway (§4)
  "POST /v1/synthesize",
  "POST /v1/transcribe",
  "POST /v1/chat",
  "GET /v1/providers",
  // voice agents (§4)
  "POST /v1/agents",
  "GET /v1/agents",
  "GET /v1/agents/{id}",
  "PUT /v1/agents/{id}",
  "DELETE /v1/agents/{id}",
  "POST /v1/agents/{id}/chat",
  "POST /v1/agents/{id}/speak",
  // OpenAI-compatible surface (§4)
  "POST /v1/chat/completions",
  "POST /v1/audio/speech",
  "POST /v1/audio/transcriptions",
  "GET /v1/models",
  "GET /v1/models/{model}",
  // realtime voice over WebSockets (§4.3): without an Upgrade header a valid credential gets 426
  "POST /v1/realtime/tokens",
  "GET /v1/realtime/listen",
  "GET /v1/realtime/speak",
  "GET /v1/realtime",
  // admin (§7)
  "GET /api/admin/users/{id}",
  "PATCH /api/admin/users/{id}",
  "POST /api/admin/users/{id}/credits",
  "GET /api/admin/users/{id}/usage",
  // portal (§7)
  "POST /portal/auth/phone-number/send-otp",
  "POST /portal/auth/phone-number/verify",
  "POST /portal/auth/sign-out",
  "GET /portal/api/me",
  "GET /portal/api/usage",
  "POST /portal/api/keys",
  "GET /portal/api/keys",
  "POST /portal/api/keys/{id}/rotate",
  "PATCH /portal/api/keys/{id}",
  "DELETE /portal/api/keys/{id}",
  "POST /portal/api/provider-keys",
  "GET /portal/api/provider-keys",
  "POST /portal/api/provider-keys/{provider}/verify",
  "DELETE /portal/api/provider-keys/{provider}",
  "POST /portal/api/webhooks",
  "GET /portal/api/webhooks",
  "DELETE /portal/api/webhooks/{id}",
  "POST /portal/api/webhooks/{id}/test",
  "GET /portal/api/webhooks/{id}/deliveries",
  "GET /portal/api/requests",
  "POST /portal/api/realtime/tokens",
  // served outside the document
  "GET /openapi.json",
  "GET /docs",
  "GET /portal",
];

/** Routes that are served but are not (and need not be) operations of the OpenAPI document. */
const UNDOCUMENTED = new Set(["GET /openapi.json", "GET /docs", "GET /portal"]);

const OPENAI_ROOTS = ["/v1/chat/completions", "/v1/audio/speech", "/v1/audio/transcriptions", "/v1/models"];
/** The OpenAI-compatible paths and those under them (/v1/models/{model}, a 404 under one): errors in OpenAI's shape, same statuses. */
export const OPENAI_PATHS = {
  has: (path: string) => OPENAI_ROOTS.some((root) => path === root || path.startsWith(`${root}/`)),
};

export function classify(method: string, path: string): RouteClass {
  if (path === "/openapi.json" || path === "/docs") return "public";
  if (path === "/portal") return "portal-page";
  if (path.startsWith("/api/admin/")) return "admin";
  if (path.startsWith("/portal/api/")) return "portal";
  if (path.startsWith("/portal/auth/")) return "portal-signin";
  if (path.startsWith("/v1/") || path.startsWith("/api/v1/")) return "user";
  throw new Error(`no credential class for ${method} ${path}: add one to classify()`);
}

function paramKind(path: string): ParamKind | undefined {
  if (!path.includes("{")) return undefined;
  if (path.includes("{provider}")) return "providerKey";
  if (path === "/v1/models/{model}") return "model";
  if (path.startsWith("/api/admin/users/")) return "user";
  if (path.includes("/agents/")) return "agent";
  if (path.includes("/webhooks/")) return "webhook";
  if (path.includes("/keys/") || path.includes("/api-keys/")) return "apiKey";
  throw new Error(`unknown path parameter in ${path}`);
}

export const ROUTES: RouteSpec[] = ROUTE_LIST.map((entry) => {
  const [method, path] = entry.split(" ");
  if (method === undefined || path === undefined) throw new Error(`not "METHOD /path": ${entry}`);
  return {
    method,
    path,
    cls: classify(method, path),
    openai: OPENAI_PATHS.has(path),
    body: method === "POST" || method === "PUT" || method === "PATCH",
    param: paramKind(path),
    documented: !UNDOCUMENTED.has(entry),
  };
});

export const routeKey = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/** Every operation of the served OpenAPI document, as "METHOD /path/{param}". */
export async function documentedRoutes(): Promise<string[]> {
  const res = await call("/openapi.json");
  expect(res.status, "GET /openapi.json").toBe(200);
  const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
  const out: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) {
      if (["get", "post", "put", "patch", "delete"].includes(method)) out.push(routeKey(method, path));
    }
  }
  return out;
}

// ---- error shapes (API.md §8; OpenAI's on the OpenAI-compatible paths) ----------------------------------

/** Checks an error response's shape; returns a description of what is wrong, or undefined. */
export async function errorShapeProblem(res: Response, path: string): Promise<string | undefined> {
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("application/json")) return `content-type ${type || "(none)"}`;
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return `not JSON: ${text.slice(0, 120)}`;
  }
  if (OPENAI_PATHS.has(path)) {
    const e = body?.error;
    if (typeof e?.message !== "string" || typeof e?.type !== "string" || !("code" in e))
      return `not OpenAI's error shape: ${text.slice(0, 200)}`;
    return undefined;
  }
  if (body?.success !== false) return `success is not false: ${text.slice(0, 200)}`;
  if (typeof body.error?.code !== "string" || !/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(body.error.code))
    return `error.code not snake_case: ${text.slice(0, 200)}`;
  if (typeof body.error.message !== "string" || body.error.message.length === 0) return `no error.message: ${text.slice(0, 200)}`;
  if (typeof body.requestId !== "string" || body.requestId.length === 0) return `no requestId: ${text.slice(0, 200)}`;
  if (body.requestId !== res.headers.get("x-request-id"))
    return `requestId ${body.requestId} ≠ X-Request-Id ${res.headers.get("x-request-id")}`;
  return undefined;
}

// ---- D1 + KV snapshots --------------------------------------------------------------------------------

export interface Snapshot {
  d1: Record<string, string[]>;
  kv: Record<string, string | null>;
}

/** Every row of every D1 table (as sorted JSON lines) and every KV key with its value. */
export async function snapshot(opts: { skipTables?: string[] } = {}): Promise<Snapshot> {
  const tables = (
    await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name",
    ).all<{ name: string }>()
  ).results.map((r) => r.name);
  const d1: Record<string, string[]> = {};
  for (const t of tables) {
    if (opts.skipTables?.includes(t)) continue;
    const rows = (await env.DB.prepare(`SELECT * FROM "${t}"`).all()).results;
    d1[t] = rows.map((r) => JSON.stringify(r)).sort();
  }
  const kv: Record<string, string | null> = {};
  let cursor: string | undefined;
  do {
    const page = await env.USAGE.list(cursor ? { cursor } : {});
    for (const k of page.keys) kv[k.name] = await env.USAGE.get(k.name);
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return { d1, kv };
}

// ---- the portal session -------------------------------------------------------------------------------

let phoneSeq = 0;
export function newPhone(): string {
  const n = (Date.now() % 100_000) * 100 + (phoneSeq++ % 100);
  return `+1555${String(n).padStart(7, "0")}`;
}

/** The one-time code sent to `phone`: from Better Auth's verification row (codes are stored as `<code>:<attempts>`). */
export async function otpFor(phone: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const row = await env.DB.prepare("SELECT value FROM auth_verification WHERE identifier = ?")
      .bind(`phone-number-otp-${phone}`)
      .first<{ value: string }>();
    const code = row && /^(\d{4,8}):\d+$/.exec(row.value)?.[1];
    if (code) return code;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no sign-in code stored for ${phone}`);
}

/** Signs a phone number in through the portal (send-otp, then verify); the session cookie ("name=value"). */
export async function portalSession(phone = newPhone()): Promise<{ cookie: string; userId: string; phone: string }> {
  const origin = new URL(BASE).origin;
  const ip = `10.${(phoneSeq % 250) + 1}.${Math.floor(Math.random() * 250) + 1}.7`;
  const headers = { origin, "cf-connecting-ip": ip };
  const sent = await api("/portal/auth/phone-number/send-otp", { method: "POST", headers, json: { phoneNumber: phone } });
  if (sent.status !== 200) throw new Error(`send-otp → ${sent.status} ${await sent.text()}`);
  const res = await api("/portal/auth/phone-number/verify", {
    method: "POST",
    headers,
    json: { phoneNumber: phone, code: await otpFor(phone) },
  });
  if (res.status !== 200) throw new Error(`verify → ${res.status} ${await res.text()}`);
  const cookie = res.headers.getAll("set-cookie").find((c) => /session_token=/.test(c));
  if (!cookie) throw new Error("verify set no session cookie");
  const [nameValue = cookie] = cookie.split(";"); // split always yields a first part
  return { cookie: nameValue, userId: ((await res.json()) as any).user.id, phone };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- users, through `call` -------------------------------------------------------------------------------

export interface TestAccount {
  id: string;
  jwt: string;
}

let userSeq = 0;
/** A user seen through a JWT (created on first sight), put on `plan` by the admin API. */
export async function userOn(plan: string, extra: Record<string, unknown> = {}): Promise<TestAccount> {
  const { adminJwt, jwtFor } = await import("./api");
  const jwt = await jwtFor(`rel-${Date.now().toString(36)}-${userSeq++}-${Math.random().toString(36).slice(2, 8)}`);
  const me = await call("/v1/me", { headers: { authorization: `Bearer ${jwt}` } });
  if (me.status !== 200) throw new Error(`GET /v1/me → ${me.status} ${await me.text()}`);
  const id = ((await me.json()) as any).user.id as string;
  if (plan !== "free" || Object.keys(extra).length) {
    const res = await call(`/api/admin/users/${id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${await adminJwt()}` },
      json: { plan, ...extra },
    });
    if (res.status !== 200) throw new Error(`PATCH user → ${res.status} ${await res.text()}`);
  }
  return { id, jwt };
}

/** A new API key of the user (through `call`). */
export async function keyOf(user: TestAccount, body: Record<string, unknown> = {}): Promise<{ key: string; id: string }> {
  const res = await call("/v1/keys", { method: "POST", headers: { authorization: `Bearer ${user.jwt}` }, json: body });
  if (res.status !== 201) throw new Error(`POST /v1/keys → ${res.status} ${await res.text()}`);
  const json = (await res.json()) as any;
  return { key: json.key, id: json.apiKey.id };
}

/** The user's ledger as the Account object sees it (no cache, no KV lag). */
export function ledgerOf(userId: string) {
  return env.ACCOUNT.getByName(userId).summary(userId);
}

/** Poll until `check` passes or `timeoutMs` runs out; the last value either way. */
export async function until<T>(fn: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 8000): Promise<T> {
  const start = Date.now();
  let v = await fn();
  while (!check(v) && Date.now() - start < timeoutMs) {
    await sleep(50);
    v = await fn();
  }
  return v;
}

/** Register a fault with the mock providers (test/mocks/README.md). */
export async function fault(f: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${env.TEST_MOCK_ORIGIN}/__control/fault`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(f),
  });
  if (res.status !== 200) throw new Error(`mock fault → ${res.status} ${await res.text()}`);
}

/** Faults not yet used. */
export async function pendingFaults(): Promise<any[]> {
  return (await (await fetch(`${env.TEST_MOCK_ORIGIN}/__control/faults`)).json()) as any[];
}

/** Run `fn` over `items` with at most `limit` at a time. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  const queue = items.entries(); // one iterator shared by the workers: each takes the next item
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (const [i, item] of queue) out[i] = await fn(item, i);
    }),
  );
  return out;
}

/** Run `fn` inside the user's Account object (its instance and storage), e.g. to move time forward. */
export async function inAccount<R>(userId: string, fn: (instance: any, state: DurableObjectState) => Promise<R> | R): Promise<R> {
  const run = runInDurableObject as unknown as (
    stub: unknown,
    fn: (instance: any, state: DurableObjectState) => Promise<R> | R,
  ) => Promise<R>;
  return run((env as any).ACCOUNT.getByName(userId), fn);
}

/**
 * Move an open reservation's opening time (to make it stale, or of another month): in its table and in the
 * object's memory, where the ledger keeps the open ones (what a wake would read back from the table).
 */
export async function ageReservation(userId: string, reservationId: string, createdAt: (at: number) => number): Promise<void> {
  await inAccount(userId, (instance, state) => {
    const open = instance.ledger.open.get(reservationId);
    if (!open) throw new Error(`no open reservation ${reservationId}`);
    open.createdAt = createdAt(open.createdAt);
    state.storage.sql.exec("UPDATE reservations SET created_at = ? WHERE id = ?", open.createdAt, reservationId);
  });
}
