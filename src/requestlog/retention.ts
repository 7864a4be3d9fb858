// How long the request log keeps a request (API.md §7.1: the last 30 days), and the cron's cleanup.
import { pruneRequests } from "../db/request-log";

export const REQUEST_LOG_DAYS = 30;
export const REQUEST_LOG_KEPT_MS = REQUEST_LOG_DAYS * 24 * 3600_000;
/** Rows deleted per statement, and statements per cron run: bounded work, the next run continues. */
const PRUNE_ROWS_PER_STATEMENT = 5_000;
const PRUNE_STATEMENTS_MAX = 20;

/** Delete entries older than 30 days; how many went. */
export async function pruneRequestLog(db: D1Database, now: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < PRUNE_STATEMENTS_MAX; i++) {
    const n = await pruneRequests(db, now - REQUEST_LOG_KEPT_MS, PRUNE_ROWS_PER_STATEMENT);
    total += n;
    if (n < PRUNE_ROWS_PER_STATEMENT) break;
  }
  return total;
}
