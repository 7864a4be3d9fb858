// The API's rate limit: GCRA (generic cell rate algorithm), a pure function over one number per
// bucket, the "theoretical arrival time" (TAT). With burst = limit, of N simultaneous requests exactly
// `limit` pass, then one per `window / limit`. O(1) state per bucket, unlike a sliding-window log, and
// no double burst at a window edge, unlike a fixed window. The caller (the user's Account object)
// keeps the TATs and calls this synchronously, so no two requests of a user interleave.

export interface RateState {
  limit: number;
  remaining: number;
  /** Set when the request is refused: whole seconds until the next one would pass (rounded up). */
  retryAfterSeconds?: number;
}

export interface RateDecision {
  state: RateState;
  /** The bucket's new TAT when the request passes; undefined when it is refused (nothing changes). */
  tat?: number;
}

/**
 * Time is counted on a grid of 1/1024 ms: Date.now() is whole milliseconds, and a TAT on this grid stays
 * exact in a double (53 bits hold 2^43 ms — until the year 2248 — in 1/1024ths), so adding intervals never
 * rounds. With 60 s / limit in floating point it did: of 9 requests against 9 a minute only 8 passed (8 ×
 * 6666.67 ms summed to 60,000.0002), and X-RateLimit-Remaining said 7 after the first.
 */
const GRID = 1024;

/** A window's interval per request, on the grid (rounded down, so `limit` intervals fit in the window). */
function intervalOf(limit: number, windowMs: number): number {
  return Math.floor((windowMs * GRID) / limit) / GRID;
}

/**
 * Take one request from a bucket allowing `limit` requests per `windowMs`.
 * `tat` is the bucket's current theoretical arrival time (undefined for a new bucket).
 */
export function takeToken(tat: number | undefined, limit: number, windowMs: number, now: number): RateDecision {
  const interval = intervalOf(limit, windowMs);
  // The burst is `limit` whole intervals (≤ windowMs): exactly `limit` requests fit, whatever the limit.
  const burst = limit * interval;
  const next = Math.max(tat ?? now, now) + interval;
  if (next - now > burst) {
    const waitMs = next - burst - now;
    return { state: { limit, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) } };
  }
  return { state: { limit, remaining: Math.floor((burst - (next - now)) / interval) }, tat: next };
}

/** A bucket as the Account object keeps it: its TAT, and the limit it was counted under. */
export interface Bucket {
  tat: number;
  limit: number;
}

/**
 * The bucket's TAT under `limit`, for a bucket counted under another one (the user's plan or the key's
 * rate changed): the requests it holds — its time ahead of now ÷ the old interval — counted at the new
 * interval, so the new limit holds from the very next request. Never more than a full window ahead: a
 * lowered limit makes the caller wait as an emptied bucket would, not for the old requests to drain at the
 * new pace.
 */
export function tatUnder(bucket: Bucket | undefined, limit: number, windowMs: number, now: number): number | undefined {
  if (!bucket || bucket.limit === limit || bucket.tat <= now) return bucket?.tat;
  // Back on the grid (takeToken's arithmetic stays exact from there).
  const held = Math.round((bucket.tat - now) * (bucket.limit / limit) * GRID) / GRID;
  return now + Math.min(held, limit * intervalOf(limit, windowMs));
}

/** The bucket's state without taking a request (a request already counted, admitted a second time). */
export function peekToken(tat: number | undefined, limit: number, windowMs: number, now: number): RateState {
  const interval = intervalOf(limit, windowMs);
  const used = Math.max(tat ?? now, now) - now;
  return { limit, remaining: Math.max(0, Math.floor((limit * interval - used) / interval)) };
}
