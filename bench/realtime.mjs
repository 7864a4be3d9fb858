// `node bench/realtime.mjs [--quick] [--only wrangler-dev|workerd-direct] [--out FILE] [--keep]`:
// what Voxgate adds to a realtime session, against the same mock provider spoken to directly.
//
// On 127.0.0.1: the mock providers, a bare relay Worker (the least any Worker adds), and Voxgate served by
// `wrangler dev` and straight from workerd (Miniflare). Samples of the three are interleaved, so drift on a
// shared machine hits all alike.
//  - first transcript: open a listen session (Deepgram protocol), send 0.5 s of PCM, time to the first
//    transcript;
//  - per frame: in one open session, send 0.5 s of audio and wait for its transcript, 200 times — a relay
//    that held frames back would never answer (the next frame is only sent after the answer);
//  - first audio byte: open a speak session (Deepgram, ElevenLabs), send text and a flush, time to the
//    first binary frame (ElevenLabs' base64 is decoded by Voxgate on the way);
//  - the handshake (open) itself: Voxgate admits the session in the Account object and opens the
//    provider's socket before it answers 101.
// Prints a table; writes bench/realtime-results.json. Targets: < 2 ms added to the first audio byte.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { tsImport } from "tsx/esm/api";
import WebSocket from "ws";
import { createBenchAccounts, jwtSigner } from "./lib/accounts.mjs";
import { cleanup, installCleanupHandlers, onCleanup, tempDir } from "./lib/procs.mjs";
import * as services from "./lib/services.mjs";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    out: { type: "string", default: join(services.ROOT, "bench", "realtime-results.json") },
    keep: { type: "boolean", default: false },
  },
});
const N = args.quick ? { sessions: 10, frames: 40 } : { sessions: 40, frames: 200 };
const TARGET_FIRST_AUDIO_ADDED_MS = 2;
const HALF_SECOND = Buffer.alloc(16_000, 7); // 16 kHz 16-bit mono
const GUARD_MS = 10_000;

const say = (msg) => console.log(`[realtime bench] ${msg}`);

function open(url, headers) {
  const t0 = performance.now();
  const ws = new WebSocket(url, { headers, perMessageDeflate: false });
  const queue = [];
  const waiters = [];
  ws.on("message", (data, binary) => {
    queue.push({ data, binary, at: performance.now() });
    for (const w of waiters.splice(0)) w();
  });
  ws.on("error", () => {});
  const next = (pred) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from ${url}`)), GUARD_MS);
      const look = () => {
        const i = queue.findIndex(pred);
        if (i >= 0) {
          clearTimeout(timer);
          return resolve(queue.splice(0, i + 1).at(-1));
        }
        waiters.push(look);
      };
      look();
    });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ ws, next, openMs: performance.now() - t0 }));
    ws.once("unexpected-response", (_q, res) => reject(new Error(`${url} refused: ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

const isTranscript = (m) => !m.binary && /"(Results|transcript)"/.test(m.data.toString());
const isAudio = (m) => m.binary;

/** One route to a provider protocol: direct to the mock, through the passthrough worker, or through Voxgate. */
function routes(mockOrigin, passthroughUrl, voxgateUrl, vars, key) {
  const ws = (u) => u.replace(/^http/, "ws");
  const bearer = { authorization: `Bearer ${key}` };
  return {
    listen: {
      direct: (origin = mockOrigin) =>
        open(`${ws(origin)}/deepgram/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000&channels=1&interim_results=true`, {
          authorization: `Token ${vars.DEEPGRAM_API_KEY}`,
        }),
      voxgate: () => open(`${ws(voxgateUrl)}/v1/realtime/listen?provider=deepgram&sampleRate=16000`, bearer),
    },
    speak: {
      deepgram: {
        direct: async (origin = mockOrigin) => {
          const s = await open(`${ws(origin)}/deepgram/v1/speak?model=aura-2-thalia-en&encoding=linear16&sample_rate=24000`, {
            authorization: `Token ${vars.DEEPGRAM_API_KEY}`,
          });
          s.say = (text) =>
            [{ type: "Speak", text }, { type: "Flush" }].forEach((m) => {
              s.ws.send(JSON.stringify(m));
            });
          return s;
        },
        voxgate: async () => {
          const s = await open(`${ws(voxgateUrl)}/v1/realtime/speak?provider=deepgram`, bearer);
          s.say = (text) =>
            [{ type: "text", text }, { type: "flush" }].forEach((m) => {
              s.ws.send(JSON.stringify(m));
            });
          return s;
        },
      },
      elevenlabs: {
        direct: async (origin = mockOrigin) => {
          const s = await open(
            `${ws(origin)}/elevenlabs/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/multi-stream-input?model_id=eleven_flash_v2_5&output_format=pcm_24000`,
            { "xi-api-key": vars.ELEVENLABS_API_KEY },
          );
          // The same frames Voxgate sends for {text} + {flush}; the audio comes as base64 in JSON.
          s.isAudio = (m) => !m.binary && m.data.includes('"audio"');
          s.say = (text) =>
            [
              { text: " ", context_id: "ctx-0" },
              { text, context_id: "ctx-0" },
              { context_id: "ctx-0", text: "", flush: true },
              { context_id: "ctx-0", close_context: true },
            ].forEach((m) => {
              s.ws.send(JSON.stringify(m));
            });
          return s;
        },
        voxgate: async () => {
          const s = await open(`${ws(voxgateUrl)}/v1/realtime/speak?provider=elevenlabs`, bearer);
          s.say = (text) =>
            [{ type: "text", text }, { type: "flush" }].forEach((m) => {
              s.ws.send(JSON.stringify(m));
            });
          return s;
        },
      },
    },
  };
}

/** The same route through the passthrough worker (the provider's own protocol, relayed by a bare Worker). */
function withPassthrough(route, passthroughUrl) {
  return { ...route, passthrough: () => route.direct(passthroughUrl) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const p95 = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)] : NaN;
};
const r2 = (x) => Math.round(x * 100) / 100;
const stats = (xs) => ({ medianMs: r2(median(xs)), p95Ms: r2(p95(xs)), samples: xs.length });

async function close(s) {
  const done = new Promise((r) => s.ws.once("close", r));
  s.ws.close();
  await Promise.race([done, new Promise((r) => setTimeout(r, 1000))]);
}

const SIDES = ["direct", "passthrough", "voxgate"];

/** Interleaved samples of `measure` over direct, passthrough-worker and Voxgate sessions (the order rotates). */
async function compare(route, measure, n) {
  const out = Object.fromEntries(SIDES.map((side) => [side, { open: [], value: [] }]));
  for (let i = 0; i < n; i++) {
    for (const side of [...SIDES.slice(i % 3), ...SIDES.slice(0, i % 3)]) {
      const s = await route[side]();
      out[side].open.push(s.openMs);
      out[side].value.push(...(await measure(s)));
      await close(s);
    }
  }
  return out;
}

async function firstTranscript(s) {
  const t0 = performance.now();
  s.ws.send(HALF_SECOND);
  return [(await s.next(isTranscript)).at - t0];
}

async function perFrame(s) {
  const out = [];
  for (let i = 0; i < N.frames; i++) {
    const t0 = performance.now();
    s.ws.send(HALF_SECOND);
    out.push((await s.next(isTranscript)).at - t0);
  }
  return out;
}

async function firstAudio(s) {
  const t0 = performance.now();
  s.say("Hello from the Voxgate realtime benchmark.");
  return [(await s.next(s.isAudio ?? isAudio)).at - t0];
}

function summarize(name, r) {
  const [direct, passthrough, voxgate] = SIDES.map((side) => stats(r[side].value));
  return {
    name,
    direct,
    passthrough,
    voxgate,
    /** Over the mock spoken to directly. */
    addedMedianMs: r2(voxgate.medianMs - direct.medianMs),
    /** Over a bare Worker relaying the provider's protocol: what Voxgate's own work costs. */
    addedOverPassthroughMs: r2(voxgate.medianMs - passthrough.medianMs),
    openMs: Object.fromEntries(SIDES.map((side) => [side, r2(median(r[side].open))])),
  };
}

/** The relay Worker (bench/realtime-passthrough/worker.js) served straight from workerd. */
async function startRelay(mockOrigin, port) {
  const { Miniflare } = await import("miniflare");
  const cfg = services.voxgateConfig();
  const mf = new Miniflare({
    host: "127.0.0.1",
    port,
    modules: true,
    scriptPath: join(services.ROOT, "bench", "realtime-passthrough", "worker.js"),
    compatibilityDate: cfg.compatibilityDate,
    compatibilityFlags: cfg.compatibilityFlags,
    bindings: { MOCK_ORIGIN: mockOrigin },
  });
  onCleanup(() => mf.dispose());
  return { url: (await mf.ready).origin };
}

async function main() {
  installCleanupHandlers({ keepDirs: args.keep });
  const { freePort, workerVars } = await tsImport("../test/helpers/test-config.ts", import.meta.url);
  const dir = tempDir("voxgate-rt-bench-");
  const mock = await services.startMock(join(dir, "mock.log"));
  const { vars, privateJwk } = await workerVars(mock.origin);
  const envFile = join(dir, "voxgate.vars");
  services.writeEnvFile(envFile, vars);
  const bundle = await services.buildBundle(join(dir, "bundle"));
  const passthrough = await startRelay(mock.origin, await freePort());
  const paths = ["wrangler-dev", "workerd-direct"].filter((p) => !args.only || p === args.only);
  const sign = await jwtSigner(privateJwk);
  const results = { when: new Date().toISOString(), mode: args.quick ? "quick" : "full", paths: {} };

  for (const path of paths) {
    const state = join(dir, `${path}-state`);
    await services.migrate(state);
    const voxgate =
      path === "wrangler-dev"
        ? await services.startWranglerDev({
            script: bundle.main,
            port: await freePort(),
            inspectorPort: await freePort(),
            envFile,
            persistDir: state,
            logPath: join(dir, `${path}.log`),
          })
        : await services.startVoxgateDirect({
            bundlePath: bundle.main,
            vars,
            persistDir: state,
            port: await freePort(),
            logPath: join(dir, `${path}.log`),
          });
    const { keys } = await createBenchAccounts(voxgate.url, sign, { users: 1, keysPerUser: 1, tag: `rt-${path}` });
    const base = routes(mock.origin, passthrough.url, voxgate.url, vars, keys[0]);
    const r = {
      listen: withPassthrough(base.listen, passthrough.url),
      speak: {
        deepgram: withPassthrough(base.speak.deepgram, passthrough.url),
        elevenlabs: withPassthrough(base.speak.elevenlabs, passthrough.url),
      },
    };
    say(`${path}: Voxgate at ${voxgate.url}`);
    // Warm both sides (isolate, key cache, Account object) before measuring.
    await compare(r.listen, firstTranscript, 2);
    const rows = [
      summarize("listen: first transcript", await compare(r.listen, firstTranscript, N.sessions)),
      summarize("listen: per 0.5 s frame", await compare(r.listen, perFrame, 1)),
      summarize("speak (Deepgram): first audio byte", await compare(r.speak.deepgram, firstAudio, N.sessions)),
      summarize("speak (ElevenLabs): first audio byte", await compare(r.speak.elevenlabs, firstAudio, N.sessions)),
    ];
    results.paths[path] = rows;
    await voxgate.stop();
  }

  for (const [path, rows] of Object.entries(results.paths)) {
    console.log(
      `\n${path}: median (p95) in ms — direct to the mock · a bare relay Worker · Voxgate (the relay Worker runs in workerd directly)`,
    );
    console.log("scenario                              direct          relay Worker    Voxgate         added   over relay");
    for (const row of rows) {
      const cell = (x) => `${x.medianMs} (${x.p95Ms})`.padEnd(16);
      console.log(
        `${row.name.padEnd(38)}${cell(row.direct)}${cell(row.passthrough)}${cell(row.voxgate)}${String(row.addedMedianMs).padEnd(8)}${row.addedOverPassthroughMs}`,
      );
    }
    const speak = rows.filter((r) => r.name.startsWith("speak"));
    const worst = Math.max(...speak.map((r) => r.addedMedianMs));
    console.log(
      `first audio byte: ${worst} ms added (target < ${TARGET_FIRST_AUDIO_ADDED_MS} ms): ${worst < TARGET_FIRST_AUDIO_ADDED_MS ? "met" : "NOT met"}`,
    );
    console.log(`opening a session (median ms): ${rows.map((r) => `${r.name.split(":")[0]} ${JSON.stringify(r.openMs)}`).join("; ")}`);
  }
  writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
  say(`results: ${args.out}`);
}

try {
  await main();
} finally {
  await cleanup({ keepDirs: args.keep });
}
