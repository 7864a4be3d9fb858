// Rate limits for the portal's sign-in routes, kept in D1 so every isolate and location counts against
// the same numbers (Better Auth's default keeps them in one isolate's memory: useless on Workers).
// A fixed window per key, checked and counted in one atomic upsert: of N concurrent requests against
// a limit L, exactly L pass. Used as Better Auth's rate-limit storage (keys: client IP + route), for the
// per-phone-number limits on sends and on wrong codes, and for the global cap on sends per hour.
export interface RateLimitRule {
  /** Window length in seconds (Better Auth's unit). */
  window: number;
  max: number;
}

export interface RateLimitVerdict {
  allowed: boolean;
  /** Whole seconds until the window lets the next request through (when not allowed). */
  retryAfter: number | null;
}

/** Counters idle for this long are deleted now and then: longer than the longest window in use (a day). */
const STALE_COUNTER_MS = 25 * 3600_000;
/** About one check in this many also prunes stale counters (in the background). */
const PRUNE_EVERY_N_CHECKS = 200;

/** Count one request against `key`; it is allowed while the window's count stays within `rule.max`. */
export async function consume(
  d1: D1Database,
  key: string,
  rule: RateLimitRule,
  background?: (p: Promise<unknown>) => void,
): Promise<RateLimitVerdict> {
  const now = Date.now();
  const windowMs = rule.window * 1000;
  // SQLite evaluates every SET expression against the row as it was: the CASEs agree on "expired".
  const row = await d1
    .prepare(
      `INSERT INTO auth_rate_limit (key, count, window_start) VALUES (?1, 1, ?2)
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN ?2 - window_start >= ?3 THEN 1 ELSE count + 1 END,
         window_start = CASE WHEN ?2 - window_start >= ?3 THEN ?2 ELSE window_start END
       RETURNING count, window_start`,
    )
    .bind(key, now, windowMs)
    .first<{ count: number; window_start: number }>();
  if (background && Math.random() * PRUNE_EVERY_N_CHECKS < 1) {
    background(
      d1
        .prepare("DELETE FROM auth_rate_limit WHERE window_start < ?")
        .bind(now - STALE_COUNTER_MS)
        .run()
        .catch(() => {}),
    );
  }
  if (!row || row.count <= rule.max) return { allowed: true, retryAfter: null };
  return { allowed: false, retryAfter: Math.max(1, Math.ceil((row.window_start + windowMs - now) / 1000)) };
}

/** Give back one request counted against `key` (one that turned out not to count, e.g. a right code). */
export async function refund(d1: D1Database, key: string): Promise<void> {
  await d1.prepare("UPDATE auth_rate_limit SET count = count - 1 WHERE key = ? AND count > 0").bind(key).run();
}

/** Better Auth's rate-limit storage (its `rateLimit.customStorage`), backed by the same counters. */
export function d1RateLimitStorage(d1: D1Database, background?: (p: Promise<unknown>) => void) {
  return { consume: (key: string, rule: RateLimitRule) => consume(d1, `ip:${key}`, rule, background) };
}
