// Idempotency-Key records of one user (API.md §6), over the Account object's SQLite storage. The object
// sees every request of the user in order, so a claim is checked and taken without a race:
// running → 409; done → the stored result (or 409 when none was kept); another body → 422;
// failed (refunded) or abandoned → the retry runs afresh.
import type { IdempotencyClaim, IdempotentResult } from "./contract";

/** Records are kept this long (API.md §6). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

export type ClaimVerdict =
  | { ok: true }
  | { ok: false; error: "idempotency_key_reused" | "idempotency_in_progress" | "idempotency_completed" }
  | { ok: false; error: "idempotency_replay"; replay: IdempotentResult };

interface Row extends Record<string, SqlStorageValue> {
  fingerprint: string;
  state: string;
  result: string | null;
  created_at: number;
}

export class IdempotencyRecords {
  static createTables(sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS idempotency (k TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, state TEXT NOT NULL,
      result TEXT, created_at INTEGER NOT NULL)`);
  }

  constructor(private readonly sql: SqlStorage) {}

  /**
   * What a request with this key may do. `runningForMs`: how long a request can run; a record still
   * "running" after that never settled (its worker died and its reservation was refunded): it counts as failed.
   */
  check(claim: IdempotencyClaim, now: number, runningForMs: number): ClaimVerdict {
    const prior = this.sql.exec<Row>("SELECT fingerprint, state, result, created_at FROM idempotency WHERE k = ?", claim.key).toArray()[0];
    if (!prior || prior.created_at <= now - IDEMPOTENCY_TTL_MS) return { ok: true };
    if (prior.fingerprint !== claim.fingerprint) return { ok: false, error: "idempotency_key_reused" };
    if (prior.state === "running" && prior.created_at > now - runningForMs) return { ok: false, error: "idempotency_in_progress" };
    if (prior.state === "done") {
      return prior.result
        ? { ok: false, error: "idempotency_replay", replay: JSON.parse(prior.result) }
        : { ok: false, error: "idempotency_completed" };
    }
    return { ok: true };
  }

  start(claim: IdempotencyClaim, now: number) {
    this.sql.exec(
      "INSERT OR REPLACE INTO idempotency (k, fingerprint, state, result, created_at) VALUES (?, ?, 'running', NULL, ?)",
      claim.key,
      claim.fingerprint,
      now,
    );
  }

  complete(key: string, result: IdempotentResult | undefined) {
    this.sql.exec("UPDATE idempotency SET state = 'done', result = ? WHERE k = ?", result ? JSON.stringify(result) : null, key);
  }

  fail(key: string) {
    this.sql.exec("UPDATE idempotency SET state = 'failed' WHERE k = ?", key);
  }

  prune(now: number) {
    this.sql.exec("DELETE FROM idempotency WHERE created_at <= ?", now - IDEMPOTENCY_TTL_MS);
  }
}
