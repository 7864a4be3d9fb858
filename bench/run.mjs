// `npm run bench [-- --quick]`: what the gateway costs, against the passthrough worker (the limit)
// and against another gateway, Portkey's open-source one (bench/lib/portkey.mjs).
//
// Starts on 127.0.0.1 the mock providers, Voxgate and the passthrough worker — under `wrangler dev`
// and straight from workerd (Miniflare) — and Portkey's Node server, drives each with the same
// closed-loop load, and reports throughput, latency, CPU per request, time to first audio byte,
// hot-path storage work and bundle size. Prints tables; writes bench/results.json. Method and latest
// figures: docs/PERFORMANCE.md.
//
// Options: --quick (short runs, < 2 min in all) · --out FILE · --keep (keep temp dirs and logs)
//          --only wrangler-dev|workerd-direct · --connections N · --duration S · --rounds N
//          --state-on-disk (workers' D1/KV/Durable Object files under $TMPDIR instead of /dev/shm)
//          --no-portkey (leave Portkey out, e.g. with no npm registry to install it from)

import { existsSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { tsImport } from "tsx/esm/api";
import { createBenchAccounts, jwtSigner } from "./lib/accounts.mjs";
import { cpuAccountingAvailable } from "./lib/cpu.mjs";
import { compareGateways } from "./lib/gateways.mjs";
import { round, runLoad, summarize } from "./lib/load.mjs";
import { machineInfo } from "./lib/machine.mjs";
import * as portkey from "./lib/portkey.mjs";
import { cleanup, installCleanupHandlers, tempDir } from "./lib/procs.mjs";
import { printReport } from "./lib/report.mjs";
import * as services from "./lib/services.mjs";
import { storageCounts } from "./lib/storage-counts.mjs";
import { compare, evaluateTargets } from "./lib/targets.mjs";
import { coldObjectFirstByte, firstChunkConversionMs, timeToFirstByte, transcodingTargets } from "./lib/ttfb.mjs";

const { ROOT, PASSTHROUGH_DIR } = services;

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string", default: join(ROOT, "bench", "results.json") },
    keep: { type: "boolean", default: false },
    only: { type: "string" },
    connections: { type: "string" },
    duration: { type: "string" },
    rounds: { type: "string" },
    "state-on-disk": { type: "boolean", default: false },
    "no-portkey": { type: "boolean", default: false },
  },
});

/** Run lengths. Full: several interleaved rounds, so slow drift on a shared machine hits both sides alike. */
const MODES = {
  quick: {
    rounds: 1,
    durationSeconds: 2,
    warmupSeconds: 1,
    connections: 10,
    singleDurationSeconds: 1,
    ttfbSamples: 20,
    ttfbConcurrency: 10,
    users: 16,
    keysPerUser: 2,
  },
  full: {
    rounds: 4,
    durationSeconds: 5,
    warmupSeconds: 2,
    connections: 10,
    singleDurationSeconds: 2,
    ttfbSamples: 200,
    ttfbConcurrency: 10,
    users: 40,
    keysPerUser: 3,
  },
};
const mode = args.quick ? "quick" : "full";
if (args.only && !["wrangler-dev", "workerd-direct"].includes(args.only)) {
  console.error("--only takes wrangler-dev or workerd-direct");
  process.exit(2);
}
const plan = { ...MODES[mode] };
if (args.connections) plan.connections = Number(args.connections);
if (args.duration) plan.durationSeconds = Number(args.duration);
if (args.rounds) plan.rounds = Number(args.rounds);

// What every scenario sends. The passthrough and the mock get the provider's own request shape.
const TTS_TEXT = "Hello from the Voxgate benchmark.";
const ELEVENLABS_STREAM = "/elevenlabs/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream?output_format=mp3_44100_128";
const CHAT_MESSAGES = [{ role: "user", content: "Say hello to the benchmark." }];
const CHAT_MODEL = "gpt-4.1-mini";
const BYOK_HEADER = "x-provider-key-elevenlabs";
const withPortkey = !args["no-portkey"];

const started = Date.now();
const elapsed = () => ((Date.now() - started) / 1000).toFixed(1).padStart(5);
const say = (msg) => console.log(`[${elapsed()}s] ${msg}`);

async function main() {
  const testConfig = await tsImport("../test/helpers/test-config.ts", import.meta.url);
  const { freePort, workerVars } = testConfig;
  const machine = machineInfo();
  say(
    `${mode} mode · ${machine.cores} cores · load average ${machine.loadAverageAtStart.join(" ")} · Node ${process.versions.node} · ${machine.workerd}`,
  );
  if (machine.loadAverageAtStart[0] > machine.cores * 0.5) {
    say(`warning: the machine is busy (load ${machine.loadAverageAtStart[0]}); wall-clock figures will be noisy — compare CPU per request`);
  }

  // 1. Mock providers, variables, a bundle, fresh migrated state for each Voxgate. The workers' state
  // (D1, KV, Durable Object SQLite) lives on tmpfs when there is one: a Durable Object write makes
  // workerd sync its SQLite file, and on this VM's disk that wait, not the gateway, dominated latency.
  const dir = tempDir("voxgate-bench-");
  const stateOnTmpfs = !args["state-on-disk"] && existsSync("/dev/shm");
  const stateRoot = stateOnTmpfs ? tempDir("voxgate-bench-state-", "/dev/shm") : dir;
  if (args.keep) say(`temp dirs (kept): ${dir}${stateOnTmpfs ? `, ${stateRoot}` : ""}`);
  const mock = await services.startMock(join(dir, "mock.log"));
  const { vars, privateJwk } = await workerVars(mock.origin);
  const voxgateVars = { ...vars, DEBUG_STORAGE_COUNTS: "true" };
  const passthroughVars = { MOCK_ORIGIN: mock.origin, ELEVENLABS_API_KEY: vars.ELEVENLABS_API_KEY, OPENAI_API_KEY: vars.OPENAI_API_KEY };
  const voxgateEnv = join(dir, "voxgate.vars");
  const passthroughEnv = join(dir, "passthrough.vars");
  services.writeEnvFile(voxgateEnv, voxgateVars);
  services.writeEnvFile(passthroughEnv, passthroughVars);

  const paths = [
    { id: "wrangler-dev", label: "wrangler dev" },
    { id: "workerd-direct", label: "workerd direct" },
  ].filter((p) => !args.only || p.id === args.only);
  const [bundle, portkeyInstall] = await Promise.all([
    services.buildBundle(join(dir, "bundle")),
    withPortkey ? portkey.ensurePortkey(say) : null,
    ...paths.map((p) => services.migrate(join(stateRoot, `${p.id}-state`))),
  ]);
  say(`bundle ${bundle.rawKiB} KiB raw / ${bundle.gzipKiB} KiB gzip; migrations applied`);

  // Portkey's Node server, path-independent (not a Worker): measured once, compared on both paths.
  let pk = null;
  if (withPortkey) {
    pk = await portkey.startPortkey({ port: await freePort(), logPath: join(dir, "portkey.log") });
    say(
      `Portkey ${portkeyInstall.version} (@hono/node-server ${portkeyInstall.nodeServer}): ${pk.url}, listening on ${portkey.listeningAddresses(pk.child.pid)?.join(", ")}`,
    );
  }

  // 2. The workers. Both paths serve the same prebuilt code (`--no-bundle` under wrangler dev, so
  // neither side gets wrangler's dev-only middleware), and both sides of a comparison share a path.
  for (const p of paths) {
    const state = join(stateRoot, `${p.id}-state`);
    if (p.id === "wrangler-dev") {
      [p.voxgate, p.passthrough] = await Promise.all([
        services.startWranglerDev({
          script: bundle.main,
          port: await freePort(),
          inspectorPort: await freePort(),
          envFile: voxgateEnv,
          persistDir: state,
          logPath: join(dir, "voxgate-wrangler.log"),
        }),
        services.startWranglerDev({
          configPath: join(PASSTHROUGH_DIR, "wrangler.toml"),
          script: join(PASSTHROUGH_DIR, "worker.js"),
          port: await freePort(),
          inspectorPort: await freePort(),
          envFile: passthroughEnv,
          persistDir: join(stateRoot, "passthrough-state"),
          logPath: join(dir, "passthrough-wrangler.log"),
        }),
      ]);
    } else {
      // One at a time: each start is told apart from the others by the workerd process it adds.
      p.voxgate = await services.startVoxgateDirect({
        bundlePath: bundle.main,
        vars: voxgateVars,
        persistDir: state,
        port: await freePort(),
        logPath: join(dir, "voxgate-workerd.log"),
      });
      p.passthrough = await services.startPassthroughDirect({
        vars: passthroughVars,
        port: await freePort(),
        logPath: join(dir, "passthrough-workerd.log"),
      });
    }
    say(`${p.label}: Voxgate ${p.voxgate.url}, passthrough ${p.passthrough.url}`);
  }

  // 3. Users and keys: scale plan, credits, keys spread round-robin. One spare key shows the cold path.
  const sign = await jwtSigner(privateJwk);
  for (const p of paths) {
    p.accounts = await createBenchAccounts(p.voxgate.url, sign, { users: plan.users, keysPerUser: plan.keysPerUser, tag: p.id });
    p.spare = await createBenchAccounts(p.voxgate.url, sign, { users: 1, keysPerUser: 1, tag: `${p.id}-spare` });
    let k = 0;
    let j = 0;
    p.nextKey = () => p.accounts.keys[k++ % p.accounts.keys.length];
    p.nextJwt = () => p.accounts.jwts[j++ % p.accounts.jwts.length];
  }
  say(`${plan.users} users × ${plan.keysPerUser} keys per Voxgate`);

  // 4. Scenarios.
  const mockScenarios = [
    {
      id: "mock-synthesize",
      label: "mock: ElevenLabs stream",
      url: mock.origin,
      path: ELEVENLABS_STREAM,
      body: { text: TTS_TEXT },
      headers: () => ({ "xi-api-key": vars.ELEVENLABS_API_KEY }),
      cpu: { server: mock.pids },
    },
    {
      id: "mock-chat",
      label: "mock: OpenAI chat",
      url: mock.origin,
      path: "/openai/v1/chat/completions",
      body: { model: CHAT_MODEL, messages: CHAT_MESSAGES, max_tokens: 64 },
      headers: () => ({ authorization: `Bearer ${vars.OPENAI_API_KEY}` }),
      cpu: { server: mock.pids },
    },
  ];
  // Portkey: OpenAI speech (and the mock's own speech endpoint, its baseline) and chat, checked first.
  const pkt =
    pk &&
    portkey.portkeyTargets({
      pk,
      mock,
      openaiKey: vars.OPENAI_API_KEY,
      ttsText: TTS_TEXT,
      chatBody: { model: CHAT_MODEL, messages: CHAT_MESSAGES, max_tokens: 64 },
    });
  const portkeyScenarios = pkt?.scenarios ?? [];
  if (pk) {
    mockScenarios.push(pkt.mockSpeech);
    pk.verification = await portkey.verifyPortkey({ mockOrigin: mock.origin, scenarios: portkeyScenarios });
    say(
      `Portkey reaches the mock and returns its bytes (${Object.entries(pk.verification)
        .map(([id, v]) => `${id}: ${v.reachedMock}/${v.sent} at the mock, ${v.bytes} B`)
        .join("; ")})`,
    );
  }
  for (const p of paths) {
    const vg = (id, label, o) => ({ id, label, url: p.voxgate.url, cpu: { server: p.voxgate.pids, upstream: mock.pids }, ...o });
    const pt = (id, label, o) => ({ id, label, url: p.passthrough.url, cpu: { server: p.passthrough.pids, upstream: mock.pids }, ...o });
    const tts = { path: "/v1/synthesize", body: { text: TTS_TEXT } };
    const chat = { path: "/v1/chat", body: { model: CHAT_MODEL, messages: CHAT_MESSAGES, maxTokens: 64 } };
    p.scenarios = [
      pt("passthrough-synthesize", "passthrough /v1/synthesize", { ...tts }),
      vg("voxgate-synthesize-platform", "Voxgate synthesize, platform key (metered)", {
        ...tts,
        baseline: "passthrough-synthesize",
        headers: () => ({ authorization: `Bearer ${p.nextKey()}` }),
      }),
      // Failover armed but not needed (issue 15: no added cost on the healthy path): the primary serves.
      vg("voxgate-synthesize-fallback", "Voxgate synthesize, platform key, fallback armed (primary healthy)", {
        path: "/v1/synthesize",
        body: { text: TTS_TEXT, fallback: ["cartesia"] },
        baseline: "passthrough-synthesize",
        headers: () => ({ authorization: `Bearer ${p.nextKey()}` }),
      }),
      vg("voxgate-synthesize-byok", "Voxgate synthesize, BYOK header", {
        ...tts,
        baseline: "passthrough-synthesize",
        headers: () => ({ authorization: `Bearer ${p.nextKey()}`, [BYOK_HEADER]: "byok-bench-key" }),
      }),
      vg("voxgate-synthesize-jwt", "Voxgate synthesize, JWT (metered)", {
        ...tts,
        baseline: "passthrough-synthesize",
        headers: () => ({ authorization: `Bearer ${p.nextJwt()}` }),
      }),
      pt("passthrough-chat", "passthrough /v1/chat", {
        path: "/v1/chat",
        body: { model: CHAT_MODEL, messages: CHAT_MESSAGES, max_tokens: 64 },
      }),
      vg("voxgate-chat-platform", "Voxgate chat, platform key (metered)", {
        ...chat,
        baseline: "passthrough-chat",
        headers: () => ({ authorization: `Bearer ${p.nextKey()}` }),
      }),
    ];
  }

  // 5. Load: in each round every scenario at `connections`, then every scenario at 1 connection; the
  // order alternates between rounds so that drift in the machine's background load hits all alike.
  const loaded = new Map();
  const single = new Map();
  const upstreamSeq = () => services.mockRequestSeq(mock.origin);
  const all = [...mockScenarios, ...portkeyScenarios].map((s) => ({ s: { ...s, upstreamSeq }, key: s.id }));
  all.push(...paths.flatMap((p) => p.scenarios.map((s) => ({ s: { ...s, upstreamSeq }, key: `${p.id}/${s.id}` }))));
  const record = (map, key, run) => (map.has(key) ? map.get(key).push(run) : map.set(key, [run]));
  for (let r = 0; r < plan.rounds; r++) {
    const order = r % 2 === 0 ? all : [...all].reverse();
    for (const { s, key } of order) {
      if (r === 0 && plan.warmupSeconds > 0) await runLoad({ ...s, connections: plan.connections, durationSeconds: plan.warmupSeconds });
      record(loaded, key, await runLoad({ ...s, connections: plan.connections, durationSeconds: plan.durationSeconds }));
    }
    for (const { s, key } of order)
      record(single, key, await runLoad({ ...s, connections: 1, durationSeconds: plan.singleDurationSeconds }));
    say(
      `load round ${r + 1}/${plan.rounds} done (per scenario: ${plan.connections} connections × ${plan.durationSeconds} s, 1 connection × ${plan.singleDurationSeconds} s)`,
    );
  }

  // 6. Time to first audio byte, the mock holding back everything after its first chunk; all targets
  // interleaved in one run.
  const ttfbTargets = [
    {
      id: "mock",
      url: mock.origin + ELEVENLABS_STREAM,
      body: { text: TTS_TEXT },
      headers: () => ({ "xi-api-key": vars.ELEVENLABS_API_KEY }),
    },
  ];
  for (const p of paths) {
    ttfbTargets.push({ id: `${p.id}/passthrough`, url: `${p.passthrough.url}/v1/synthesize`, body: { text: TTS_TEXT } });
    ttfbTargets.push({
      id: `${p.id}/voxgate`,
      url: `${p.voxgate.url}/v1/synthesize`,
      body: { text: TTS_TEXT },
      headers: () => ({ authorization: `Bearer ${p.nextKey()}` }),
    });
    // The same provider relayed untouched and transcoded at the edge (OpenAI speech: pcm vs 8 kHz µ-law).
    ttfbTargets.push(...transcodingTargets(p.id, `${p.voxgate.url}/v1/synthesize`, TTS_TEXT, p.nextKey));
    // Portkey's own request through Voxgate: OpenAI speech with the caller's key (authenticated, rate-limited,
    // counted, not charged: its admission writes nothing), so the two gateways do the same upstream work.
    if (pk)
      ttfbTargets.push({
        id: `${p.id}/byok-openai`,
        url: `${p.voxgate.url}${portkey.SPEECH_PATH}`,
        body: portkey.speechBody(TTS_TEXT),
        headers: () => ({ authorization: `Bearer ${p.nextKey()}`, "x-provider-key-openai": "byok-bench-key" }),
      });
  }
  if (pk) ttfbTargets.push(...pkt.ttfb);
  // Fault on every provider ("*"): the ElevenLabs stream and OpenAI's speech both hold back after one chunk.
  const ttfbById = await timeToFirstByte({
    mockOrigin: mock.origin,
    provider: "*",
    targets: ttfbTargets,
    samples: plan.ttfbSamples,
    concurrency: plan.ttfbConcurrency,
  });
  const ttfbRuns = { mock: ttfbById.mock, ...(pk ? { mockSpeech: ttfbById.mockSpeech, portkey: ttfbById.portkey } : {}) };
  for (const p of paths) {
    ttfbRuns[p.id] = {
      passthrough: ttfbById[`${p.id}/passthrough`],
      voxgate: ttfbById[`${p.id}/voxgate`],
      nativePcm: ttfbById[`${p.id}/native-pcm`],
      transcodedUlaw: ttfbById[`${p.id}/transcoded-ulaw`],
      byokOpenAi: ttfbById[`${p.id}/byok-openai`],
    };
  }
  // A cold Account object (evicted after sitting idle) against a warm one: one key per user, in turn.
  for (const p of paths) {
    ttfbRuns[p.id].coldObject = await coldObjectFirstByte({
      mockOrigin: mock.origin,
      passthroughUrl: `${p.passthrough.url}/v1/synthesize`,
      voxgateUrl: `${p.voxgate.url}/v1/synthesize`,
      keys: p.accounts.keys.slice(0, plan.users),
      body: { text: TTS_TEXT },
    });
    const c = ttfbRuns[p.id].coldObject;
    say(
      `${p.id}: first byte with the Account object cold ${c.coldAddedOverPassthrough} ms, warm ${c.warmAddedOverPassthrough} ms over the passthrough`,
    );
  }
  const transcoding = await firstChunkConversionMs(tsImport, TTS_TEXT);
  say(`time to first byte done (${plan.ttfbSamples} samples per target, ${plan.ttfbConcurrency} in flight)`);

  // 7. Hot-path storage work per request, from X-Voxgate-Storage, with a recently verified key.
  const storage = {};
  for (const p of paths) {
    storage[p.id] = {};
    for (const s of p.scenarios.filter((x) => x.url === p.voxgate.url)) storage[p.id][s.id] = await storageCounts(p.voxgate.url, s, 5);
    const cold = p.spare.keys[0];
    storage[p.id]["voxgate-synthesize-platform, first use of a key"] = await storageCounts(
      p.voxgate.url,
      { path: "/v1/synthesize", body: { text: TTS_TEXT }, headers: () => ({ authorization: `Bearer ${cold}` }) },
      1,
      { warmup: false },
    );
  }
  say("storage counts done");

  // 8. Figures, comparisons, targets.
  const results = {
    generatedAt: new Date().toISOString(),
    mode,
    durationSeconds: round((Date.now() - started) / 1000, 1),
    machine: { ...machine, loadAverageAtEnd: loadavg().map((x) => round(x, 2)) },
    method: {
      connections: plan.connections,
      rounds: plan.rounds,
      secondsPerRound: plan.durationSeconds,
      warmupSeconds: plan.warmupSeconds,
      singleConnectionSecondsPerRound: plan.singleDurationSeconds,
      users: plan.users,
      keysPerUser: plan.keysPerUser,
      ttfb: { samples: plan.ttfbSamples, concurrency: plan.ttfbConcurrency, mockFirstChunkThenDelayMs: ttfbRuns.mock.slowMs },
      cpuAccounting: cpuAccountingAvailable(),
      debugStorageCounts: true,
      workerStateOn: stateOnTmpfs ? "tmpfs (/dev/shm)" : "disk ($TMPDIR)",
      ttsRequest: { text: TTS_TEXT, upstream: "ElevenLabs /v1/text-to-speech/{voice}/stream (mock)" },
      chatRequest: { model: CHAT_MODEL, maxTokens: 64, upstream: "OpenAI /v1/chat/completions (mock)" },
      portkeySpeechRequest: pk ? { ...pkt.mockSpeech.body, upstream: "OpenAI /v1/audio/speech (mock)" } : null,
    },
    mock: Object.fromEntries(
      mockScenarios.map((s) => [
        s.id,
        { label: s.label, loaded: summarize(loaded.get(s.id), plan.connections), single: summarize(single.get(s.id), 1) },
      ]),
    ),
    portkey: pk && {
      ...portkeyInstall,
      listening: portkey.listeningAddresses(pk.child.pid),
      verification: pk.verification,
      scenarios: Object.fromEntries(
        portkeyScenarios.map((s) => [
          s.id,
          { label: s.label, loaded: summarize(loaded.get(s.id), plan.connections), single: summarize(single.get(s.id), 1) },
        ]),
      ),
    },
    paths: {},
    ttfb: ttfbRuns,
    transcoding: { firstChunk: transcoding, request: "OpenAI speech (mock, 24 kHz pcm): format pcm vs ulaw at 8000 Hz" },
    storage,
    bundle: {
      rawKiB: bundle.rawKiB,
      gzipKiB: bundle.gzipKiB,
      wranglerReported: bundle.wranglerReported,
      files: bundle.files,
      minifiedByConfig: bundle.minifiedByConfig,
      withMinify: bundle.withMinify,
    },
  };
  for (const p of paths) {
    const scen = {};
    for (const s of p.scenarios) {
      scen[s.id] = {
        label: s.label,
        baseline: s.baseline ?? null,
        loaded: summarize(loaded.get(`${p.id}/${s.id}`), plan.connections),
        single: summarize(single.get(`${p.id}/${s.id}`), 1),
      };
    }
    for (const s of Object.values(scen)) if (s.baseline) s.vsPassthrough = compare(s, scen[s.baseline]);
    results.paths[p.id] = { label: p.label, scenarios: scen };
  }
  results.targets = evaluateTargets(results, paths);
  results.comparisons = compareGateways(results);
  if (pk) {
    results.portkey.refusedConnections = portkey.refusedConnections(pk.logPath);
    if (results.portkey.refusedConnections)
      say(`warning: Portkey tried to leave loopback ${results.portkey.refusedConnections} time(s) (refused; see its log with --keep)`);
  }
  writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
  printReport(results);
  say(`wrote ${args.out}`);
}

installCleanupHandlers({ keepDirs: args.keep });
try {
  await main();
} catch (e) {
  console.error(`\nbenchmark failed: ${e?.stack ?? e}`);
  process.exitCode = 1;
} finally {
  await cleanup({ keepDirs: args.keep });
}
