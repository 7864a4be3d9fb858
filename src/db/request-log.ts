// The request_log table: what a user's requests did, for GET /v1/requests (newest first, cursor paging),
// written in batches by the request-log Queue's consumer and pruned by the cron after 30 days.
import { and, desc, eq, gte, lt, or } from "drizzle-orm";
import { requestLog } from "../../schema";
import { orm } from "./orm";

export type RequestLogRow = typeof requestLog.$inferSelect;

/** Where a page ends: the last row's time and row id (rows are ordered by both, newest first). */
export interface RequestCursor {
  createdAt: number;
  rowId: string;
}

/** One D1 batch (one transaction); a row already written (a redelivered batch) is skipped. */
export async function insertRequests(d1: D1Database, rows: RequestLogRow[]): Promise<void> {
  const db = orm(d1);
  const [first, ...rest] = rows.map((r) => db.insert(requestLog).values(r).onConflictDoNothing());
  if (first) await db.batch([first, ...rest]);
}

export async function listRequests(
  d1: D1Database,
  userId: string,
  since: number,
  limit: number,
  after?: RequestCursor,
): Promise<RequestLogRow[]> {
  const older = after
    ? or(lt(requestLog.createdAt, after.createdAt), and(eq(requestLog.createdAt, after.createdAt), lt(requestLog.rowId, after.rowId)))
    : undefined;
  return orm(d1)
    .select()
    .from(requestLog)
    .where(and(eq(requestLog.userId, userId), gte(requestLog.createdAt, since), older))
    .orderBy(desc(requestLog.createdAt), desc(requestLog.rowId))
    .limit(limit)
    .all();
}

/** Delete up to `maxRows` rows older than `before` (bounded, so one cron run stays short); how many went. */
export async function pruneRequests(d1: D1Database, before: number, maxRows: number): Promise<number> {
  const res = await d1
    .prepare("DELETE FROM request_log WHERE row_id IN (SELECT row_id FROM request_log WHERE created_at < ? LIMIT ?)")
    .bind(before, maxRows)
    .run();
  return res.meta.changes;
}
