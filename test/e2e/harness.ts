// vitest globalSetup for the end-to-end suite (Node): mock providers on 127.0.0.1, a fresh local D1
// with the migrations applied, and a real `wrangler dev` serving Voxgate against the mocks.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { freePort, workerVars } from "../helpers/test-config";
// @ts-expect-error plain JS module
import { startMockProviders } from "../mocks/providers.mjs";

const ROOT = join(import.meta.dirname, "..", "..");
const OFFLINE = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const READY_TIMEOUT_MS = 60_000;

declare module "vitest" {
  export interface ProvidedContext {
    workerUrl: string;
    mockOrigin: string;
    jwtPrivateJwk: string;
    workerLog: string;
    persistDir: string;
  }
}

export default async function setup(project: TestProject) {
  const mocks = await startMockProviders({ port: await freePort() });
  const { vars, privateJwk } = await workerVars(mocks.origin);
  const dir = mkdtempSync(join(tmpdir(), "voxgate-e2e-"));
  const envFile = join(dir, "e2e.vars");
  writeFileSync(
    envFile,
    Object.entries({ ...vars, ...extraVars() })
      .map(([k, v]) => `${k}='${v}'`)
      .join("\n"),
  );
  const persist = join(dir, "state");
  execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], {
    cwd: ROOT,
    env: { ...process.env, ...OFFLINE, CI: "true" },
    stdio: "pipe",
  });
  const port = await freePort();
  const logPath = join(dir, "worker.log");
  const log = createWriteStream(logPath);
  const child: ChildProcess = spawn(
    "npx",
    [
      "wrangler",
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      persist,
      "--env-file",
      envFile,
      "--show-interactive-dev-session=false",
      "--inspector-port",
      String(await freePort()),
    ],
    { cwd: ROOT, env: { ...process.env, ...OFFLINE }, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
    await mocks.close();
    log.end();
    if (!process.env.VOXGATE_KEEP_E2E) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForReady(url, child);
  } catch (e) {
    // Leave nothing running; say what the worker printed.
    const tail = readFileSync(logPath, "utf8").split("\n").slice(-30).join("\n");
    await stop();
    throw new Error(`${(e as Error).message}\n--- wrangler dev log (last lines) ---\n${tail}`);
  }
  project.provide("workerUrl", url);
  project.provide("mockOrigin", mocks.origin);
  project.provide("jwtPrivateJwk", privateJwk);
  project.provide("workerLog", logPath);
  project.provide("persistDir", persist);
  return stop;
}

/** Variables only the end-to-end worker gets (e.g. portal/Twilio settings added by other suites). */
function extraVars(): Record<string, string> {
  return {
    // PRICES on the real worker and its Account objects (test/e2e/prices.test.ts): only what no other test relies on.
    PRICES: JSON.stringify({ plans: { scale: { monthlyCredits: 1_200_000 } }, llm: { "e2e-priced": { input: 7, output: 11 } } }),
    // Realtime sessions check their credential every second, so a revoked key ends one within the test.
    REALTIME_CHECK_INTERVAL_SECONDS: "1",
  };
}

async function waitForReady(url: string, child: ChildProcess) {
  const start = Date.now();
  let exited = false;
  child.once("exit", () => (exited = true));
  while (Date.now() - start < READY_TIMEOUT_MS) {
    if (exited) throw new Error("wrangler dev exited before it was ready");
    try {
      const res = await fetch(`${url}/openapi.json`);
      if (res.ok) return;
      if (res.status >= 500) throw new Error(`wrangler dev answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
    } catch (e) {
      if ((e as Error).message.startsWith("wrangler dev answered")) throw e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not answer within ${READY_TIMEOUT_MS} ms`);
}
