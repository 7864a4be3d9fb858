// Closed-loop load with autocannon: a fixed number of connections, each sending its next request as
// soon as the previous answer is complete, for a fixed time. autocannon's own histogram keeps whole
// milliseconds; the targets are about fractions of one, so every 2xx latency is recorded here exactly
// (autocannon times each request with process.hrtime) and the percentiles are computed from those.
// Each run also reads the CPU time the serving processes used (see cpu.mjs).
import autocannon from "autocannon";
import { cpuMs } from "./cpu.mjs";

/**
 * One run. Returns the raw figures; `summarize` merges runs (rounds) into the reported figures.
 * @param {object} o
 * @param {string} o.url          origin, e.g. http://127.0.0.1:8787
 * @param {string} o.path
 * @param {object} o.body         JSON body (the same for every request)
 * @param {() => Record<string,string>} [o.headers]  per-request headers (e.g. the next API key)
 * @param {number} o.connections
 * @param {number} o.durationSeconds
 * @param {{server?: number[], upstream?: number[]}} [o.cpu]  process trees whose CPU time to read
 * @param {() => Promise<number>} [o.upstreamSeq]  the mock's request counter, read before and after
 */
export async function runLoad({ url, path, body, headers = () => ({}), connections, durationSeconds, cpu = {}, upstreamSeq }) {
  const latencies = [];
  const statuses = {};
  const payload = JSON.stringify(body);
  const instance = autocannon({
    url,
    connections,
    duration: durationSeconds,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        method: "POST",
        path,
        setupRequest: (req) => ({ ...req, headers: { "content-type": "application/json", ...headers() }, body: payload }),
      },
    ],
  });
  instance.on("response", (_client, statusCode, _bytes, responseTimeMs) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs);
  });
  const seq0 = upstreamSeq ? await upstreamSeq() : null;
  const cpu0 = { server: cpu.server ? cpuMs(cpu.server) : null, upstream: cpu.upstream ? cpuMs(cpu.upstream) : null };
  const result = await instance;
  const cpu1 = { server: cpu.server ? cpuMs(cpu.server) : null, upstream: cpu.upstream ? cpuMs(cpu.upstream) : null };
  // Requests the mock received during the run: ≥ the 2xx answers, a few more when autocannon stops
  // with requests in flight (those may also land just after this read).
  const upstreamRequests = upstreamSeq ? (await upstreamSeq()) - seq0 : null;
  return {
    durationSeconds: result.duration,
    statuses,
    latencies,
    errors: result.errors,
    timeouts: result.timeouts,
    upstreamRequests,
    cpuMs: {
      server: cpu0.server === null ? null : cpu1.server - cpu0.server,
      upstream: cpu0.upstream === null ? null : cpu1.upstream - cpu0.upstream,
    },
  };
}

/** Merge runs of one scenario into its reported figures. */
export function summarize(runs, connections) {
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const statuses = {};
  for (const r of runs) for (const [s, n] of Object.entries(r.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
  const total = Object.values(statuses).reduce((n, c) => n + c, 0);
  const ok = latencies.length;
  const seconds = runs.reduce((n, r) => n + r.durationSeconds, 0);
  const sumCpu = (k) => (runs.every((r) => r.cpuMs[k] !== null) ? runs.reduce((n, r) => n + r.cpuMs[k], 0) : null);
  const perRequest = (ms) => (ms === null || total === 0 ? null : round(ms / total, 3));
  return {
    connections,
    rounds: runs.length,
    durationSeconds: round(seconds, 2),
    requests: total,
    ok,
    non2xx: total - ok,
    statuses,
    errors: runs.reduce((n, r) => n + r.errors, 0),
    timeouts: runs.reduce((n, r) => n + r.timeouts, 0),
    upstreamRequests: runs.every((r) => r.upstreamRequests !== null && r.upstreamRequests !== undefined)
      ? runs.reduce((n, r) => n + r.upstreamRequests, 0)
      : null,
    throughputRps: round(ok / seconds, 1),
    latencyMs: {
      p50: round(percentile(latencies, 50), 3),
      p90: round(percentile(latencies, 90), 3),
      p99: round(percentile(latencies, 99), 3),
      mean: round(latencies.reduce((a, b) => a + b, 0) / Math.max(1, ok), 3),
    },
    cpuMsPerRequest: { server: perRequest(sumCpu("server")), upstream: perRequest(sumCpu("upstream")) },
  };
}

/** Nearest-rank percentile of a sorted array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export const round = (x, digits = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null);
