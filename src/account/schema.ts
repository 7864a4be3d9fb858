// The Account object's SQLite tables, created or brought up to date once per schema change rather than on
// every wake: a woken object reads one meta row, and only when this code's schema differs from the one its
// storage was last set up with (a first wake, a deploy that changed a table) does it run the DDL — every
// statement of which is idempotent (IF NOT EXISTS, columns added only when missing).
import { IdempotencyRecords } from "../metering/idempotency-records";
import { KeySpend } from "../metering/key-spend";
import { CreditLedger } from "../metering/ledger";
import { Notices } from "./notices";
import { Outbox } from "./outbox";
import { RateWindows } from "./rate-windows";
import { RealtimeSessions } from "./sessions";

const CREATORS = [
  CreditLedger.createTables,
  KeySpend.createTables,
  IdempotencyRecords.createTables,
  Outbox.createTables,
  Notices.createTables,
  RealtimeSessions.createTables,
  RateWindows.createTables,
];

/** Names this code's schema: changes whenever any of the DDL above changes. */
const SCHEMA_ID = fingerprint(CREATORS.map((f) => f.toString()).join("\n"));

export function ensureSchema(sql: SqlStorage): void {
  let current: string | undefined;
  try {
    current = sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'schema'").toArray()[0]?.v;
  } catch {
    current = undefined; // a new object: not even the meta table yet
  }
  if (current === SCHEMA_ID) return;
  for (const create of CREATORS) create(sql);
  sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('schema', ?)", SCHEMA_ID);
}

/** FNV-1a, 32 bits, as hex: enough to tell one version of the DDL from another. */
function fingerprint(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}
