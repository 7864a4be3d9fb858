// The circuit breaker: a provider that keeps failing is skipped for a cool-down, then probed again.
//
// Where its state lives: each isolate keeps it in memory (the hot path reads only that — no round trip
// when every provider is healthy) and shares it with the other isolates of its location through the
// Cache API: a failure or a recovery is written after the response (waitUntil), and an isolate refreshes
// its copy in the background at most every few seconds. Per location rather than global, because an
// outage is usually seen from where the traffic is, the Cache API costs nothing to run, and a Durable
// Object would put one global writer in the path of every failure (see docs/ARCHITECTURE.md, Failover).
import type { Ctx } from "../context";

/** A provider is opened after this many failures within FAILURE_WINDOW_MS (a flake does not open it). */
const FAILURE_WINDOW_MS = 60_000;
/** An isolate re-reads its location's state at most this often (in the background). */
const SYNC_INTERVAL_MS = 5_000;
/** The shared entry outlives any cool-down a little. */
const SHARED_TTL_SECONDS = 600;
const CACHE_ORIGIN = "https://breaker.voxgate.internal";

export type Health = "closed" | "open" | "half_open";

export interface BreakerSettings {
  failuresToOpen: number;
  coolDownMs: number;
}

interface State {
  /** Times of recent failures (within the window). */
  failures: number[];
  /** While now < openUntil the provider is skipped; after it, one probe at a time decides. */
  openUntil: number;
  /** When it last opened (0 while closed). */
  openedAt?: number;
}

/** This isolate's own: when it last synced, and until when its half-open probe is out (no other is let through). */
type Local = State & { syncedAt: number; probeUntil: number };

const states = new Map<string, Local>();

function stateOf(provider: string): Local {
  let s = states.get(provider);
  if (!s) {
    s = { failures: [], openUntil: 0, syncedAt: 0, probeUntil: 0 };
    states.set(provider, s);
  }
  return s;
}

/** The breaker as GET /v1/providers shows it: its state, since when, and when it is tried again. */
export function breakerView(provider: string, now = Date.now()): { state: Health; since: number | null; retryAt: number | null } {
  const s = stateOf(provider);
  const state = healthOf(provider, now);
  if (state === "closed") return { state, since: null, retryAt: null };
  return { state, since: s.openedAt ?? null, retryAt: s.openUntil };
}

export function healthOf(provider: string, now = Date.now()): Health {
  const s = stateOf(provider);
  if (s.openUntil === 0) return "closed";
  return now < s.openUntil ? "open" : "half_open";
}

/**
 * May this provider be tried now? An open breaker says no until its cool-down is over; then one request
 * probes it (half-open) and the others skip it until that probe has answered — or, should it never tell
 * (refused before the call, the caller's own 4xx), until `probeLeaseMs` has passed.
 */
export function allows(c: Ctx, provider: string, probeLeaseMs: number, now = Date.now()): boolean {
  refresh(c, provider, now);
  const health = healthOf(provider, now);
  if (health !== "half_open") return health === "closed";
  const s = stateOf(provider);
  if (now < s.probeUntil) return false;
  s.probeUntil = now + probeLeaseMs;
  return true;
}

/** The provider failed before its first byte (connection, timeout, 5xx, 429). */
export function recordFailure(c: Ctx, provider: string, settings: BreakerSettings, now = Date.now()) {
  const s = stateOf(provider);
  s.failures = [...s.failures.filter((t) => t > now - FAILURE_WINDOW_MS), now];
  // A failed probe (half-open) opens it again at once; a closed breaker opens after enough failures.
  if (s.openUntil !== 0 || s.failures.length >= settings.failuresToOpen) {
    s.openUntil = now + settings.coolDownMs;
    s.openedAt = now;
  }
  s.probeUntil = 0;
  share(c, provider, s);
}

/** The provider answered: a half-open or failing breaker closes. */
export function recordSuccess(c: Ctx, provider: string) {
  const s = stateOf(provider);
  if (s.openUntil === 0 && s.failures.length === 0) return;
  s.failures = [];
  s.openUntil = 0;
  s.openedAt = 0;
  s.probeUntil = 0;
  share(c, provider, s);
}

function share(c: Ctx, provider: string, s: State) {
  const cache = sharedCache();
  if (!cache) return;
  const body = JSON.stringify({ failures: s.failures, openUntil: s.openUntil });
  const res = new Response(body, { headers: { "content-type": "application/json", "cache-control": `max-age=${SHARED_TTL_SECONDS}` } });
  c.executionCtx.waitUntil(cache.put(keyOf(provider), res).catch(() => {}));
}

/** Read the location's state in the background, at most every SYNC_INTERVAL_MS: never on the request's path. */
function refresh(c: Ctx, provider: string, now: number) {
  const s = stateOf(provider);
  const cache = sharedCache();
  if (!cache || now - s.syncedAt < SYNC_INTERVAL_MS) return;
  s.syncedAt = now;
  c.executionCtx.waitUntil(
    cache
      .match(keyOf(provider))
      .then(async (res) => {
        if (!res) return;
        const shared = (await res.json()) as State;
        // The later news wins: a newer failure or a later cool-down than this isolate has seen.
        const latestLocal = Math.max(0, ...s.failures);
        const latestShared = Math.max(0, ...shared.failures);
        if (latestShared > latestLocal || shared.openUntil > s.openUntil) {
          s.failures = shared.failures.filter((t) => t > Date.now() - FAILURE_WINDOW_MS);
          s.openUntil = shared.openUntil;
        } else if (shared.openUntil === 0 && shared.failures.length === 0 && s.openUntil !== 0 && Date.now() >= s.openUntil) {
          // Another isolate's probe succeeded.
          s.failures = [];
          s.openUntil = 0;
        }
      })
      .catch(() => {}),
  );
}

function sharedCache(): Cache | undefined {
  return typeof caches === "undefined" ? undefined : (caches as unknown as { default: Cache }).default;
}

const keyOf = (provider: string) => `${CACHE_ORIGIN}/${encodeURIComponent(provider)}`;

/** Forget every provider's state (tests). */
export function resetBreakers() {
  states.clear();
}
