// The request_log table: what a user's requests did, for GET /v1/requests (newest first, cursor paging),
// written in batches by the request-log Queue's consumer and pruned by the cron after 30 days.
import { and, desc, eq, getTableColumns, gte, lt, or } from "drizzle-orm";
import { requestLog } from "../../schema";
import { orm } from "./orm";

export type RequestLogRow = typeof requestLog.$inferSelect;

/** Where a page ends: the last row's time and row id (rows are ordered by both, newest first). */
export interface RequestCursor {
  createdAt: number;
  rowId: string;
}

// The consumer's insert, written once as SQL rather than built per row by drizzle: several rows per
// statement (D1 binds at most 100 parameters to one), one D1 batch (one transaction) for the Queue batch.
const COLUMNS = Object.entries(getTableColumns(requestLog)) as [keyof RequestLogRow, { name: string }][];
const ROWS_PER_STATEMENT = Math.floor(100 / COLUMNS.length);
const insertSql = (n: number) =>
  `INSERT INTO request_log (${COLUMNS.map(([, c]) => c.name).join(", ")}) VALUES ${Array(n)
    .fill(`(${COLUMNS.map(() => "?").join(", ")})`)
    .join(", ")} ON CONFLICT DO NOTHING`;
const FULL_INSERT = insertSql(ROWS_PER_STATEMENT);

/** One D1 batch (one transaction); a row already written (a redelivered batch) is skipped. */
export async function insertRequests(d1: D1Database, rows: RequestLogRow[]): Promise<void> {
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    const values = chunk.flatMap((row) => COLUMNS.map(([key]) => row[key] ?? null));
    statements.push(d1.prepare(chunk.length === ROWS_PER_STATEMENT ? FULL_INSERT : insertSql(chunk.length)).bind(...values));
  }
  if (statements.length) await d1.batch(statements);
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
