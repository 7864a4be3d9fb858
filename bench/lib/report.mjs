// The printed report: one table per question, figures straight from results.json.
import { OPERATIONS } from "./gateways.mjs";

const fmt = (x, digits = 2) => (x === null || x === undefined || Number.isNaN(x) ? "–" : Number(x).toFixed(digits));
const signed = (x, digits = 2) => (x === null || x === undefined ? "–" : `${x >= 0 ? "+" : ""}${Number(x).toFixed(digits)}`);

function table(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells.map((c, i) => (align?.[i] === "l" ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
  console.log(line(headers));
  console.log(widths.map((w) => "─".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

const mark = (t) => (t.met ? "met" : "MISSED");

export function printReport(r) {
  const m = r.machine;
  console.log(
    `\nVoxgate benchmark · ${r.mode} · ${r.generatedAt} · ${m.cores} cores (${m.cpuModel}) · Node ${m.node} · ${m.workerd} · wrangler ${m.wrangler}`,
  );
  console.log(
    `load average ${m.loadAverageAtStart.join(" ")} at start, ${m.loadAverageAtEnd.join(" ")} at end · commit ${m.gitCommit}${m.sourceDirty ? " + uncommitted src changes" : ""}`,
  );
  const meth = r.method;
  console.log(
    `closed loop, ${meth.rounds} interleaved round(s); per scenario and round: ${meth.connections} connections × ${meth.secondsPerRound} s, then 1 connection × ${meth.singleConnectionSecondsPerRound} s`,
  );

  console.log(
    "CPU ms/req: CPU time of the serving processes (workerd, and wrangler's proxy on that path) per request; × pass (CPU) = passthrough CPU / Voxgate CPU",
  );
  for (const [title, key] of [
    [`Throughput and latency at ${meth.connections} connections`, "loaded"],
    ["Latency at 1 connection (no queueing: the per-request cost)", "single"],
  ]) {
    console.log(`\n${title}`);
    const rows = [];
    for (const s of Object.values(r.mock)) rows.push(row(s.label, s[key], null, key));
    for (const s of Object.values(r.portkey?.scenarios ?? {})) rows.push(row(`[Node] ${s.label}`, s[key], null, key));
    for (const p of Object.values(r.paths)) {
      for (const s of Object.values(p.scenarios)) rows.push(row(`[${p.label}] ${s.label}`, s[key], s.vsPassthrough, key));
    }
    table(
      [
        "scenario",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "CPU ms/req",
        "non-2xx",
        key === "loaded" ? "× pass (CPU)" : "× pass",
        "+p50",
        "+p99",
        "+CPU",
      ],
      rows,
      ["l"],
    );
  }

  console.log(
    `\nTime to first audio byte (mock: first chunk at once, the rest ${r.method.ttfb.mockFirstChunkThenDelayMs} ms later; ${r.method.ttfb.samples} samples, ${r.method.ttfb.concurrency} at a time)`,
  );
  const over = (t, m) => signed(t.ttfbMs.p50 - m.ttfbMs.p50, 3);
  const trows = [["mock directly (ElevenLabs stream)", ...ttfbCells(r.ttfb.mock), "–", "–"]];
  if (r.ttfb.portkey) {
    trows.push(["mock directly (OpenAI speech)", ...ttfbCells(r.ttfb.mockSpeech), "–", "–"]);
    trows.push(["[Node] Portkey (OpenAI speech, BYOK)", ...ttfbCells(r.ttfb.portkey), over(r.ttfb.portkey, r.ttfb.mockSpeech), "–"]);
  }
  for (const [id, t] of Object.entries(r.ttfb)) {
    if (!r.paths[id]) continue;
    const label = r.paths[id].label;
    trows.push([`[${label}] passthrough`, ...ttfbCells(t.passthrough), over(t.passthrough, r.ttfb.mock), "–"]);
    trows.push([
      `[${label}] Voxgate (platform key)`,
      ...ttfbCells(t.voxgate),
      over(t.voxgate, r.ttfb.mock),
      signed(t.voxgate.ttfbMs.p50 - t.passthrough.ttfbMs.p50, 3),
    ]);
    if (t.byokOpenAi && r.ttfb.mockSpeech)
      trows.push([`[${label}] Voxgate (OpenAI speech, BYOK)`, ...ttfbCells(t.byokOpenAi), over(t.byokOpenAi, r.ttfb.mockSpeech), "–"]);
  }
  table(["target", "p50 ms", "p90 ms", "min ms", "ok", "over its mock", "added p50 (vs pass)"], trows, ["l"]);

  // A cold Account object against a warm one (one request at a time).
  const crows = [];
  for (const [id, t] of Object.entries(r.ttfb)) {
    if (!r.paths[id] || !t.coldObject) continue;
    const c = t.coldObject;
    crows.push([
      r.paths[id].label,
      c.users,
      c.passthrough.p50,
      c.cold.p50,
      c.warm.p50,
      signed(c.coldAddedOverPassthrough, 3),
      signed(c.warmAddedOverPassthrough, 3),
    ]);
  }
  if (crows.length) {
    console.log("\nFirst audio byte with the user's Account object cold (idle 15 s, evicted) and warm (its next request); 1 at a time");
    table(["path", "users", "passthrough p50", "cold p50", "warm p50", "cold added", "warm added"], crows, ["l"]);
  }

  // Edge transcoding: the same provider relayed as it comes vs converted while streaming.
  const xrows = [];
  for (const [id, t] of Object.entries(r.ttfb)) {
    if (!r.paths[id] || !t.nativePcm || !t.transcodedUlaw) continue;
    const label = r.paths[id].label;
    xrows.push([`[${label}] OpenAI pcm 24 kHz, relayed`, ...ttfbCells(t.nativePcm), "–"]);
    xrows.push([
      `[${label}] OpenAI → µ-law 8 kHz, transcoded`,
      ...ttfbCells(t.transcodedUlaw),
      signed(t.transcodedUlaw.ttfbMs.p50 - t.nativePcm.ttfbMs.p50, 3),
    ]);
  }
  if (xrows.length) {
    const c = r.transcoding?.firstChunk;
    console.log(
      "\nEdge transcoding: time to first audio byte, native vs transcoded (same provider, same mock answer)" +
        (c
          ? `; converting the first chunk (${c.firstChunkBytes} B, new transcoder) takes ${fmt(c.p50, 3)} ms p50, ${fmt(c.p90, 3)} ms p90 in process`
          : ""),
    );
    table(["target", "p50 ms", "p90 ms", "min ms", "ok", "transcoding adds (p50)"], xrows, ["l"]);
  }

  printGateways(r);

  console.log("\nHot-path storage work per request (X-Voxgate-Storage; after a warm-up request with the same credential)");
  const srows = [];
  for (const [pathId, byScenario] of Object.entries(r.storage)) {
    for (const [id, s] of Object.entries(byScenario)) {
      srows.push([`[${r.paths[pathId].label}] ${id}`, s.max.d1, s.max.durableObject, s.max.kvRead, s.max.kvWrite, s.statuses.join(",")]);
    }
  }
  table(["scenario", "D1", "DO", "KV read", "KV write", "status"], srows, ["l"]);

  const b = r.bundle;
  console.log(
    `\nBundle (wrangler deploy --dry-run${b.minifiedByConfig ? ", minify = true" : ""}): ${fmt(b.rawKiB, 1)} KiB raw, ${fmt(b.gzipKiB, 1)} KiB gzip` +
      (b.wranglerReported ? ` (wrangler reports ${b.wranglerReported.rawKiB} / ${b.wranglerReported.gzipKiB} KiB)` : ""),
  );
  if (b.withMinify) console.log(`  with --minify: ${fmt(b.withMinify.rawKiB, 1)} KiB raw, ${fmt(b.withMinify.gzipKiB, 1)} KiB gzip`);

  console.log("\nTargets");
  const t = r.targets;
  const trow = [];
  for (const [pathId, p] of Object.entries(t.byPath)) {
    const label = r.paths[pathId].label;
    for (const [id, s] of Object.entries(p.scenarios)) {
      trow.push([
        `[${label}] ${id}: throughput ≥ ${t.thresholds.throughputRatio} × passthrough (req/s | CPU-implied)`,
        `${fmt(s.throughputRatio.value, 3)} | ${fmt(s.cpuImpliedThroughputRatio.value, 3)}`,
        `${mark(s.throughputRatio)} | ${mark(s.cpuImpliedThroughputRatio)}`,
      ]);
      trow.push([
        `[${label}] ${id}: p50 added ≤ ${t.thresholds.p50AddedMs} ms (${r.method.connections} conns | 1 conn)`,
        `${signed(s.p50AddedMs.value)} | ${signed(s.singleP50AddedMs.value)}`,
        `${mark(s.p50AddedMs)} | ${mark(s.singleP50AddedMs)}`,
      ]);
      trow.push([
        `[${label}] ${id}: p99 added ≤ ${t.thresholds.p99AddedMs} ms (${r.method.connections} conns | 1 conn)`,
        `${signed(s.p99AddedMs.value)} | ${signed(s.singleP99AddedMs.value)}`,
        `${mark(s.p99AddedMs)} | ${mark(s.singleP99AddedMs)}`,
      ]);
    }
    trow.push([
      `[${label}] time to first byte added ≤ ${t.thresholds.ttfbAddedMs} ms`,
      signed(p.ttfbAddedMs.value, 3),
      mark(p.ttfbAddedMs),
    ]);
    trow.push([`[${label}] hot path: D1 queries = 0`, p.hotPathD1.value, mark(p.hotPathD1)]);
    trow.push([`[${label}] hot path: Durable Object calls ≤ 1`, p.hotPathDurableObject.value, mark(p.hotPathDurableObject)]);
    trow.push([`[${label}] hot path: blocking KV operations = 0`, p.hotPathKv.value, mark(p.hotPathKv)]);
  }
  trow.push([`bundle ≤ ${t.thresholds.bundleGzipKiB} KiB gzip (as configured)`, fmt(t.bundleGzipKiB.value, 1), mark(t.bundleGzipKiB)]);
  if (t.bundleGzipKiBWithMinify)
    trow.push([
      `bundle ≤ ${t.thresholds.bundleGzipKiB} KiB gzip (with --minify)`,
      fmt(t.bundleGzipKiBWithMinify.value, 1),
      mark(t.bundleGzipKiBWithMinify),
    ]);
  table(["target", "value", ""], trow, ["l"]);
  console.log(`\n(${r.durationSeconds} s in all)`);
}

function row(label, s, vs, key) {
  const cmp = vs
    ? key === "loaded"
      ? [
          `${fmt(vs.throughputRatio, 2)} (${fmt(vs.cpuImpliedThroughputRatio, 2)})`,
          signed(vs.p50AddedMs),
          signed(vs.p99AddedMs),
          signed(vs.cpuAddedMsPerRequest, 3),
        ]
      : ["–", signed(vs.singleP50AddedMs), signed(vs.singleP99AddedMs), "–"]
    : ["–", "–", "–", "–"];
  return [
    label,
    fmt(s.throughputRps, 0),
    fmt(s.latencyMs.p50),
    fmt(s.latencyMs.p90),
    fmt(s.latencyMs.p99),
    fmt(s.cpuMsPerRequest.server, 3),
    s.non2xx + s.errors,
    ...cmp,
  ];
}

function ttfbCells(t) {
  return [fmt(t.ttfbMs.p50, 2), fmt(t.ttfbMs.p90, 2), fmt(t.ttfbMs.min, 2), `${t.ok}/${t.samples}`];
}

/** Voxgate next to the passthrough and Portkey: each gateway's figures over its own mock endpoint, and Voxgate's ratios. */
function printGateways(r) {
  const pk = r.portkey;
  if (pk) {
    const checks = Object.entries(pk.verification)
      .map(([id, v]) => `${id} ${v.reachedMock}/${v.sent} at the mock, same ${v.bytes} B`)
      .join("; ");
    const load = Object.entries(pk.scenarios)
      .map(([id, s]) => `${id} ${s.loaded.upstreamRequests + s.single.upstreamRequests} for ${s.loaded.ok + s.single.ok} 2xx`)
      .join("; ");
    console.log(
      `\nPortkey ${pk.version} (Node server, @hono/node-server ${pk.nodeServer}, hono ${pk.hono}) · listening on ${pk.listening?.join(", ") ?? "?"} · outbound attempts refused: ${pk.refusedConnections}`,
    );
    console.log(`  checked before load: ${checks}`);
    console.log(`  mock requests during load: ${load}`);
  }
  console.log(
    "\nVoxgate next to the passthrough and Portkey (added = over the mock endpoint each calls; ratio = Voxgate / other: req/s > 1, added and CPU < 1 favour Voxgate)",
  );
  const rows = [];
  for (const [pathId, ops] of Object.entries(r.comparisons)) {
    const label = r.paths[pathId].label;
    for (const [op, c] of Object.entries(ops)) {
      const f = c.figures;
      const line = (metric, get, digits, rat) => {
        const v = (x) => (x ? get(x) : null);
        rows.push([
          `[${label}] ${OPERATIONS[op].label}: ${metric}`,
          fmt(v(f.passthrough), digits),
          fmt(v(f.voxgate), digits),
          fmt(v(f.portkey), digits),
          fmt(c.vsPassthrough && rat(c.vsPassthrough), 2),
          fmt(c.vsPortkey && rat(c.vsPortkey), 2),
        ]);
      };
      for (const [k, n] of [
        ["loaded", `${r.method.connections} conns`],
        ["single", "1 conn"],
      ]) {
        line(
          `req/s, ${n}`,
          (x) => x.throughputRps[k],
          0,
          (x) => x.throughput[k],
        );
        line(
          `p50 added ms, ${n}`,
          (x) => x.p50AddedMs[k],
          2,
          (x) => x.p50Added[k],
        );
        line(
          `p99 added ms, ${n}`,
          (x) => x.p99AddedMs[k],
          2,
          (x) => x.p99Added[k],
        );
      }
      line(
        `CPU ms/req, ${r.method.connections} conns`,
        (x) => x.cpuMsPerRequest.loaded,
        3,
        (x) => x.cpu.loaded,
      );
      if (f.voxgate?.ttfbAddedMs !== undefined)
        line(
          "first byte added ms",
          (x) => x.ttfbAddedMs,
          2,
          (x) => x.ttfbAdded,
        );
    }
  }
  table(["metric", "passthrough", "Voxgate", "Portkey", "Voxgate/pass", "Voxgate/Portkey"], rows, ["l"]);
}
