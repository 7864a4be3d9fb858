// Voxgate next to the other gateways in the run — the passthrough worker and Portkey — on the same
// operations: throughput, and latency and time to first byte *added over the mock endpoint each one
// calls* (Voxgate and the passthrough call ElevenLabs' TTS stream, Portkey OpenAI's speech endpoint;
// all three call OpenAI chat), so a difference in the upstream does not count as the gateway's.
// Ratios are Voxgate / other: throughput > 1 means Voxgate serves more, added latency (and CPU per
// request, the serving processes' own) < 1 means Voxgate adds (spends) less.
import { round } from "./load.mjs";

/** Which scenarios stand for each operation (ids in results.json). */
export const OPERATIONS = {
  tts: {
    label: "TTS",
    voxgate: "voxgate-synthesize-platform",
    passthrough: "passthrough-synthesize",
    portkey: "portkey-speech",
    mock: { voxgate: "mock-synthesize", passthrough: "mock-synthesize", portkey: "mock-speech" },
    ttfb: { voxgate: "mock", passthrough: "mock", portkey: "mockSpeech" },
  },
  chat: {
    label: "chat",
    voxgate: "voxgate-chat-platform",
    passthrough: "passthrough-chat",
    portkey: "portkey-chat",
    mock: { voxgate: "mock-chat", passthrough: "mock-chat", portkey: "mock-chat" },
  },
};

const diff = (a, b) => (a === null || a === undefined || b === null || b === undefined ? null : round(a - b, 3));
const ratio = (a, b) => (a === null || a === undefined || b === null || b === undefined || !(b > 0) ? null : round(a / b, 3));

/** One gateway's figures for one operation, from its scenario, the mock's, and its TTFB run. */
function figures(s, mock, ttfb, ttfbMock) {
  if (!s || !mock) return null;
  const both = (f) => ({ loaded: f("loaded"), single: f("single") });
  return {
    throughputRps: both((k) => s[k].throughputRps),
    p50AddedMs: both((k) => diff(s[k].latencyMs.p50, mock[k].latencyMs.p50)),
    p99AddedMs: both((k) => diff(s[k].latencyMs.p99, mock[k].latencyMs.p99)),
    cpuMsPerRequest: both((k) => s[k].cpuMsPerRequest.server),
    ttfbAddedMs: ttfb && ttfbMock ? diff(ttfb.ttfbMs.p50, ttfbMock.ttfbMs.p50) : undefined,
  };
}

function ratios(vg, other) {
  if (!vg || !other) return null;
  const both = (k, f) => ({ loaded: f(vg[k].loaded, other[k].loaded), single: f(vg[k].single, other[k].single) });
  return {
    throughput: both("throughputRps", ratio),
    p50Added: both("p50AddedMs", ratio),
    p99Added: both("p99AddedMs", ratio),
    cpu: both("cpuMsPerRequest", ratio),
    ttfbAdded: vg.ttfbAddedMs === undefined ? undefined : ratio(vg.ttfbAddedMs, other.ttfbAddedMs),
  };
}

/** results.comparisons: per path, per operation, the three gateways' figures and Voxgate's ratios. */
export function compareGateways(results) {
  const out = {};
  const portkey = results.portkey?.scenarios ?? {};
  for (const [pathId, p] of Object.entries(results.paths)) {
    out[pathId] = {};
    const t = results.ttfb[pathId] ?? {};
    for (const [op, o] of Object.entries(OPERATIONS)) {
      const mock = (who) => results.mock[o.mock[who]];
      const ttfbMock = (who) => (o.ttfb ? results.ttfb[o.ttfb[who]] : null);
      const f = {
        passthrough: figures(p.scenarios[o.passthrough], mock("passthrough"), o.ttfb && t.passthrough, ttfbMock("passthrough")),
        voxgate: figures(p.scenarios[o.voxgate], mock("voxgate"), o.ttfb && t.voxgate, ttfbMock("voxgate")),
        portkey: figures(portkey[o.portkey], mock("portkey"), o.ttfb && results.ttfb.portkey, ttfbMock("portkey")),
      };
      out[pathId][op] = {
        scenarios: { passthrough: o.passthrough, voxgate: o.voxgate, portkey: o.portkey },
        figures: f,
        vsPassthrough: ratios(f.voxgate, f.passthrough),
        vsPortkey: ratios(f.voxgate, f.portkey),
      };
    }
  }
  return out;
}
