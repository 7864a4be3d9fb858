// The drizzle client over D1, one per binding. Each file beside this one holds the queries of one table.
import { drizzle } from "drizzle-orm/d1";

const dbs = new WeakMap<D1Database, ReturnType<typeof drizzle>>();
export function orm(d1: D1Database) {
  let db = dbs.get(d1);
  if (!db) {
    db = drizzle(d1);
    dbs.set(d1, db);
  }
  return db;
}
