// The open-source Portkey gateway (@portkey-ai/gateway, its Node server) as a benchmark target next
// to the passthrough: started against the same mock provider, sent the same requests as Voxgate's
// metered chat and TTS, with BYOK-style headers (provider and key on each request, the mock as
// custom host). It lives in its own package (bench/portkey/, own lockfile), installed here on demand,
// so Voxgate's own tree never carries it.
//
// Offline and loopback only: bench/portkey/loopback-only.mjs is preloaded (listen on 127.0.0.1, no
// connection or name lookup off loopback; bench/portkey/selftest.mjs checks it before each start,
// and the harness records what it refused and where Portkey listens). The open-source server has no
// telemetry; its request log (for its UI's log stream) stays in memory; api.portkey.ai is only
// called for guardrail hooks in a config, and we send no config; no Redis (REDIS_CONNECTION_STRING
// unset) and no cache unless a request asks (x-portkey-cache); no proxy and no cloud credentials
// from the environment (unset for the child); no UI (--headless).
// As shipped, that request log runs even headless and, for speech, tries to parse the audio as JSON
// and prints "Error processing log" with a stack for every request: part of what Portkey costs here.
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { run, startChild, stopChild, waitForHttp } from "./procs.mjs";
import { mockRequestSeq } from "./services.mjs";

export const PORTKEY_DIR = join(import.meta.dirname, "..", "portkey");
const pkg = JSON.parse(readFileSync(join(PORTKEY_DIR, "package.json"), "utf8"));
/** Pinned versions: the gateway, and @hono/node-server held back by `overrides` (Portkey issue #1389:
 * with 1.14.3+ its routes answer 500 "TypeError: immutable"). */
export const PORTKEY_VERSION = pkg.dependencies["@portkey-ai/gateway"];
const NODE_SERVER_VERSION = pkg.overrides["@hono/node-server"];

export const SPEECH_PATH = "/v1/audio/speech";
export const CHAT_PATH = "/v1/chat/completions";
/** The mock serves OpenAI under /openai; Portkey's custom host is the base URL, with its /v1. */
export const mockOpenAI = (path) => `/openai${path}`;
/** The OpenAI speech request (mp3, the default format: the same 4 KiB of mock audio in 4 chunks as ElevenLabs'). */
export const speechBody = (text) => ({ model: "gpt-4o-mini-tts", voice: "alloy", input: text });

const installed = (name) => {
  try {
    return JSON.parse(readFileSync(join(PORTKEY_DIR, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return null;
  }
};

/** `npm ci` in bench/portkey unless the pinned versions are already there (a fresh clone has none). */
export async function ensurePortkey(say = () => {}) {
  const ok = () => installed("@portkey-ai/gateway") === PORTKEY_VERSION && installed("@hono/node-server") === NODE_SERVER_VERSION;
  if (!ok()) {
    say(`installing @portkey-ai/gateway ${PORTKEY_VERSION} in bench/portkey (npm ci)…`);
    // --ignore-scripts: the only install script is the gateway's own `patch-package`, with no patches shipped.
    await run("npm", ["ci", "--prefix", PORTKEY_DIR, "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: PORTKEY_DIR }).catch((e) => {
      throw new Error(`installing Portkey failed (run with --no-portkey to leave it out): ${e.message}`);
    });
    if (!ok())
      throw new Error(
        `bench/portkey: expected @portkey-ai/gateway ${PORTKEY_VERSION} with @hono/node-server ${NODE_SERVER_VERSION} after npm ci`,
      );
  }
  return { version: PORTKEY_VERSION, nodeServer: installed("@hono/node-server"), hono: installed("hono") };
}

// What Portkey would read from the environment (credentials, Redis, proxies, its own port/host
// settings): unset for the child, so it runs on the request headers alone.
const PORTKEY_ENV =
  /^(AWS_|AZURE_|KMS_|SSE_|TLS_|REDIS|HTTPS?_PROXY$|ALL_PROXY$|NO_PROXY$|APM_|TRUSTED_CUSTOM_HOSTS$|ALBUS|PORTKEY|IDENTITY_|OPENAI|ANTHROPIC|PORT$|ENVIRONMENT$)/i;

/** Portkey's Node server (build/start-server.js) on 127.0.0.1:port. */
export async function startPortkey({ port, logPath }) {
  await run(process.execPath, [join(PORTKEY_DIR, "selftest.mjs")], { cwd: PORTKEY_DIR }); // the guard below still guards
  const env = { NODE_ENV: "production" };
  for (const k of Object.keys(process.env)) if (PORTKEY_ENV.test(k)) env[k] = undefined;
  const server = join(PORTKEY_DIR, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");
  const child = startChild(process.execPath, ["--import", join(PORTKEY_DIR, "loopback-only.mjs"), server, `--port=${port}`, "--headless"], {
    cwd: PORTKEY_DIR,
    env,
    logPath,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, { timeoutMs: 30_000, child });
  return { url, child, pids: [child.pid], logPath, stop: () => stopChild(child) };
}

/** BYOK-style: the provider, the caller's own OpenAI key and the upstream (the mock) on every request. */
export const portkeyHeaders = (mockOrigin, openaiKey) => ({
  "x-portkey-provider": "openai",
  authorization: `Bearer ${openaiKey}`,
  "x-portkey-custom-host": mockOrigin + mockOpenAI("/v1"),
});

/**
 * What the harness sends Portkey, with the same text and chat request as Voxgate gets: scenarios for
 * runLoad (with the mock path and headers that verifyPortkey sends directly for comparison), the
 * mock's own OpenAI speech endpoint as a scenario (Portkey's baseline), and time-to-first-byte targets.
 */
export function portkeyTargets({ pk, mock, openaiKey, ttsText, chatBody }) {
  const direct = () => ({ authorization: `Bearer ${openaiKey}` });
  const headers = () => portkeyHeaders(mock.origin, openaiKey);
  const speech = speechBody(ttsText);
  const target = (id, label, path, body) => ({
    id,
    label,
    url: pk.url,
    path,
    body,
    headers,
    mockPath: mockOpenAI(path),
    mockHeaders: direct,
    cpu: { server: pk.pids, upstream: mock.pids },
  });
  return {
    mockSpeech: {
      id: "mock-speech",
      label: "mock: OpenAI speech",
      url: mock.origin,
      path: mockOpenAI(SPEECH_PATH),
      body: speech,
      headers: direct,
      cpu: { server: mock.pids },
    },
    scenarios: [
      target("portkey-speech", `Portkey ${SPEECH_PATH} (OpenAI, BYOK)`, SPEECH_PATH, speech),
      target("portkey-chat", `Portkey ${CHAT_PATH} (OpenAI, BYOK)`, CHAT_PATH, chatBody),
    ],
    ttfb: [
      { id: "mockSpeech", url: mock.origin + mockOpenAI(SPEECH_PATH), body: speech, headers: direct },
      { id: "portkey", url: pk.url + SPEECH_PATH, body: speech, headers },
    ],
  };
}

/**
 * Portkey really goes to the mock and returns what the mock returns: for each scenario, `n` requests
 * through Portkey must each add exactly one request at the mock (same path, the key we sent), and
 * bring back the bytes the mock sends for the same request sent directly (chat: up to the mock's
 * per-request id). Throws if not; returns what was checked.
 */
export async function verifyPortkey({ mockOrigin, scenarios, n = 3 }) {
  const out = {};
  const post = async (url, s, headers) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(s.body),
    });
    return { status: res.status, type: res.headers.get("content-type"), bytes: Buffer.from(await res.arrayBuffer()) };
  };
  // The mock numbers its chat completions (id "chatcmpl-mock_000123") and stamps "created".
  const normalize = (b) =>
    b
      .toString("latin1")
      .replace(/mock_\d+/g, "mock_N")
      .replace(/"created":\d+/g, '"created":0');
  for (const s of scenarios) {
    const before = await mockRequestSeq(mockOrigin);
    const via = [];
    for (let i = 0; i < n; i++) via.push(await post(s.url + s.path, s, s.headers()));
    const after = await mockRequestSeq(mockOrigin);
    const last = (await (await fetch(`${mockOrigin}/__control/requests`)).json()).at(-1);
    const direct = await post(mockOrigin + s.mockPath, s, s.mockHeaders());
    const check = {
      sent: n,
      statuses: [...new Set(via.map((r) => r.status))],
      directStatus: direct.status,
      reachedMock: after - before,
      mockPath: last?.path ?? null,
      keyForwarded: last?.headers?.authorization === s.headers().authorization,
      bytes: via[0].bytes.length,
      contentType: via[0].type,
      sameBytesAsMock: via.every((r) => normalize(r.bytes) === normalize(direct.bytes)),
    };
    const good =
      check.statuses.length === 1 &&
      check.statuses[0] === 200 &&
      check.directStatus === 200 &&
      check.reachedMock === n &&
      last?.provider === "openai" &&
      mockOpenAI(check.mockPath) === s.mockPath &&
      check.keyForwarded &&
      check.sameBytesAsMock;
    if (!good)
      throw new Error(
        `Portkey check failed for ${s.id}: ${JSON.stringify(check)} (first body: ${via[0].bytes.toString("utf8").slice(0, 300)})`,
      );
    out[s.id] = check;
  }
  return out;
}

/** The TCP addresses a process listens on (Linux /proc: its socket inodes, matched in /proc/net/tcp*). */
export function listeningAddresses(pid) {
  if (!existsSync(`/proc/${pid}/fd`)) return null;
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {}
  }
  const out = [];
  for (const [file, v6] of [
    ["/proc/net/tcp", false],
    ["/proc/net/tcp6", true],
  ]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").trim().split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== "0A" || !inodes.has(f[9])) continue; // 0A: LISTEN
      const [hex, port] = f[1].split(":");
      out.push(`${v6 ? ipv6(hex) : ipv4(hex)}:${parseInt(port, 16)}`);
    }
  }
  return out;
}
const ipv4 = (hex) =>
  hex
    .match(/../g)
    .reverse()
    .map((b) => parseInt(b, 16))
    .join(".");
const ipv6 = (hex) =>
  `[${hex
    .match(/.{8}/g)
    .map((w) => w.match(/../g).reverse().join(""))
    .join("")
    .match(/.{4}/g)
    .join(":")}]`;

/** Outbound attempts the preload refused (0 unless Portkey tried to leave loopback). */
export function refusedConnections(logPath) {
  try {
    return (readFileSync(logPath, "utf8").match(/^\[loopback-only\] refused/gm) ?? []).length;
  } catch {
    return null;
  }
}
