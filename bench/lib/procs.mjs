// Child processes and temporary directories the harness owns, and their cleanup: every process it
// starts is spawned in its own process group and killed by that group's id on exit, error or signal.
import { execFile, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Keep wrangler and workerd offline (no telemetry, no Request.cf download). */
export const OFFLINE_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true" };

const children = new Set();
const disposers = [];
const dirs = [];
let cleaned = false;

export function tempDir(prefix, base = tmpdir()) {
  const dir = mkdtempSync(join(base, prefix));
  dirs.push(dir);
  return dir;
}

/** Run something at cleanup (e.g. Miniflare#dispose). */
export function onCleanup(fn) {
  disposers.push(fn);
}

/** Spawn a long-running child in its own process group; its output goes to `logPath`. */
export function startChild(cmd, args, { cwd, env, logPath, stdin = "ignore" }) {
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...OFFLINE_ENV, ...env },
    stdio: [stdin, "pipe", "pipe"],
    detached: true,
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  if (logPath) {
    const log = createWriteStream(logPath);
    child.stdout.pipe(log);
    child.stderr.pipe(log);
  }
  return child;
}

/** Stop one child we started: SIGTERM to its group, SIGKILL if it is still there after `graceMs`. */
export async function stopChild(child, graceMs = 2000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const timer = new Promise((r) => setTimeout(r, graceMs, "timeout"));
  if ((await Promise.race([exited, timer])) === "timeout") {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }
}

/** A one-shot command; resolves with stdout, rejects with its output on failure. */
export function run(cmd, args, { cwd, env } = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: { ...process.env, ...OFFLINE_ENV, ...env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export async function cleanup({ keepDirs = false } = {}) {
  if (cleaned) return;
  cleaned = true;
  for (const fn of disposers.reverse()) {
    try {
      await fn();
    } catch {}
  }
  await Promise.all([...children].map((c) => stopChild(c)));
  if (!keepDirs) for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/**
 * Clean up on Ctrl-C / SIGTERM / a crash. Miniflare's exit hook may end the process right after a
 * signal, before async cleanup finishes, so the last word is synchronous: on exit, kill what is
 * left of our process groups and remove the temp dirs.
 */
export function installCleanupHandlers({ keepDirs = false } = {}) {
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(sig, async () => {
      console.error(`\n${sig}: stopping the benchmark's processes…`);
      await cleanup({ keepDirs });
      process.exit(130);
    });
  }
  process.once("exit", () => {
    for (const c of children) {
      try {
        process.kill(-c.pid, "SIGKILL");
      } catch {}
    }
    if (!keepDirs) for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll `url` until it answers (any HTTP status), or fail after `timeoutMs`. */
export async function waitForHttp(url, { timeoutMs = 60_000, child, init } = {}) {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`process for ${url} exited before it was ready`);
    try {
      const res = await fetch(url, init);
      await res.arrayBuffer();
      return;
    } catch {}
    await sleep(200);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}
