// Voxgate against the passthrough, and the figures against issue 8's targets.
import { round } from "./load.mjs";

export function compare(vg, pt) {
  const d = (a, b) => (a === null || b === null ? null : round(a - b, 3));
  const vgCpu = vg.loaded.cpuMsPerRequest.server;
  const ptCpu = pt.loaded.cpuMsPerRequest.server;
  return {
    throughputRatio: round(vg.loaded.throughputRps / pt.loaded.throughputRps, 3),
    // What the throughput ratio would be if the serving processes' CPU were the only limit: steadier
    // than req/s on a machine shared with other work.
    cpuImpliedThroughputRatio: vgCpu && ptCpu ? round(ptCpu / vgCpu, 3) : null,
    p50AddedMs: d(vg.loaded.latencyMs.p50, pt.loaded.latencyMs.p50),
    p99AddedMs: d(vg.loaded.latencyMs.p99, pt.loaded.latencyMs.p99),
    singleP50AddedMs: d(vg.single.latencyMs.p50, pt.single.latencyMs.p50),
    singleP99AddedMs: d(vg.single.latencyMs.p99, pt.single.latencyMs.p99),
    cpuAddedMsPerRequest: d(vg.loaded.cpuMsPerRequest.server, pt.loaded.cpuMsPerRequest.server),
  };
}

/** Issue 8: throughput ratio, added p50/p99 and time to first byte (ms), hot-path round trips, bundle (KiB gzip). */
export const TARGETS = {
  throughputRatio: 0.7,
  p50AddedMs: 1,
  p99AddedMs: 5,
  ttfbAddedMs: 2,
  d1: 0,
  durableObject: 1,
  kv: 0,
  bundleGzipKiB: 400,
};

export function evaluateTargets(results, paths) {
  const out = { thresholds: TARGETS, byPath: {} };
  for (const p of paths) {
    const scen = results.paths[p.id].scenarios;
    const rows = {};
    for (const [id, s] of Object.entries(scen)) {
      if (!s.vsPassthrough) continue;
      const v = s.vsPassthrough;
      rows[id] = {
        throughputRatio: { value: v.throughputRatio, met: v.throughputRatio >= TARGETS.throughputRatio },
        cpuImpliedThroughputRatio: { value: v.cpuImpliedThroughputRatio, met: v.cpuImpliedThroughputRatio >= TARGETS.throughputRatio },
        p50AddedMs: { value: v.p50AddedMs, met: v.p50AddedMs <= TARGETS.p50AddedMs },
        p99AddedMs: { value: v.p99AddedMs, met: v.p99AddedMs <= TARGETS.p99AddedMs },
        singleP50AddedMs: { value: v.singleP50AddedMs, met: v.singleP50AddedMs <= TARGETS.p50AddedMs },
        singleP99AddedMs: { value: v.singleP99AddedMs, met: v.singleP99AddedMs <= TARGETS.p99AddedMs },
      };
    }
    const t = results.ttfb[p.id];
    const ttfbAdded = round(t.voxgate.ttfbMs.p50 - t.passthrough.ttfbMs.p50, 3);
    const st = results.storage[p.id];
    const hot = Object.entries(st).filter(([k]) => !k.includes("first use"));
    const worst = (f) => Math.max(...hot.map(([, v]) => f(v.max)));
    out.byPath[p.id] = {
      scenarios: rows,
      ttfbAddedMs: { value: ttfbAdded, met: ttfbAdded <= TARGETS.ttfbAddedMs },
      hotPathD1: { value: worst((m) => m.d1), met: worst((m) => m.d1) <= TARGETS.d1 },
      hotPathDurableObject: { value: worst((m) => m.durableObject), met: worst((m) => m.durableObject) <= TARGETS.durableObject },
      hotPathKv: { value: worst((m) => m.kvRead + m.kvWrite), met: worst((m) => m.kvRead + m.kvWrite) <= TARGETS.kv },
    };
  }
  out.bundleGzipKiB = { value: results.bundle.gzipKiB, met: results.bundle.gzipKiB <= TARGETS.bundleGzipKiB };
  if (results.bundle.withMinify) {
    out.bundleGzipKiBWithMinify = {
      value: results.bundle.withMinify.gzipKiB,
      met: results.bundle.withMinify.gzipKiB <= TARGETS.bundleGzipKiB,
    };
  }
  return out;
}
