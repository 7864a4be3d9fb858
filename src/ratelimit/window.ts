// The API's rate limit (API.md §6: "of N concurrent requests against a limit L, exactly L pass"): a sliding
// window log per bucket — the times of the last `limit` requests it let through, in a ring. A request passes
// when the oldest of them is a whole window old, so no window of that length ever holds more than `limit`
// passed requests, however a burst is spread: a burst that takes two seconds to arrive still gets exactly
// `limit` through. (GCRA, used before, refilled during the burst: one more every 60 s / limit, so 400
// requests against 300 a minute let 308 through, and any minute could hold 2 × limit − 1.) A fixed window
// would let 2 × limit through across its edge. The state is one number per request of the last minute (at
// most `limit`: 8 KB at 1,000 a minute), in the Account object's memory (and its storage a second later:
// src/account/rate-windows.ts); a decision is O(1) amortized.
// The caller (the user's Account object) calls this synchronously, so no two requests of a user interleave.

export interface RateState {
  limit: number;
  remaining: number;
  /** Set when the request is refused: whole seconds until the next one would pass (rounded up). */
  retryAfterSeconds?: number;
}

/** A window's first ring: it grows (doubling, up to `limit`) only as far as requests fill a minute. */
const INITIAL_CAPACITY = 16;

export class RateWindow {
  /**
   * The times of the passed requests still inside the window, oldest first from `start`: a ring of `count`
   * entries that grows with the traffic, never past `limit` (a limit of a million costs what a minute's
   * requests take, not 8 MB).
   */
  private times: Float64Array;
  private start = 0;
  private count = 0;

  /**
   * A bucket allowing `limit` requests per `windowMs`. `from`: the same bucket counted under another limit
   * (the plan or the key's rate changed): its newest requests carry over, so the new limit holds at once.
   */
  constructor(
    readonly limit: number,
    private readonly windowMs: number,
    from?: RateWindow,
  ) {
    // Every request still in the window carries over, also past a lowered limit: lowered then raised again,
    // the window still counts them (keeping only the newest `limit` let a lowering reset it).
    const carried = from?.count ?? 0;
    this.times = new Float64Array(Math.max(Math.min(limit, INITIAL_CAPACITY), carried));
    for (let i = 0; i < carried; i++) this.times[i] = (from as RateWindow).at(i);
    this.count = carried;
  }

  /** Take one request at `now`: passed with what is left, or refused with when to retry (nothing changes). */
  take(now: number): RateState {
    this.forgetBefore(now - this.windowMs);
    if (this.count >= this.limit) {
      // The next passes once all but limit − 1 of the window's requests have left it.
      const waitMs = this.at(this.count - this.limit) + this.windowMs - now;
      return { limit: this.limit, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    if (this.count === this.times.length) this.grow();
    this.times[(this.start + this.count) % this.times.length] = now;
    this.count++;
    return { limit: this.limit, remaining: this.limit - this.count };
  }

  /** The state without taking a request (a request already counted, admitted a second time). */
  peek(now: number): RateState {
    this.forgetBefore(now - this.windowMs);
    return { limit: this.limit, remaining: Math.max(0, this.limit - this.count) };
  }

  /** The times, oldest first: what storage keeps of the window. */
  snapshot(): Float64Array {
    const out = new Float64Array(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.at(i);
    return out;
  }

  /** A window of the times in a snapshot (its limit their number: `windowUnder` carries them all into the real one). */
  static restored(times: Float64Array, windowMs: number): RateWindow {
    const window = new RateWindow(times.length, windowMs);
    window.times = times;
    window.count = times.length;
    return window;
  }

  /** Requests that left the window (at or before `since`) count no more. */
  private forgetBefore(since: number): void {
    while (this.count > 0 && this.at(0) <= since) {
      this.start = (this.start + 1) % this.times.length;
      this.count--;
    }
  }

  /** Only while count < limit: the ring doubles, up to `limit`. */
  private grow(): void {
    const bigger = new Float64Array(Math.min(this.limit, this.times.length * 2));
    for (let i = 0; i < this.count; i++) bigger[i] = this.at(i);
    this.times = bigger;
    this.start = 0;
  }

  /** The i-th time, oldest first. */
  private at(i: number): number {
    return this.times[(this.start + i) % this.times.length] as number;
  }
}

/** The bucket under `limit`: as it is, or carried over from the one counted under another limit. */
export function windowUnder(bucket: RateWindow | undefined, limit: number, windowMs: number): RateWindow {
  return bucket?.limit === limit ? bucket : new RateWindow(limit, windowMs, bucket);
}
