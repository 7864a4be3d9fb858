// The credit ledger of one user, over the Account object's SQLite storage: plan credits used and PAYG
// spent per billing period, the per-day series, open reservations, and the PAYG balance. Every method
// is synchronous — the object calls them with no await in between, so nothing interleaves and the
// limits are exact.
import type { ChargeReceipt } from "./contract";
import { billingDay, billingPeriod, type UsageKind } from "./plans";

/** Ledger periods older than this many months are dropped. */
const LEDGER_MONTHS_KEPT = 13;

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

export class CreditLedger {
  /** Credits held by open reservations: they count as spent until settled. */
  reservedMc = 0;
  /** The PAYG balance; NaN until seeded from the catalog on the object's first load. */
  paygMc: number;

  constructor(private readonly sql: SqlStorage) {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS ledger (period TEXT PRIMARY KEY, plan_used_mc INTEGER NOT NULL DEFAULT 0,
        payg_used_mc INTEGER NOT NULL DEFAULT 0, tts_mc INTEGER NOT NULL DEFAULT 0, stt_mc INTEGER NOT NULL DEFAULT 0,
        llm_mc INTEGER NOT NULL DEFAULT 0, requests INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS daily (day TEXT NOT NULL, kind TEXT NOT NULL, mc INTEGER NOT NULL, PRIMARY KEY (day, kind));
      CREATE TABLE IF NOT EXISTS reservations (id TEXT PRIMARY KEY, kind TEXT NOT NULL, amount_mc INTEGER NOT NULL,
        created_at INTEGER NOT NULL);
    `);
    this.reservedMc = Number(sql.exec("SELECT COALESCE(SUM(amount_mc),0) AS s FROM reservations").one().s);
    const payg = sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'payg_mc'").toArray()[0];
    this.paygMc = payg ? Number(payg.v) : Number.NaN;
  }

  // ---- the balance ------------------------------------------------------------------------------

  get paygSeeded(): boolean {
    return !Number.isNaN(this.paygMc);
  }

  setPayg(mc: number) {
    this.paygMc = mc;
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('payg_mc', ?)", String(mc));
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('payg_dirty', '1')");
  }

  /** The balance changed here and the catalog (D1) has not been told yet. */
  get paygDirty(): boolean {
    return this.sql.exec("SELECT v FROM meta WHERE k = 'payg_dirty'").toArray().length > 0;
  }

  markPaygMirrored() {
    this.sql.exec("DELETE FROM meta WHERE k = 'payg_dirty'");
  }

  // ---- reservations -----------------------------------------------------------------------------

  reserve(kind: UsageKind, amountMc: number, now: number): string {
    const id = crypto.randomUUID();
    this.sql.exec("INSERT INTO reservations (id, kind, amount_mc, created_at) VALUES (?, ?, ?, ?)", id, kind, amountMc, now);
    this.reservedMc += amountMc;
    return id;
  }

  /** Close a reservation (settled or expired); undefined when it was already closed. */
  release(id: string): number | undefined {
    const row = this.sql.exec<{ amount_mc: number }>("DELETE FROM reservations WHERE id = ? RETURNING amount_mc", id).toArray()[0];
    if (row) this.reservedMc -= row.amount_mc;
    return row?.amount_mc;
  }

  /** Close every reservation opened at or before `createdBefore` (their requests died unsettled). */
  expireReservations(createdBefore: number): number {
    const rows = this.sql
      .exec<{ amount_mc: number }>("DELETE FROM reservations WHERE created_at <= ? RETURNING amount_mc", createdBefore)
      .toArray();
    for (const r of rows) this.reservedMc -= r.amount_mc;
    return rows.length;
  }

  oldestReservationAt(): number | null {
    return this.sql.exec<{ t: number | null }>("SELECT MIN(created_at) AS t FROM reservations").one().t;
  }

  // ---- charges ----------------------------------------------------------------------------------

  /** Charge plan credits first (up to `limitMc` for the period), then PAYG. */
  charge(kind: UsageKind, amountMc: number, limitMc: number, now: number): ChargeReceipt {
    const period = billingPeriod(now);
    const day = billingDay(now);
    const totals = this.totals(period);
    const planLeft = Math.max(0, limitMc - totals.planUsedMc);
    let fromPlan = Math.min(amountMc, planLeft);
    let fromPayg = amountMc - fromPlan;
    if (fromPayg > this.paygMc) {
      // Only an underestimated reservation can get here; the excess is recorded, never dropped.
      const excess = fromPayg - Math.max(0, this.paygMc);
      fromPayg -= excess;
      fromPlan += excess;
    }
    if (fromPayg > 0) this.setPayg(this.paygMc - fromPayg);
    this.sql.exec(
      `INSERT INTO ledger (period, plan_used_mc, payg_used_mc, ${kind}_mc, requests) VALUES (?, ?, ?, ?, 1)
       ON CONFLICT(period) DO UPDATE SET plan_used_mc = plan_used_mc + excluded.plan_used_mc,
         payg_used_mc = payg_used_mc + excluded.payg_used_mc, ${kind}_mc = ${kind}_mc + excluded.${kind}_mc,
         requests = requests + 1`,
      period,
      fromPlan,
      fromPayg,
      amountMc,
    );
    this.sql.exec(
      "INSERT INTO daily (day, kind, mc) VALUES (?, ?, ?) ON CONFLICT(day, kind) DO UPDATE SET mc = mc + excluded.mc",
      day,
      kind,
      amountMc,
    );
    return { kind, period, day, amountMc, fromPlanMc: fromPlan, fromPaygMc: fromPayg };
  }

  /** Reverse a charge exactly: what it took, from where it took it, in the period it was made in. */
  refund(receipt: ChargeReceipt) {
    const k = receipt.kind;
    this.sql.exec(
      `UPDATE ledger SET plan_used_mc = plan_used_mc - ?, payg_used_mc = payg_used_mc - ?, ${k}_mc = ${k}_mc - ?,
         requests = requests - 1 WHERE period = ?`,
      receipt.fromPlanMc,
      receipt.fromPaygMc,
      receipt.amountMc,
      receipt.period,
    );
    this.sql.exec("UPDATE daily SET mc = mc - ? WHERE day = ? AND kind = ?", receipt.amountMc, receipt.day, k);
    if (receipt.fromPaygMc > 0) this.setPayg(this.paygMc + receipt.fromPaygMc);
  }

  /** A request that ran but cost nothing still counts as a request. */
  countRequest(now: number) {
    this.sql.exec(
      "INSERT INTO ledger (period, requests) VALUES (?, 1) ON CONFLICT(period) DO UPDATE SET requests = requests + 1",
      billingPeriod(now),
    );
  }

  // ---- reads ------------------------------------------------------------------------------------

  totals(period: string): PeriodTotals {
    const row = this.sql.exec<LedgerRow>("SELECT * FROM ledger WHERE period = ?", period).toArray()[0];
    return {
      period,
      planUsedMc: row?.plan_used_mc ?? 0,
      paygUsedMc: row?.payg_used_mc ?? 0,
      breakdownMc: { tts: row?.tts_mc ?? 0, stt: row?.stt_mc ?? 0, llm: row?.llm_mc ?? 0 },
      requests: row?.requests ?? 0,
    };
  }

  daily(period: string): { day: string; kind: UsageKind; mc: number }[] {
    return this.sql
      .exec<{ day: string; kind: UsageKind; mc: number }>("SELECT day, kind, mc FROM daily WHERE day LIKE ? ORDER BY day", `${period}-%`)
      .toArray();
  }

  /** Drop periods and days older than LEDGER_MONTHS_KEPT months. */
  prune(now: number) {
    const oldest = new Date(now);
    oldest.setUTCMonth(oldest.getUTCMonth() - LEDGER_MONTHS_KEPT);
    this.sql.exec("DELETE FROM ledger WHERE period < ?", billingPeriod(oldest.getTime()));
    this.sql.exec("DELETE FROM daily WHERE day < ?", billingDay(oldest.getTime()));
  }
}
