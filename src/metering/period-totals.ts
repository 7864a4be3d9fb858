// A user's totals per billing period (plan credits used, PAYG spent, the split by kind, the request
// count): the `ledger` table of the Account object's SQLite, with each period read at most once per
// object life and then kept in memory. Every change goes through this class and lands in the table and
// in memory in the same synchronous step, so the hot path (admit, its usage snapshot, the notices
// after a charge) reads totals without a SQLite statement — before, one admission read the same row
// three or four times.
import type { UsageKind } from "./plans";

export interface PeriodTotals {
  period: string;
  planUsedMc: number;
  paygUsedMc: number;
  breakdownMc: Record<UsageKind, number>;
  requests: number;
}

interface LedgerRow extends Record<string, SqlStorageValue> {
  period: string;
  plan_used_mc: number;
  payg_used_mc: number;
  tts_mc: number;
  stt_mc: number;
  llm_mc: number;
  requests: number;
}

/** One charge's (or, negated, one reversal's) effect on its period. */
export interface PeriodChange {
  kind: UsageKind;
  amountMc: number;
  fromPlanMc: number;
  fromPaygMc: number;
  /** +1 for a charge, −1 for its reversal. */
  requests: 1 | -1;
}

export class PeriodTotalsTable {
  /** Periods read (or written) since the object woke: the table's rows, as they are now. */
  private readonly kept = new Map<string, PeriodTotals>();

  static createTables(sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS ledger (period TEXT PRIMARY KEY, plan_used_mc INTEGER NOT NULL DEFAULT 0,
      payg_used_mc INTEGER NOT NULL DEFAULT 0, tts_mc INTEGER NOT NULL DEFAULT 0, stt_mc INTEGER NOT NULL DEFAULT 0,
      llm_mc INTEGER NOT NULL DEFAULT 0, requests INTEGER NOT NULL DEFAULT 0)`);
  }

  constructor(private readonly sql: SqlStorage) {}

  /** The period's totals (a copy: callers may keep it). */
  get(period: string): PeriodTotals {
    const t = this.row(period);
    return { ...t, breakdownMc: { ...t.breakdownMc } };
  }

  /** Add a charge to its period (or take a reversed one back out). */
  apply(period: string, change: PeriodChange) {
    const { kind, amountMc, fromPlanMc, fromPaygMc, requests } = change;
    const t = this.row(period);
    if (requests === 1) {
      this.sql.exec(
        `INSERT INTO ledger (period, plan_used_mc, payg_used_mc, ${kind}_mc, requests) VALUES (?, ?, ?, ?, 1)
         ON CONFLICT(period) DO UPDATE SET plan_used_mc = plan_used_mc + excluded.plan_used_mc,
           payg_used_mc = payg_used_mc + excluded.payg_used_mc, ${kind}_mc = ${kind}_mc + excluded.${kind}_mc,
           requests = requests + 1`,
        period,
        fromPlanMc,
        fromPaygMc,
        amountMc,
      );
    } else {
      this.sql.exec(
        `UPDATE ledger SET plan_used_mc = plan_used_mc - ?, payg_used_mc = payg_used_mc - ?, ${kind}_mc = ${kind}_mc - ?,
           requests = requests - 1 WHERE period = ?`,
        fromPlanMc,
        fromPaygMc,
        amountMc,
        period,
      );
    }
    // After the statement succeeded: memory never runs ahead of the table.
    t.planUsedMc += requests * fromPlanMc;
    t.paygUsedMc += requests * fromPaygMc;
    t.breakdownMc[kind] += requests * amountMc;
    t.requests += requests;
  }

  /** A request that ran but cost nothing still counts as a request. */
  countRequest(period: string) {
    const t = this.row(period);
    this.sql.exec("INSERT INTO ledger (period, requests) VALUES (?, 1) ON CONFLICT(period) DO UPDATE SET requests = requests + 1", period);
    t.requests += 1;
  }

  /** Drop periods before `oldest`. */
  prune(oldest: string) {
    this.sql.exec("DELETE FROM ledger WHERE period < ?", oldest);
    for (const period of this.kept.keys()) if (period < oldest) this.kept.delete(period);
  }

  private row(period: string): PeriodTotals {
    let t = this.kept.get(period);
    if (!t) {
      const r = this.sql.exec<LedgerRow>("SELECT * FROM ledger WHERE period = ?", period).toArray()[0];
      t = {
        period,
        planUsedMc: r?.plan_used_mc ?? 0,
        paygUsedMc: r?.payg_used_mc ?? 0,
        breakdownMc: { tts: r?.tts_mc ?? 0, stt: r?.stt_mc ?? 0, llm: r?.llm_mc ?? 0 },
        requests: r?.requests ?? 0,
      };
      this.kept.set(period, t);
    }
    return t;
  }
}
