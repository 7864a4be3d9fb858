// Starting what the benchmark measures, all on 127.0.0.1: the mock providers, Voxgate and the
// passthrough worker under `wrangler dev`, and the same two workers served straight from workerd by
// Miniflare (no wrangler dev proxy in front).
import { createWriteStream, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { gzipSync } from "node:zlib";
import { Miniflare } from "miniflare";
import { newWorkerdPids, workerdPids } from "./cpu.mjs";
import { onCleanup, run, startChild, stopChild, waitForHttp } from "./procs.mjs";

export const ROOT = join(import.meta.dirname, "..", "..");
export const PASSTHROUGH_DIR = join(ROOT, "bench", "passthrough");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const READY_TIMEOUT_MS = 90_000;

/** wrangler.toml, read just enough for Miniflare: compatibility settings, [vars], binding ids. */
export function voxgateConfig() {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const str = (re) => re.exec(toml)?.[1];
  const vars = {};
  const varsBlock = /^\[vars\]\s*\n([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(toml)?.[1] ?? "";
  for (const m of varsBlock.matchAll(/^([A-Z0-9_]+)\s*=\s*"([^"]*)"/gm)) vars[m[1]] = m[2];
  const flags = /compatibility_flags\s*=\s*\[([^\]]*)\]/.exec(toml)?.[1] ?? "";
  return {
    compatibilityDate: str(/compatibility_date\s*=\s*"([^"]+)"/),
    compatibilityFlags: [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1]),
    d1DatabaseId: str(/database_id\s*=\s*"([^"]+)"/),
    kvNamespaceId: str(/\[\[kv_namespaces\]\][\s\S]*?id\s*=\s*"([^"]+)"/),
    vars,
  };
}

/** A dotenv file for `--env-file`: single-quoted values are taken verbatim (JSON included). */
export function writeEnvFile(path, vars) {
  const lines = Object.entries(vars).map(([k, v]) => {
    if (/['\n]/.test(String(v))) throw new Error(`${k}: a value with a quote or newline cannot go in an env file`);
    return `${k}='${v}'`;
  });
  writeFileSync(path, `${lines.join("\n")}\n`);
}

/** The mock providers in a child process; resolves with their origin. */
export async function startMock(logPath) {
  const child = startChild(process.execPath, [join(ROOT, "bench", "lib", "mock-server.mjs")], { cwd: ROOT, stdin: "pipe" });
  const lines = createInterface({ input: child.stdout });
  const origin = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("mock providers did not start")), 15_000);
    child.once("exit", () => reject(new Error("mock providers exited")));
    lines.once("line", (l) => {
      clearTimeout(timer);
      resolve(JSON.parse(l).origin);
    });
  });
  if (logPath) child.stderr.pipe(createWriteStream(logPath));
  return { origin, child, pids: [child.pid] };
}

/** How many requests the mock has served so far (its record sequence number; it keeps only the last record). */
export async function mockRequestSeq(origin) {
  const res = await fetch(`${origin}/__control/requests`);
  if (!res.ok) throw new Error(`mock /__control/requests: ${res.status}`);
  return (await res.json()).at(-1)?.seq ?? 0;
}

/** A fresh local D1 with Voxgate's migrations applied, under `persistDir`. */
export async function migrate(persistDir) {
  await run(process.execPath, [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir], { cwd: ROOT });
}

/**
 * `wrangler dev` serving a worker on 127.0.0.1:port (config: Voxgate's, or the passthrough's).
 * With `script` (a prebuilt bundle) it serves that file as is (`--no-bundle`): the same code as the
 * direct path, and no rebuild when someone edits src/ during a run.
 */
export async function startWranglerDev({ configPath, script, port, inspectorPort, envFile, persistDir, logPath }) {
  const args = [WRANGLER, "dev", ...(script ? [script, "--no-bundle"] : [])];
  args.push("--ip", "127.0.0.1", "--port", String(port), "--env-file", envFile, "--persist-to", persistDir);
  args.push("--show-interactive-dev-session=false", "--inspector-port", String(inspectorPort));
  // Explicit: with a script argument wrangler would otherwise ignore wrangler.toml.
  args.push("--config", configPath ?? join(ROOT, "wrangler.toml"));
  const child = startChild(process.execPath, args, { cwd: ROOT, logPath });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/__bench_ready`, { timeoutMs: READY_TIMEOUT_MS, child });
  return { url, child, pids: [child.pid], stop: () => stopChild(child) };
}

/**
 * `wrangler deploy --dry-run --outdir`: the deployable bundle as configured, its size raw and gzip,
 * and the same build with `--minify` (what `minify = true` in wrangler.toml would deploy).
 */
export async function buildBundle(outDir, { minify } = {}) {
  const build = async (dir, extra) => {
    const out = await run(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", dir, ...extra], { cwd: ROOT });
    const main = join(dir, "index.js");
    const raw = readFileSync(main);
    const reported = /Total Upload:\s*([\d.]+) KiB \/ gzip:\s*([\d.]+) KiB/.exec(out);
    return {
      main,
      files: readdirSync(dir).filter((f) => /\.(m?js|wasm)$/.test(f)),
      rawKiB: round(raw.length / 1024, 1),
      gzipKiB: round(gzipSync(raw, { level: 9 }).length / 1024, 1),
      wranglerReported: reported ? { rawKiB: Number(reported[1]), gzipKiB: Number(reported[2]) } : null,
    };
  };
  if (minify === false) return { ...(await build(outDir, ["--no-minify"])), minifiedByConfig: false, withMinify: null };
  const configured = /^\s*minify\s*=\s*true/m.test(readFileSync(join(ROOT, "wrangler.toml"), "utf8"));
  const [bundle, minified] = await Promise.all([build(outDir, []), configured ? null : build(`${outDir}-minified`, ["--minify"])]);
  return { ...bundle, minifiedByConfig: configured, withMinify: minified ? { rawKiB: minified.rawKiB, gzipKiB: minified.gzipKiB } : null };
}

/**
 * Voxgate's bundle served straight from workerd (Miniflare): the same bindings as wrangler.toml, the
 * same variables, state persisted like `wrangler dev --persist-to` (so the migrated D1 is found).
 */
export async function startVoxgateDirect({ bundlePath, vars, persistDir, port, logPath, inspectorPort }) {
  const cfg = voxgateConfig();
  const before = workerdPids();
  const mf = new Miniflare({
    host: "127.0.0.1",
    port,
    handleRuntimeStdio: toLog(logPath),
    defaultPersistRoot: join(persistDir, "v3"),
    inspectorPort,
    workers: [
      {
        name: "voxgate",
        // Listed explicitly: Miniflare's module walker refuses the bundle's dynamic import("node:sqlite").
        modules: [{ type: "ESModule", path: bundlePath }],
        modulesRoot: dirname(bundlePath),
        compatibilityDate: cfg.compatibilityDate,
        compatibilityFlags: cfg.compatibilityFlags,
        bindings: { ...cfg.vars, ...vars },
        d1Databases: { DB: cfg.d1DatabaseId },
        kvNamespaces: { USAGE: cfg.kvNamespaceId },
        durableObjects: { ACCOUNT: { className: "Account", useSQLite: true } },
        // The Queues of wrangler.toml, produced and consumed by this same Worker as in production.
        queueProducers: { WEBHOOK_QUEUE: { queueName: "voxgate-webhooks" }, REQUEST_LOG_QUEUE: { queueName: "voxgate-request-log" } },
        queueConsumers: {
          "voxgate-webhooks": { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries: 100 },
          "voxgate-request-log": { maxBatchSize: 100, maxBatchTimeout: 2, maxRetries: 10 },
        },
      },
    ],
  });
  onCleanup(() => mf.dispose());
  const url = (await mf.ready).origin;
  return { url, mf, pids: newWorkerdPids(before), stop: () => mf.dispose() };
}

/** The passthrough worker served straight from workerd (Miniflare). */
export async function startPassthroughDirect({ vars, port, logPath }) {
  const cfg = voxgateConfig();
  const before = workerdPids();
  const mf = new Miniflare({
    host: "127.0.0.1",
    port,
    handleRuntimeStdio: toLog(logPath),
    modules: true,
    scriptPath: join(PASSTHROUGH_DIR, "worker.js"),
    compatibilityDate: cfg.compatibilityDate,
    compatibilityFlags: cfg.compatibilityFlags,
    bindings: vars,
  });
  onCleanup(() => mf.dispose());
  const url = (await mf.ready).origin;
  return { url, mf, pids: newWorkerdPids(before), stop: () => mf.dispose() };
}

/** workerd's own output (e.g. "connection reset" when autocannon stops) goes to a log, not the report. */
function toLog(logPath) {
  return (stdout, stderr) => {
    const log = logPath ? createWriteStream(logPath, { flags: "a" }) : null;
    for (const s of [stdout, stderr]) {
      if (log) s.pipe(log);
      else s.resume();
    }
  };
}

export const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
