// The API's rate limit (API.md §6: "of N concurrent requests against a limit L, exactly L pass"): a sliding
// window log per bucket — the times of the last `limit` requests it let through, in a ring. A request passes
// when the oldest of them is a whole window old, so no window of that length ever holds more than `limit`
// passed requests, however a burst is spread: a burst that takes two seconds to arrive still gets exactly
// `limit` through. (GCRA, used before, refilled during the burst: one more every 60 s / limit, so 400
// requests against 300 a minute let 308 through, and any minute could hold 2 × limit − 1.) A fixed window
// would let 2 × limit through across its edge. The state is `limit` numbers per bucket (8 KB at 1,000 a
// minute), in the Account object's memory (and its storage a second later: src/account/rate-windows.ts); a
// decision is O(1), its `remaining` a binary search.
// The caller (the user's Account object) calls this synchronously, so no two requests of a user interleave.

export interface RateState {
  limit: number;
  remaining: number;
  /** Set when the request is refused: whole seconds until the next one would pass (rounded up). */
  retryAfterSeconds?: number;
}

export class RateWindow {
  /** Times of the last `limit` passed requests, oldest at `next` (0: none yet — older than any window). */
  private readonly times: Float64Array;
  private next = 0;

  /**
   * A bucket allowing `limit` requests per `windowMs`. `from`: the same bucket counted under another limit
   * (the plan or the key's rate changed): its newest requests carry over, so the new limit holds at once.
   */
  constructor(
    readonly limit: number,
    private readonly windowMs: number,
    from?: RateWindow,
  ) {
    this.times = new Float64Array(limit);
    if (!from) return;
    const carried = Math.min(limit, from.limit);
    for (let i = 0; i < carried; i++) this.times[limit - carried + i] = from.at(from.limit - carried + i);
  }

  /** Take one request at `now`: passed with what is left, or refused with when to retry (nothing changes). */
  take(now: number): RateState {
    const oldest = this.times[this.next] as number;
    if (oldest > now - this.windowMs) {
      const waitMs = oldest + this.windowMs - now;
      return { limit: this.limit, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    this.times[this.next] = now;
    this.next = (this.next + 1) % this.limit;
    return this.peek(now);
  }

  /** The state without taking a request (a request already counted, admitted a second time). */
  peek(now: number): RateState {
    // The first request (oldest first) still inside the window: every one from it on counts.
    const since = now - this.windowMs;
    let lo = 0;
    let hi = this.limit;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid) > since) hi = mid;
      else lo = mid + 1;
    }
    return { limit: this.limit, remaining: lo };
  }

  /** The times, oldest first (0: a slot not used yet): what storage keeps of the window. */
  snapshot(): Float64Array {
    const out = new Float64Array(this.limit);
    for (let i = 0; i < this.limit; i++) out[i] = this.at(i);
    return out;
  }

  /** A window from its snapshot (its limit is the snapshot's length). */
  static restored(times: Float64Array, windowMs: number): RateWindow {
    const window = new RateWindow(times.length, windowMs);
    window.times.set(times);
    return window;
  }

  /** The i-th time, oldest first. */
  private at(i: number): number {
    return this.times[(this.next + i) % this.limit] as number;
  }
}

/** The bucket under `limit`: as it is, or carried over from the one counted under another limit. */
export function windowUnder(bucket: RateWindow | undefined, limit: number, windowMs: number): RateWindow {
  return bucket?.limit === limit ? bucket : new RateWindow(limit, windowMs, bucket);
}
