// One node:http server on 127.0.0.1 that stands in for all ten upstream providers, each under a
// path prefix (everything after the prefix is the provider's real path). See README.md here.
//
//   const mock = await startMockProviders({ port: 0 });
//   mock.baseUrls  // { OPENAI_BASE_URL: "http://127.0.0.1:PORT/openai/v1", ... }
//   await mock.close();
//
// CLI: node test/mocks/providers.mjs --port 9999 [--no-spec] [--specs DIR]
//      prints the JSON of baseUrls and serves until SIGINT/SIGTERM.
//
// Per request: parse the body, check it against the provider's OpenAPI spec (problems recorded as
// specErrors, never rejected), record it, apply a pending fault, check auth, then answer in the
// provider's wire format. Control API under /__control/ (reset, requests, fault, faults, health).
// WebSocket upgrades on the same server and prefixes speak the providers' realtime protocols
// (realtime/server.mjs); their sessions are recorded in the same list with kind "websocket".

import { existsSync } from "node:fs";
import http from "node:http";
import { setTimeout as sleepTimer } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describeMultipart, parseMultipart } from "./lib/multipart.mjs";
import { json, mockId } from "./lib/respond.mjs";
import { SpecChecker } from "./lib/spec-check.mjs";
import anthropic from "./providers/anthropic.mjs";
import cartesia from "./providers/cartesia.mjs";
import deepgram from "./providers/deepgram.mjs";
import elevenlabs from "./providers/elevenlabs.mjs";
import fishaudio from "./providers/fishaudio.mjs";
import groq from "./providers/groq.mjs";
import huggingface from "./providers/huggingface.mjs";
import inworld from "./providers/inworld.mjs";
import openai from "./providers/openai.mjs";
import resembleai from "./providers/resembleai.mjs";
import { attachRealtime, WS_FAULT_MODES } from "./realtime/server.mjs";
import { mockTone } from "./tone.mjs";

export const PROVIDERS = [elevenlabs, openai, anthropic, cartesia, deepgram, fishaudio, inworld, resembleai, groq, huggingface];
export const PROVIDER_IDS = PROVIDERS.map((p) => p.id);

const FAULT_MODES = new Set([
  "error",
  "stream_error",
  "timeout",
  "reset",
  "truncate",
  "slow",
  "stall",
  "invalid_json",
  "unexpected_json",
  "wrong_content_type",
  "empty",
  ...WS_FAULT_MODES,
]);
const WS_MODES = new Set(WS_FAULT_MODES);
const DEFAULT_MAX_RECORDS = 5000;

/** Where the OpenAPI specs are: option > $MOCK_SPECS_DIR > test/mocks/specs > /work/shared/reference/specs. */
export function defaultSpecsDir() {
  const candidates = [process.env.MOCK_SPECS_DIR, fileURLToPath(new URL("./specs/", import.meta.url)), "/work/shared/reference/specs"];
  return candidates.find((d) => d && existsSync(d)) || null;
}

// ---------------------------------------------------------------------------------------------
// Routing tables

function compileTemplate(template) {
  const src = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}$/.exec(part);
      if (m) return m[2] ? `(?<${m[1]}>.+)` : `(?<${m[1]}>[^/]+)`;
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  return new RegExp(`^${src}/?$`);
}

const BASES = PROVIDERS.flatMap((provider) => provider.bases.map((base) => ({ ...base, provider })))
  // longest prefix first, so /resembleai-mgmt wins over /resembleai
  .sort((a, b) => b.prefix.length - a.prefix.length);

const ROUTES = new Map(
  PROVIDERS.map((p) => [
    p.id,
    p.routes.map(([method, template, handler, opts = {}]) => ({
      method,
      template,
      regex: compileTemplate(template),
      handler,
      base: opts.base,
    })),
  ]),
);

function matchBase(pathname) {
  for (const base of BASES) {
    if (pathname === base.prefix || pathname.startsWith(`${base.prefix}/`))
      return { base, path: pathname.slice(base.prefix.length) || "/" };
  }
  return null;
}

export function baseUrlsFor(origin) {
  const out = {};
  for (const p of PROVIDERS)
    for (const b of p.bases) for (const [name, suffix] of Object.entries(b.env)) out[name] = `${origin}${b.prefix}${suffix}`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Request parsing

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function queryObject(searchParams) {
  const q = {};
  for (const [k, v] of searchParams) q[k] = k in q ? [].concat(q[k], v) : v;
  return q;
}

function headerObject(req) {
  const h = {};
  for (const [k, v] of Object.entries(req.headers)) h[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  return h;
}

function parseBody(buf, contentType) {
  const ct = (contentType || "").toLowerCase();
  if (!buf.length) return { recorded: null };
  if (/^application\/([a-z0-9.+-]*\+)?json/.test(ct) || ct.startsWith("text/json")) {
    try {
      const parsed = JSON.parse(buf.toString("utf8"));
      return { json: parsed, recorded: parsed };
    } catch {
      return { jsonInvalid: true, recorded: { size: buf.length, contentType, invalidJson: true } };
    }
  }
  if (ct.startsWith("multipart/form-data")) {
    const mp = parseMultipart(buf, contentType);
    if (mp) return { multipart: mp, recorded: describeMultipart(mp) };
  }
  return { recorded: { size: buf.length, contentType: contentType || null } };
}

/** The key in whichever auth header the request carries (for handlers that care, e.g. `noperm…`). */
function extractKey(h) {
  if (h["xi-api-key"]) return h["xi-api-key"];
  if (h["x-api-key"]) return h["x-api-key"];
  const a = (h.authorization || "").trim();
  const m = /^(?:Bearer|Basic|Token)\s+(?:token=)?"?([^"]*)"?$/i.exec(a);
  return m ? m[1] : a;
}

// ---------------------------------------------------------------------------------------------
// Faults

function faultError(provider, status, ctx, message) {
  const messages = {
    400: "Bad request (mock fault)",
    401: "Unauthorized (mock fault)",
    402: "Payment required (mock fault)",
    403: "Forbidden (mock fault)",
    404: "Not found (mock fault)",
    429: "Rate limit exceeded (mock fault)",
    500: "Internal server error (mock fault)",
    502: "Bad gateway (mock fault)",
    503: "Service unavailable (mock fault)",
    504: "Gateway timeout (mock fault)",
    529: "Overloaded (mock fault)",
  };
  return provider.error(status, message ?? (messages[status] || `Error ${status} (mock fault)`), {}, ctx);
}

function validateFault(f) {
  if (!f || typeof f !== "object") return "body must be a JSON object";
  if (!FAULT_MODES.has(f.mode)) return `mode must be one of ${[...FAULT_MODES].join(", ")}`;
  if (f.provider !== undefined && f.provider !== "*" && !BASES.some((b) => b.name === f.provider || b.provider.id === f.provider)) {
    return `unknown provider "${f.provider}" (one of ${[...new Set(BASES.map((b) => b.name))].join(", ")} or "*")`;
  }
  for (const k of ["status", "retryAfter", "delayMs", "times", "afterFrames", "afterSentFrames", "afterChunks"])
    if (f[k] !== undefined && !(Number.isFinite(f[k]) && f[k] >= 0)) return `${k} must be a non-negative number`;
  if (f.message !== undefined && typeof f.message !== "string") return "message must be a string";
  if (f.location !== undefined && typeof f.location !== "string") return "location must be a string";
  if (f.bodyIncludes !== undefined && (typeof f.bodyIncludes !== "string" || f.bodyIncludes === ""))
    return "bodyIncludes must be a non-empty string";
  return null;
}

const providerMatches = (filter, base) => !filter || filter === "*" || filter === base.name || filter === base.provider.id;

/**
 * `stream_error`: a streamed (SSE) answer cut after `afterChunks` events by the provider's own error event
 * carrying `message` (Anthropic `event: error`, OpenAI-style `{"error":{…}}` otherwise); other answers as they are.
 */
function streamError(desc, plan, providerId) {
  if (plan.mode !== "stream_error" || !desc.streaming || !String(desc.headers?.["content-type"] ?? "").includes("event-stream"))
    return desc;
  const event =
    providerId === "anthropic"
      ? `event: error\ndata: ${JSON.stringify({ type: "error", error: { type: plan.status === 529 ? "overloaded_error" : "api_error", message: plan.message } })}\n\n`
      : `data: ${JSON.stringify({ error: { message: plan.message, type: "server_error", code: null } })}\n\n`;
  return { ...desc, chunks: [...desc.chunks.slice(0, plan.afterChunks), event] };
}

// ---------------------------------------------------------------------------------------------
// Sending (chunk by chunk, so truncate/slow can act between chunks)

const toBuffer = (c) => (typeof c === "string" ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength));

function writeChunk(res, buf) {
  return new Promise((resolve) => (res.write(buf) ? resolve() : res.once("drain", resolve)));
}

async function send(res, desc, plan, signal) {
  // `empty`: the answer's status and headers, then no body at all (chunked, so no Content-Length says so).
  let chunks = plan.mode === "empty" ? [] : desc.chunks.map(toBuffer);
  const headers = { ...desc.headers };
  if (plan.mode === "empty") delete headers["content-length"];
  const chunked = desc.streaming || ["truncate", "slow", "stall", "empty"].includes(plan.mode);
  if (chunked && chunks.length === 1 && chunks[0].length >= 2 && plan.mode) {
    const half = Math.floor(chunks[0].length / 2);
    chunks = [chunks[0].subarray(0, half), chunks[0].subarray(half)];
  }
  if (!chunked) {
    const body = Buffer.concat(chunks);
    headers["content-length"] = String(body.length);
    res.writeHead(desc.status, headers);
    res.end(body);
    return;
  }
  res.writeHead(desc.status, headers);
  res.flushHeaders();
  // `stall`: a provider gone silent mid-answer — after its first chunks nothing more, the connection open.
  const stallAt = plan.mode === "stall" ? (plan.afterChunks ?? 1) : -1;
  const held = () => new Promise((r) => (signal.aborted ? r() : signal.addEventListener("abort", r, { once: true })));
  for (let i = 0; i < chunks.length; i++) {
    if (res.destroyed) return;
    if (i === stallAt) return held();
    await writeChunk(res, chunks[i]);
    if (i === (plan.afterChunks ?? 1) - 1 && plan.mode === "truncate") {
      await new Promise((r) => setTimeout(r, 25)); // let the first chunk leave before the cut
      res.socket?.destroy();
      return;
    }
    if (i === (plan.afterChunks ?? 1) - 1 && plan.mode === "slow" && i < chunks.length - 1) {
      if (!(await pause(plan.delayMs, signal))) return;
    }
  }
  if (stallAt >= chunks.length) return held();
  res.end();
}

/** Sleep unless the request or the server is aborted; false when aborted. */
async function pause(ms, signal) {
  try {
    await sleepTimer(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Start the mock provider server.
 * @param {{port?: number, host?: string, specsDir?: string|null, specCheck?: boolean, maxRecords?: number, log?: boolean}} [options]
 * @returns {Promise<{port:number, origin:string, baseUrls:Record<string,string>, close():Promise<void>,
 *   reset():void, requests(provider?:string):object[], addFault(f:object):object, specsDir:string|null}>}
 */
export async function startMockProviders({
  port = 0,
  host = "127.0.0.1",
  specsDir,
  specCheck = true,
  maxRecords = DEFAULT_MAX_RECORDS,
  log = false,
} = {}) {
  const dir = specsDir === undefined ? defaultSpecsDir() : specsDir;
  const checker = specCheck && dir ? new SpecChecker(dir) : null;
  if (specCheck && !checker?.enabled) console.warn(`[mock-providers] spec checking disabled: no specs found (${dir ?? "no directory"})`);

  let records = [];
  let faults = [];
  let seq = 0;
  const serverAbort = new AbortController();

  function reset() {
    records = [];
    // A fault aimed at one request (bodyIncludes: a nonce only that request carries) cannot hit anyone
    // else's; it survives a reset, so test files running at the same time cannot cancel each other's.
    faults = faults.filter((f) => f.bodyIncludes);
  }

  function addFault(f) {
    const err = validateFault(f);
    if (err) throw new Error(err);
    const fault = {
      provider: f.provider ?? "*",
      path: f.path,
      bodyIncludes: f.bodyIncludes,
      mode: f.mode,
      status: f.status,
      retryAfter: f.retryAfter,
      delayMs: f.delayMs,
      afterFrames: f.afterFrames,
      afterSentFrames: f.afterSentFrames,
      afterChunks: f.afterChunks,
      message: f.message,
      location: f.location,
      remaining: f.times ?? 1,
    };
    faults.push(fault);
    return fault;
  }

  // HTTP requests take only HTTP modes and WebSocket upgrades only ws_* ones; `nonceOnly`: a frame of a
  // running session may claim only a fault aimed at it by `bodyIncludes`.
  function takeFault(base, path, fullPath, rawBody, { websocket = false, nonceOnly = false, headerText = "" } = {}) {
    const f = faults.find(
      (x) =>
        x.remaining > 0 &&
        WS_MODES.has(x.mode) === websocket &&
        (!nonceOnly || x.bodyIncludes) &&
        providerMatches(x.provider, base) &&
        (!x.path || path.includes(x.path) || fullPath.includes(x.path)) &&
        (!x.bodyIncludes || rawBody.includes(x.bodyIncludes) || headerText.includes(x.bodyIncludes)),
    );
    if (!f) return null;
    f.remaining -= 1;
    faults = faults.filter((x) => x.remaining > 0);
    return f;
  }

  function listRequests(filter, pathFilter, kind) {
    return records.filter(
      (r) =>
        (!filter || r.provider === filter || r.base === filter) &&
        (!pathFilter || r.path.includes(pathFilter)) &&
        (!kind || r.kind === kind),
    );
  }

  function addRecord(record) {
    const r = { seq: ++seq, time: new Date().toISOString(), ...record };
    records.push(r);
    if (records.length > maxRecords) records = records.slice(-maxRecords);
    return r;
  }

  async function control(req, res, url) {
    const route = url.pathname.replace(/^\/__control/, "");
    const reply = (status, body) => {
      const buf = Buffer.from(JSON.stringify(body));
      res.writeHead(status, { "content-type": "application/json", "content-length": String(buf.length) });
      res.end(buf);
    };
    const body = await readBody(req);
    if (req.method === "POST" && route === "/reset") {
      reset();
      return reply(200, { ok: true });
    }
    if (req.method === "GET" && route === "/requests")
      return reply(200, listRequests(url.searchParams.get("provider"), url.searchParams.get("path"), url.searchParams.get("kind")));
    if (req.method === "GET" && route === "/faults") return reply(200, faults);
    // Stand-ins for a caller's audioUrl (SSRF tests): recorded like provider requests (provider "control").
    if (req.method === "GET" && (route === "/redirect" || route === "/bytes")) {
      addRecord({
        kind: "http",
        provider: "control",
        base: "control",
        method: "GET",
        path: route,
        query: queryObject(url.searchParams),
        headers: headerObject(req),
        body: null,
        specErrors: [],
        specOperation: null,
        fault: null,
        requestId: null,
      });
      if (route === "/redirect") {
        // GET /__control/redirect?to=<url>[&status=302]: a redirect to `to` (any URL, relative ones too); without `to`, to itself.
        res.writeHead(Number(url.searchParams.get("status") ?? 302), {
          location: url.searchParams.get("to") ?? req.url,
          "content-length": "0",
        });
        return res.end();
      }
      // GET /__control/bytes?size=N[&declare=1]: N bytes in 64 KiB chunks, chunked unless declare=1
      // (then with Content-Length); stops when the client goes away.
      const size = Number(url.searchParams.get("size") ?? 0);
      const headers = { "content-type": "audio/wav" };
      if (url.searchParams.get("declare") === "1") headers["content-length"] = String(size);
      res.writeHead(200, headers);
      const piece = Buffer.alloc(64 * 1024, 0x55);
      for (let sent = 0; sent < size && !res.destroyed; sent += piece.length)
        await writeChunk(res, piece.subarray(0, Math.min(piece.length, size - sent)));
      return res.end();
    }
    // GET /__control/tone: a real recording for an audioUrl (an 8 kHz WAV tone), at a URL with no file extension.
    if (req.method === "GET" && route === "/tone") {
      const wav = mockTone("an audioUrl recording", { sampleRate: 8000, container: "wav" });
      res.writeHead(200, { "content-type": "audio/wav", "content-length": String(wav.length) });
      return res.end(Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength));
    }
    if (req.method === "GET" && route === "/health")
      return reply(200, { ok: true, specCheck: Boolean(checker?.enabled), specsDir: dir, baseUrls: api.baseUrls });
    if (req.method === "POST" && route === "/fault") {
      let f;
      try {
        f = JSON.parse(body.toString("utf8") || "null");
      } catch {
        return reply(400, { ok: false, error: "body must be JSON" });
      }
      try {
        return reply(200, { ok: true, fault: addFault(f) });
      } catch (err) {
        return reply(400, { ok: false, error: err.message });
      }
    }
    return reply(404, { ok: false, error: `unknown control route ${req.method} ${url.pathname}` });
  }

  async function handle(req, res) {
    const url = new URL(req.url, "http://mock.invalid");
    if (url.pathname.startsWith("/__control/")) return control(req, res, url);

    const match = matchBase(url.pathname);
    const rawBody = await readBody(req);
    if (!match) {
      return send(
        res,
        json({ error: `no mock provider serves ${url.pathname}`, prefixes: BASES.map((b) => b.prefix) }, 404),
        {},
        serverAbort.signal,
      );
    }
    const { base, path } = match;
    const provider = base.provider;
    const headers = headerObject(req);
    const query = queryObject(url.searchParams);
    const contentType = headers["content-type"] || "";
    const parsed = parseBody(rawBody, contentType);
    const method = req.method.toUpperCase();

    let specErrors = [];
    let specOperation = null;
    if (checker) {
      const op = checker.findOperation(provider.specId, method, path);
      specOperation = op ? `${op.method} ${op.template}` : null;
      try {
        specErrors = checker.check(provider.specId, {
          method,
          path,
          query,
          headers,
          contentType,
          bodySize: rawBody.length,
          json: parsed.json,
          jsonInvalid: parsed.jsonInvalid,
          multipart: parsed.multipart,
        });
      } catch (err) {
        specErrors = [`spec check crashed: ${err.message}`];
      }
    }

    const requestId = provider.newRequestId ? provider.newRequestId() : mockId("req_");
    // Header values count too: a request without a body (a key check) is aimed at by a nonce in its key.
    const fault = takeFault(base, path, url.pathname, rawBody, { headerText: Object.values(req.headers).join("\n") });
    addRecord({
      kind: "http",
      provider: provider.id,
      base: base.name,
      method,
      path,
      query,
      headers,
      body: parsed.recorded,
      specErrors,
      specOperation,
      fault: fault ? fault.mode : null,
      requestId,
    });
    if (log)
      console.log(
        `[mock-providers] ${provider.id} ${method} ${path}${specErrors.length ? ` specErrors=${JSON.stringify(specErrors)}` : ""}${fault ? ` fault=${fault.mode}` : ""}`,
      );

    const reqAbort = new AbortController();
    res.on("close", () => reqAbort.abort());
    const signal = AbortSignal.any([reqAbort.signal, serverAbort.signal]);

    const ctx = {
      provider: provider.id,
      base: base.name,
      method,
      path,
      query,
      headers,
      contentType,
      rawBody,
      json: parsed.json,
      jsonInvalid: parsed.jsonInvalid,
      multipart: parsed.multipart,
      params: {},
      key: extractKey(headers),
      requestId,
      error: (status, message, opts) => provider.error(status, message, opts, ctx),
    };

    const slowHeader = Number(headers["x-mock-slow-ms"]);
    let plan = Number.isFinite(slowHeader) && slowHeader > 0 ? { mode: "slow", delayMs: slowHeader } : {};
    const common = { "x-mock-provider": base.name, [provider.requestIdHeader]: requestId };
    const finish = (desc) => send(res, { ...streamError(desc, plan, provider.id), headers: { ...common, ...desc.headers } }, plan, signal);

    if (fault) {
      switch (fault.mode) {
        case "reset":
          (req.socket.resetAndDestroy ?? req.socket.destroy).call(req.socket);
          return;
        case "timeout":
          if (!(await pause(fault.delayMs ?? 60000, signal))) return;
          break;
        case "error": {
          const status = fault.status ?? 500;
          const desc = faultError(provider, status, ctx, fault.message);
          if (status === 429 || fault.retryAfter !== undefined)
            desc.headers = { ...desc.headers, "retry-after": String(fault.retryAfter ?? 7) };
          // A redirect (status 3xx with `location`): where a provider that moved would send its callers.
          if (fault.location !== undefined) desc.headers = { ...desc.headers, location: fault.location };
          return finish(desc);
        }
        case "invalid_json":
          return finish({
            status: 200,
            headers: { "content-type": "application/json" },
            chunks: ['{"mock": "this body is not valid JSON'],
            streaming: false,
          });
        case "unexpected_json":
          // Valid JSON that is not the provider's answer: an error object under a 200 (some OpenAI-compatible proxies).
          return finish({
            status: 200,
            headers: { "content-type": "application/json" },
            chunks: [JSON.stringify({ error: { message: fault.message ?? "Upstream error (mock fault)", type: "server_error" } })],
            streaming: false,
          });
        case "wrong_content_type":
          return finish({
            status: 200,
            headers: { "content-type": "text/html; charset=utf-8" },
            chunks: [
              "<!DOCTYPE html><html><head><title>Mock</title></head><body><h1>Hello from a captive portal (mock fault)</h1></body></html>",
            ],
            streaming: false,
          });
        case "truncate":
          plan = { mode: "truncate", afterChunks: fault.afterChunks ?? 1 };
          break;
        case "empty":
          plan = { mode: "empty" };
          break;
        case "slow":
          plan = { mode: "slow", delayMs: fault.delayMs ?? 500, afterChunks: fault.afterChunks ?? 1 };
          break;
        case "stall":
          plan = { mode: "stall", afterChunks: fault.afterChunks ?? 1 };
          break;
        case "stream_error":
          plan = {
            mode: "stream_error",
            afterChunks: fault.afterChunks ?? 1,
            status: fault.status,
            message: fault.message ?? "Internal server error (mock fault)",
          };
          break;
      }
    }

    const authFailure = provider.auth(ctx);
    if (authFailure) return finish(authFailure);

    const routes = ROUTES.get(provider.id).filter((r) => !r.base || r.base === base.name);
    const byPath = routes.filter((r) => r.regex.test(path));
    const route = byPath.find((r) => r.method === method);
    if (!route)
      return finish(
        ctx.error(byPath.length ? 405 : 404, byPath.length ? `Method ${method} not allowed` : `Invalid URL (${method} ${path})`),
      );
    const groups = route.regex.exec(path).groups || {};
    for (const [k, v] of Object.entries(groups)) ctx.params[k] = decodeURIComponent(v);
    return finish(await route.handler(ctx));
  }

  const sockets = new Set();
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      console.error("[mock-providers] handler error:", err);
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: `mock crashed: ${err.message}` }));
      } else res.destroy();
    });
  });
  attachRealtime(server, {
    matchBase,
    headerObject,
    queryObject,
    takeFault,
    faultError,
    record: addRecord,
    log,
    newRequestId: (provider) => (provider.newRequestId ? provider.newRequestId() : mockId("req_")),
  });
  // Idle keep-alive sockets stay open: Node's 5 s default closes them while workerd may be sending the
  // next request on one, which it then sees as "Network connection lost".
  server.keepAliveTimeout = 10 * 60_000;
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const actualPort = server.address().port;
  const origin = `http://${host}:${actualPort}`;

  const api = {
    port: actualPort,
    origin,
    baseUrls: baseUrlsFor(origin),
    specsDir: checker?.enabled ? dir : null,
    reset,
    requests: (provider) => listRequests(provider),
    addFault,
    close() {
      serverAbort.abort();
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections?.();
      });
    },
  };
  return api;
}

// ---------------------------------------------------------------------------------------------
// CLI

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const mock = await startMockProviders({
    port: Number(opt("--port") ?? 0),
    host: opt("--host") ?? "127.0.0.1",
    specsDir: opt("--specs"),
    specCheck: !args.includes("--no-spec"),
    log: args.includes("--log"),
  });
  console.log(JSON.stringify(mock.baseUrls, null, 2));
  const stop = () => mock.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
