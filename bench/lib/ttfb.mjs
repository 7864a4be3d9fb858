// Time to first audio byte: from writing the request to the first byte of the response body, while
// the mock sends its first audio chunk at once and the rest `SLOW_MS` later (the mock's `slow` fault,
// armed on its control API so it acts whoever sends the upstream request). A gateway that buffers
// shows ≥ SLOW_MS here; one that streams shows only its own overhead.
//
// The targets are sampled interleaved (mock, passthrough, Voxgate, mock, …): on a shared machine the
// background load then weighs on every target alike, which matters more than it does for throughput.
import http from "node:http";
import { percentile, round } from "./load.mjs";

export const SLOW_MS = 500;

async function control(mockOrigin, path, body) {
  const res = await fetch(`${mockOrigin}/__control/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`mock control ${path}: ${res.status} ${await res.text()}`);
}

/** One request; resolves with {status, ttfbMs, totalMs}. */
function sample(agent, url, payload, headers) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request(
      url,
      { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...headers } },
      (res) => {
        const headersMs = Number(process.hrtime.bigint() - t0) / 1e6;
        let ttfb;
        res.on("data", () => {
          ttfb ??= Number(process.hrtime.bigint() - t0) / 1e6;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode, headersMs, ttfbMs: ttfb ?? NaN, totalMs: Number(process.hrtime.bigint() - t0) / 1e6 }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/**
 * `samples` slow-streamed requests per target, `concurrency` in flight at a time, targets interleaved.
 * @param {{mockOrigin:string, provider:string, targets:{id:string, url:string, body:object, headers?:()=>Record<string,string>}[], samples:number, concurrency:number}} o
 * @returns {Promise<Record<string, object>>} per target id: {samples, ok, ttfbMs:{p50,p90,min}, headersMs:{p50}, totalMs:{p50}}
 */
export async function timeToFirstByte({ mockOrigin, provider, targets, samples, concurrency }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const jobs = [];
  for (let i = 0; i < samples; i++) for (const t of targets) jobs.push(t);
  const results = new Map(targets.map((t) => [t.id, []]));
  try {
    await control(mockOrigin, "reset");
    await control(mockOrigin, "fault", { provider, mode: "slow", delayMs: SLOW_MS, times: jobs.length + targets.length });
    // One unmeasured request per target: connections open, code warm.
    await Promise.all(targets.map((t) => sample(agent, t.url, JSON.stringify(t.body), t.headers?.() ?? {})));
    let next = 0;
    const loop = async () => {
      while (next < jobs.length) {
        const t = jobs[next++];
        results.get(t.id).push(await sample(agent, t.url, JSON.stringify(t.body), t.headers?.() ?? {}));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
  } finally {
    agent.destroy();
    await control(mockOrigin, "reset").catch(() => {});
  }
  const out = {};
  for (const [id, rs] of results) {
    const ok = rs.filter((r) => r.status === 200 && Number.isFinite(r.ttfbMs));
    const ttfb = ok.map((r) => r.ttfbMs).sort((a, b) => a - b);
    const total = ok.map((r) => r.totalMs).sort((a, b) => a - b);
    const headers = ok.map((r) => r.headersMs).sort((a, b) => a - b);
    out[id] = {
      samples: rs.length,
      ok: ok.length,
      slowMs: SLOW_MS,
      ttfbMs: { p50: round(percentile(ttfb, 50), 3), p90: round(percentile(ttfb, 90), 3), min: round(ttfb[0], 3) },
      headersMs: { p50: round(percentile(headers, 50), 3) },
      totalMs: { p50: round(percentile(total, 50), 1) },
    };
  }
  return out;
}

// ---- transcoding ------------------------------------------------------------------------------------

/**
 * The two Voxgate requests that tell what edge transcoding adds to the first byte: the same provider
 * (OpenAI speech, whose only rate is 24 kHz) asked for its own pcm (relayed untouched) and for 8 kHz µ-law
 * (its pcm resampled 24 → 8 kHz and companded as it streams). Both answers are the mock's tone at 24 kHz
 * upstream, so the only difference is the conversion.
 */
export function transcodingTargets(pathId, url, text, nextKey) {
  const headers = () => ({ authorization: `Bearer ${nextKey()}` });
  return [
    { id: `${pathId}/native-pcm`, url, body: { provider: "openai", text, format: "pcm", sampleRate: 24000 }, headers },
    { id: `${pathId}/transcoded-ulaw`, url, body: { provider: "openai", text, format: "ulaw", sampleRate: 8000 }, headers },
  ];
}

/**
 * CPU time of the conversion work on a first chunk, in process: a new transcoder (24 kHz pcm → 8 kHz µ-law)
 * and its first push of the mock's first OpenAI chunk (a quarter of its tone). Median of `runs`, in ms, and
 * the very first run (`coldMs`), which also builds the resampler's filter table.
 */
export async function firstChunkConversionMs(tsImport, toneText, runs = 200) {
  const { createTranscoder } = await tsImport("../../src/audio/transcode.ts", import.meta.url);
  const { mockTone } = await import("../../test/mocks/tone.mjs");
  const { splitBytes } = await import("../../test/mocks/audio.mjs");
  const [first] = splitBytes(mockTone(toneText, { sampleRate: 24000 }), 4);
  const times = [];
  let coldMs;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const t = createTranscoder({ container: "raw", encoding: "pcm_s16le", sampleRate: 24000 }, { format: "ulaw", sampleRate: 8000 });
    const out = t.push(first);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    coldMs ??= times[0]; // the first run also builds the 24 → 8 kHz filter table (once per isolate)
    if (!out?.length) throw new Error("the first chunk converted to nothing");
  }
  times.sort((a, b) => a - b);
  return {
    firstChunkBytes: first.length,
    coldMs: round(coldMs, 4),
    p50: round(percentile(times, 50), 4),
    p90: round(percentile(times, 90), 4),
  };
}

// ---- a cold Account object ----------------------------------------------------------------------------

/** How long a Durable Object must sit idle before workerd evicts it (its inactivity timeout is ~10 s). */
export const OBJECT_IDLE_EVICTION_MS = 15_000;

/**
 * First audio byte with the user's Account object cold (evicted after sitting idle) and then warm (the very
 * next request of the same user), next to the passthrough, one request at a time. Nothing is sent to
 * Voxgate for OBJECT_IDLE_EVICTION_MS first, so every user's object has been evicted; the isolate itself
 * stays (its key cache too): what differs between the cold and the warm sample is the object's wake.
 * @param {{mockOrigin:string, passthroughUrl:string, voxgateUrl:string, keys:string[], body:object}} o
 */
export async function coldObjectFirstByte({ mockOrigin, passthroughUrl, voxgateUrl, keys, body }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const payload = JSON.stringify(body);
  const runs = { passthrough: [], cold: [], warm: [] };
  try {
    await control(mockOrigin, "reset");
    await control(mockOrigin, "fault", { provider: "*", mode: "slow", delayMs: SLOW_MS, times: keys.length * 3 + 1 });
    await sample(agent, passthroughUrl, payload, {}); // the connection open
    await new Promise((ok) => setTimeout(ok, OBJECT_IDLE_EVICTION_MS));
    for (const key of keys) {
      const auth = { authorization: `Bearer ${key}` };
      runs.passthrough.push(await sample(agent, passthroughUrl, payload, {}));
      runs.cold.push(await sample(agent, voxgateUrl, payload, auth));
      runs.warm.push(await sample(agent, voxgateUrl, payload, auth));
    }
  } finally {
    agent.destroy();
    await control(mockOrigin, "reset").catch(() => {});
  }
  const p50 = (rs) => {
    const ok = rs.filter((r) => r.status === 200 && Number.isFinite(r.ttfbMs)).map((r) => r.ttfbMs);
    return {
      ok: ok.length,
      p50: round(
        percentile(
          ok.sort((a, b) => a - b),
          50,
        ),
        3,
      ),
    };
  };
  const out = {
    users: keys.length,
    idleMs: OBJECT_IDLE_EVICTION_MS,
    passthrough: p50(runs.passthrough),
    cold: p50(runs.cold),
    warm: p50(runs.warm),
  };
  out.coldAddedOverPassthrough = round(out.cold.p50 - out.passthrough.p50, 3);
  out.warmAddedOverPassthrough = round(out.warm.p50 - out.passthrough.p50, 3);
  return out;
}
