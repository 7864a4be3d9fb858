// The rate limiter's windows (src/ratelimit/window.ts), one per API key (or "user" for JWTs and the portal):
// decided in the Account object's memory, written to its SQLite storage a second after they change — never
// on a request's path, where the write would be one more for the output gate to confirm before `admit`
// answers. An object hibernates only after 10 s without a request or event, and not while that write's timer
// is pending, so a wake reads every window back as it was: a burst, a pause and a burst get no more than the
// limit in any minute, evictions included. A window is read from storage once per wake, when first needed.
import { RATE_LIMIT_WINDOW_MS } from "../metering/plans";
import { type RateState, RateWindow, windowUnder } from "../ratelimit/window";

/** How long after a change the windows are written (batched: one write per changed window per second at most). */
const PERSIST_AFTER_MS = 1_000;
/**
 * The most times a stored window keeps (its newest): 800 KB, under SQLite's 2 MB value limit in a Durable
 * Object. A window holds one minute's requests, and one object serves far fewer than this in a minute.
 */
const STORED_MAX = 100_000;

const stored = (times: Float64Array) => (times.length > STORED_MAX ? times.slice(times.length - STORED_MAX) : times);

export class RateWindows {
  private readonly windows = new Map<string, RateWindow>();
  private readonly dirty = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly sql: SqlStorage) {}

  static createTables(sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS rate_windows (rate_key TEXT PRIMARY KEY, times BLOB NOT NULL)");
  }

  /** Take one request from `rateKey`'s window under `limit` (a changed limit holds at once). */
  take(rateKey: string, limit: number, now: number): RateState {
    const state = this.window(rateKey, limit).take(now);
    if (state.retryAfterSeconds === undefined) this.changed(rateKey);
    return state;
  }

  /** The window's state without taking a request (a request already counted, admitted a second time). */
  peek(rateKey: string, limit: number, now: number): RateState {
    return this.window(rateKey, limit).peek(now);
  }

  /** The window as it stands (tests), from storage if this wake has not read it yet. */
  get(rateKey: string): RateWindow | undefined {
    let window = this.windows.get(rateKey);
    if (window) return window;
    const row = this.sql.exec<{ times: ArrayBuffer }>("SELECT times FROM rate_windows WHERE rate_key = ?", rateKey).toArray()[0];
    if (!row || row.times.byteLength === 0 || row.times.byteLength % 8 !== 0) return undefined;
    window = RateWindow.restored(new Float64Array(row.times.slice(0)), RATE_LIMIT_WINDOW_MS);
    this.windows.set(rateKey, window);
    return window;
  }

  /** A revoked key's window goes (its requests can no longer come). */
  forget(rateKey: string): void {
    this.windows.delete(rateKey);
    this.dirty.delete(rateKey);
    this.sql.exec("DELETE FROM rate_windows WHERE rate_key = ?", rateKey);
  }

  /** A rotated key's window becomes its successor's: a rotation starts no fresh minute. */
  move(from: string, to: string): void {
    const window = this.get(from);
    this.forget(from);
    if (!window) return;
    this.windows.set(to, window);
    this.changed(to);
  }

  /** Write the changed windows now (the timer's work); one that cannot be written does not stop the others. */
  persist(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const dirty = [...this.dirty];
    this.dirty.clear();
    for (const rateKey of dirty) {
      const window = this.windows.get(rateKey);
      if (!window) continue;
      try {
        this.sql.exec("INSERT OR REPLACE INTO rate_windows (rate_key, times) VALUES (?, ?)", rateKey, stored(window.snapshot()).buffer);
      } catch (e) {
        console.error(`rate-limit window ${rateKey} not stored: ${String(e)}`);
      }
    }
  }

  private window(rateKey: string, limit: number): RateWindow {
    const current = this.get(rateKey);
    const window = windowUnder(current, limit, RATE_LIMIT_WINDOW_MS);
    if (window !== current) this.windows.set(rateKey, window);
    return window;
  }

  private changed(rateKey: string): void {
    this.dirty.add(rateKey);
    this.timer ??= setTimeout(() => this.persist(), PERSIST_AFTER_MS);
  }
}
