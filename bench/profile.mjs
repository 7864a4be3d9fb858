// `node bench/profile.mjs [--scenario S] [--seconds N] [--connections N] [--out FILE]`: where Voxgate's
// CPU goes under load. Serves an unminified build straight from workerd (Miniflare) with the V8
// inspector on, drives one scenario with autocannon while the V8 sampling profiler runs, prints the
// self time by module and by function, and writes the .cpuprofile (open it in Chrome DevTools).
// The Account Durable Object runs in the same isolate, so its work is in the profile too.
//   S: synthesize-platform (default) · synthesize-byok · synthesize-jwt · chat
//      · cold-object: one request at a time, each user's Account object woken cold (after 16 s idle) and
//        then warm; prints both first bytes and the JS time a wake spends in the object's constructor and
//        in loading its copy of the user (the rest of a cold wake is workerd's own).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { tsImport } from "tsx/esm/api";
import WebSocket from "ws";
import { createBenchAccounts, jwtSigner } from "./lib/accounts.mjs";
import { runLoad, summarize } from "./lib/load.mjs";
import { cleanup, installCleanupHandlers, tempDir } from "./lib/procs.mjs";
import * as services from "./lib/services.mjs";

const { values: args } = parseArgs({
  options: {
    scenario: { type: "string", default: "synthesize-platform" },
    seconds: { type: "string", default: "6" },
    connections: { type: "string", default: "10" },
    out: { type: "string" },
  },
});
const SCENARIOS = ["synthesize-platform", "synthesize-byok", "synthesize-jwt", "chat", "cold-object"];
if (!SCENARIOS.includes(args.scenario)) {
  console.error(`--scenario takes one of ${SCENARIOS.join(", ")}`);
  process.exit(2);
}
const out = args.out ?? join(services.ROOT, "bench", ".tmp", `voxgate-${args.scenario}.cpuprofile`);
/** Microseconds between samples (V8 may sample less often under load). */
const SAMPLING_INTERVAL_US = 200;
const TOP_ROWS = Number(process.env.TOP_ROWS ?? 25);

installCleanupHandlers();
try {
  await main();
} catch (e) {
  console.error(`profile failed: ${e?.stack ?? e}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}

async function main() {
  const { freePort, workerVars } = await tsImport("../test/helpers/test-config.ts", import.meta.url);
  const dir = tempDir("voxgate-profile-");
  const state = existsSync("/dev/shm") ? tempDir("voxgate-profile-state-", "/dev/shm") : join(dir, "state");
  const mock = await services.startMock();
  const { vars, privateJwk } = await workerVars(mock.origin);
  const [bundle] = await Promise.all([services.buildBundle(join(dir, "bundle"), { minify: false }), services.migrate(state)]);
  const inspectorPort = await freePort();
  const voxgate = await services.startVoxgateDirect({
    bundlePath: bundle.main,
    vars: { ...vars, DEBUG_STORAGE_COUNTS: "true" },
    persistDir: state,
    port: await freePort(),
    inspectorPort,
    logPath: join(dir, "workerd.log"),
  });
  const accounts = await createBenchAccounts(voxgate.url, await jwtSigner(privateJwk), { users: 16, keysPerUser: 2, tag: "profile" });
  if (args.scenario === "cold-object") return coldObject(voxgate, inspectorPort, accounts.keys.slice(0, 12), bundle.main);
  let k = 0;
  let j = 0;
  const key = () => accounts.keys[k++ % accounts.keys.length];
  const jwt = () => accounts.jwts[j++ % accounts.jwts.length];
  const tts = { path: "/v1/synthesize", body: { text: "Hello from the Voxgate benchmark." } };
  const scenario = {
    "synthesize-platform": { ...tts, headers: () => ({ authorization: `Bearer ${key()}` }) },
    "synthesize-byok": { ...tts, headers: () => ({ authorization: `Bearer ${key()}`, "x-provider-key-elevenlabs": "byok-bench-key" }) },
    "synthesize-jwt": { ...tts, headers: () => ({ authorization: `Bearer ${jwt()}` }) },
    chat: {
      path: "/v1/chat",
      body: { model: "gpt-4.1-mini", messages: [{ role: "user", content: "Say hello to the benchmark." }], maxTokens: 64 },
      headers: () => ({ authorization: `Bearer ${key()}` }),
    },
  }[args.scenario];
  const load = { url: voxgate.url, ...scenario, connections: Number(args.connections) };
  await runLoad({ ...load, durationSeconds: 2 }); // warm-up: keys verified, code optimized

  const inspector = await connectInspector(inspectorPort);
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
  await inspector.send("Profiler.start");
  const run = await runLoad({ ...load, durationSeconds: Number(args.seconds), cpu: { server: voxgate.pids } });
  const { profile } = await inspector.send("Profiler.stop");
  inspector.close();

  const s = summarize([run], load.connections);
  console.log(
    `${args.scenario}: ${s.throughputRps} req/s, p50 ${s.latencyMs.p50} ms, ${s.cpuMsPerRequest.server} CPU ms/request (workerd, profiler on), non-2xx ${s.non2xx}`,
  );
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(profile));
  printProfile(profile, readFileSync(bundle.main, "utf8"));
  console.log(`\nprofile written to ${out}`);
}

/** First audio byte with the object cold, then warm, one request at a time; the wake's JS cost from the profile. */
async function coldObject(voxgate, inspectorPort, keys, bundlePath) {
  const body = JSON.stringify({ text: "Hello from the Voxgate benchmark." });
  const firstByteMs = async (key) => {
    const t0 = performance.now();
    const res = await fetch(`${voxgate.url}/v1/synthesize`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body,
    });
    const reader = res.body.getReader();
    await reader.read();
    const ms = performance.now() - t0;
    while (!(await reader.read()).done);
    return ms;
  };
  for (const key of [...keys, ...keys]) await firstByteMs(key); // warm-up: keys verified, code optimized
  const inspector = await connectInspector(inspectorPort);
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
  await inspector.send("Profiler.start");
  const times = { cold: [], warm: [] };
  for (let round = 0; round < 3; round++) {
    await new Promise((r) => setTimeout(r, 16_000)); // idle objects are evicted after ~10 s
    for (const key of keys) {
      times.cold.push(await firstByteMs(key));
      times.warm.push(await firstByteMs(key));
    }
  }
  const { profile } = await inspector.send("Profiler.stop");
  inspector.close();
  const median = (a) => a.sort((x, y) => x - y)[a.length >> 1].toFixed(2);
  console.log(`cold-object: ${times.cold.length} wakes, first byte p50 cold ${median(times.cold)} ms, warm ${median(times.warm)} ms`);
  const perWake = (name) => (sampledMs(profile, name) / times.cold.length).toFixed(3);
  console.log(`JS per wake: Account constructor ${perWake("Account")} ms, loading the user's copy ${perWake("loadCopy")} ms`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(profile));
  printProfile(profile, readFileSync(bundlePath, "utf8"));
  console.log(`\nprofile written to ${out}`);
}

/** Milliseconds sampled inside a function (its outermost calls, children included). */
function sampledMs(profile, functionName) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  // A sample's weight is the time to the next one, capped: an idle gap is not the function's.
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.min(profile.timeDeltas[i + 1] ?? 0, 1000));
  });
  const total = (n) => (selfUs.get(n.id) ?? 0) + (n.children ?? []).reduce((a, c) => a + total(nodes.get(c)), 0);
  const walk = (n) =>
    n.callFrame.functionName === functionName ? total(n) : (n.children ?? []).reduce((a, c) => a + walk(nodes.get(c)), 0);
  return walk(profile.nodes[0]) / 1000;
}

async function connectInspector(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const target = targets.find((t) => /core:user:voxgate/.test(t.title) || /voxgate/.test(t.url ?? ""));
  if (!target) throw new Error(`no inspector target for the voxgate worker (${targets.map((t) => t.title).join(", ")})`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let id = 0;
  const pending = new Map();
  ws.on("message", (m) => {
    const msg = JSON.parse(m);
    pending.get(msg.id)?.(msg.result);
    pending.delete(msg.id);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve) => {
        pending.set(++id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** Self time by module (from esbuild's "// path" comments in the unminified bundle) and by function. */
function printProfile(profile, bundleText) {
  const marks = [];
  bundleText.split("\n").forEach((line, i) => {
    const m = /^\/\/ (\S+\.(?:m?js|ts|json))$/.exec(line);
    if (m) marks.push([i, m[1].replace(/^(\.\.\/)+work\/main\//, "").replace(/^.*node_modules\//, "node_modules/")]);
  });
  const moduleAt = (line) => {
    let lo = 0;
    let hi = marks.length - 1;
    let found = "(bundle prelude)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid][0] <= line) {
        found = marks[mid][1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byModule = new Map();
  const byFunction = new Map();
  for (const [id, count] of hits) {
    const f = nodes.get(id).callFrame;
    const special = f.url === "" ? f.functionName || "(native)" : null;
    const module = special ?? moduleAt(f.lineNumber);
    byModule.set(module, (byModule.get(module) ?? 0) + count);
    const fn = `${f.functionName || "(anonymous)"}  ${special ? "" : `${module}`}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + count);
  }
  const total = profile.samples.length;
  const show = (title, map) => {
    console.log(`\n${title} (share of ${total} samples)`);
    for (const [name, count] of [...map].sort((a, b) => b[1] - a[1]).slice(0, TOP_ROWS)) {
      console.log(`${((100 * count) / total).toFixed(1).padStart(5)}%  ${name}`);
    }
  };
  show("Self time by module", byModule);
  show("Self time by function", byFunction);
  // The hottest source lines (the bundle's line, then its text): where inside a function the time goes.
  const lines = bundleText.split("\n");
  const byLine = new Map();
  for (const n of profile.nodes) {
    if (n.callFrame.url === "") continue;
    for (const t of n.positionTicks ?? []) {
      const text = `${moduleAt(t.line - 1)}  ${(lines[t.line - 1] ?? "").trim().slice(0, 90)}`;
      byLine.set(text, (byLine.get(text) ?? 0) + t.ticks);
    }
  }
  show("Self time by line", byLine);
}
