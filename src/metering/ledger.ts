// The credit ledger of one user, over the Account object's SQLite storage: plan credits used and PAYG
// spent per billing period, the per-day series, the PAYG balance (negative when the user is in debt),
// open reservations, and the charges that can still be reversed. Every method is synchronous — the
// object calls them with no await in between, so nothing interleaves and the limits are exact.
import type { ChargeReceipt } from "./contract";
import { KeySpend } from "./key-spend";
import { type PeriodTotals, PeriodTotalsTable } from "./period-totals";
import { billingDay, billingPeriod, type UsageKind } from "./plans";

/** Ledger periods older than this many months are dropped. */
const LEDGER_MONTHS_KEPT = 13;
/** A charge can be reversed (a failed request's refund, a late settlement) for this long. */
const REVERSIBLE_FOR_MS = 24 * 60 * 60_000;

export interface Reservation {
  id: string;
  kind: UsageKind;
  amountMc: number;
  createdAt: number;
  /** The Idempotency-Key of the request that holds it, if any. */
  idempotencyKey: string | null;
  /** The API key that made the request, if any (its own monthly limit counts it). */
  keyId: string | null;
}

/** Told of every charge once it landed (the Account object's usage notices). */
export type OnCharge = (receipt: ChargeReceipt, limitMc: number) => void;

interface ReservationRow extends Record<string, SqlStorageValue> {
  id: string;
  kind: UsageKind;
  amount_mc: number;
  created_at: number;
  idempotency_key: string | null;
  key_id: string | null;
}

interface ChargeRow extends Record<string, SqlStorageValue> {
  key_id: string | null;
  id: string;
  kind: string;
  period: string;
  day: string;
  amount_mc: number;
  from_plan_mc: number;
  from_payg_mc: number;
  created_at: number;
}

export class CreditLedger {
  /** Credits held by open reservations: they count as spent until settled. */
  reservedMc = 0;
  /** The PAYG balance (negative: debt); NaN until seeded from the catalog on the object's first load. */
  paygMc: number;
  /** Per API key spend, for keys with a monthly credit limit. */
  readonly keys: KeySpend;
  /** Totals per billing period (the `ledger` table, kept in memory once read). */
  private readonly periods: PeriodTotalsTable;
  /**
   * The open reservations, read once when the object wakes and kept in step with their table (this object
   * is its only writer): closing one is a single DELETE, and closing one already closed touches no SQL.
   */
  private readonly open = new Map<string, Reservation>();

  /** The ledger's tables, and the columns added since (run when the object's schema changed: schema.ts). */
  static createTables(sql: SqlStorage) {
    sql.exec(`
        CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS daily (day TEXT NOT NULL, kind TEXT NOT NULL, mc INTEGER NOT NULL, PRIMARY KEY (day, kind));
        CREATE TABLE IF NOT EXISTS reservations (id TEXT PRIMARY KEY, kind TEXT NOT NULL, amount_mc INTEGER NOT NULL,
          created_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS charges (id TEXT PRIMARY KEY, kind TEXT NOT NULL, period TEXT NOT NULL, day TEXT NOT NULL,
          amount_mc INTEGER NOT NULL, from_plan_mc INTEGER NOT NULL, from_payg_mc INTEGER NOT NULL, created_at INTEGER NOT NULL);
      `);
    PeriodTotalsTable.createTables(sql);
    // Objects created before reservations remembered their request's Idempotency-Key.
    const columns = sql.exec<{ name: string }>("PRAGMA table_info(reservations)").toArray();
    if (!columns.some((c) => c.name === "idempotency_key")) sql.exec("ALTER TABLE reservations ADD COLUMN idempotency_key TEXT");
    // …and before they remembered the API key (scoped keys' monthly limits).
    if (!columns.some((c) => c.name === "key_id")) sql.exec("ALTER TABLE reservations ADD COLUMN key_id TEXT");
    const chargeColumns = sql.exec<{ name: string }>("PRAGMA table_info(charges)").toArray();
    if (!chargeColumns.some((c) => c.name === "key_id")) sql.exec("ALTER TABLE charges ADD COLUMN key_id TEXT");
  }

  constructor(
    private readonly sql: SqlStorage,
    private readonly onCharge?: OnCharge,
  ) {
    this.keys = new KeySpend(sql);
    this.periods = new PeriodTotalsTable(sql);
    const rows = sql.exec<ReservationRow>("SELECT id, kind, amount_mc, created_at, idempotency_key, key_id FROM reservations");
    for (const row of rows) {
      this.open.set(row.id, {
        id: row.id,
        kind: row.kind,
        amountMc: row.amount_mc,
        createdAt: row.created_at,
        idempotencyKey: row.idempotency_key,
        keyId: row.key_id,
      });
      this.reservedMc += row.amount_mc;
    }
    const payg = sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'payg_mc'").toArray()[0];
    this.paygMc = payg ? Number(payg.v) : Number.NaN;
  }

  // ---- the balance ------------------------------------------------------------------------------

  get paygSeeded(): boolean {
    return !Number.isNaN(this.paygMc);
  }

  /** A usage charge exceeded every credit left: the user pays it off before spending again. */
  get inDebt(): boolean {
    return this.paygMc < 0;
  }

  setPayg(mc: number) {
    this.paygMc = mc;
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('payg_mc', ?)", String(mc));
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('payg_dirty', '1')");
  }

  /** Add to the balance (a top-up pays off debt first). */
  addPayg(deltaMc: number) {
    this.setPayg(this.paygMc + deltaMc);
  }

  /** The balance changed here and the catalog (D1) has not been told yet. */
  get paygDirty(): boolean {
    return this.sql.exec("SELECT v FROM meta WHERE k = 'payg_dirty'").toArray().length > 0;
  }

  markPaygMirrored(mirroredMc: number) {
    // A change that landed while the mirror was being written keeps the flag for the next one.
    if (mirroredMc === this.paygMc) this.sql.exec("DELETE FROM meta WHERE k = 'payg_dirty'");
  }

  // ---- reservations -----------------------------------------------------------------------------

  reserve(kind: UsageKind, amountMc: number, now: number, idempotencyKey?: string, keyId?: string): string {
    const id = crypto.randomUUID();
    this.sql.exec(
      "INSERT INTO reservations (id, kind, amount_mc, created_at, idempotency_key, key_id) VALUES (?, ?, ?, ?, ?, ?)",
      id,
      kind,
      amountMc,
      now,
      idempotencyKey ?? null,
      keyId ?? null,
    );
    this.open.set(id, { id, kind, amountMc, createdAt: now, idempotencyKey: idempotencyKey ?? null, keyId: keyId ?? null });
    this.reservedMc += amountMc;
    this.keys.hold(keyId, amountMc);
    return id;
  }

  /** Close a reservation (settled or expired); undefined when it was already closed. */
  release(id: string): Reservation | undefined {
    const reservation = this.open.get(id);
    if (!reservation) return undefined;
    this.sql.exec("DELETE FROM reservations WHERE id = ?", id);
    this.open.delete(id);
    this.reservedMc -= reservation.amountMc;
    this.keys.unhold(reservation.keyId, reservation.amountMc);
    return reservation;
  }

  /** Reservations opened at or before `createdBefore` (their requests never settled them). */
  stale(createdBefore: number): string[] {
    return [...this.open.values()].filter((r) => r.createdAt <= createdBefore).map((r) => r.id);
  }

  oldestReservationAt(): number | null {
    let oldest: number | null = null;
    for (const r of this.open.values()) if (oldest === null || r.createdAt < oldest) oldest = r.createdAt;
    return oldest;
  }

  // ---- charges ----------------------------------------------------------------------------------

  /**
   * Charge in the period of `at` (a request is billed in the month it was made in): plan credits first
   * (up to `limitMc` for the period), then PAYG — past zero, as debt, should a provider have reported
   * more than was reserved. With `id`, the charge stays reversible for a day (`reverse(id)`). With
   * `keyId`, it also counts against that API key's own monthly limit.
   */
  charge(kind: UsageKind, amountMc: number, limitMc: number, at: number, id?: string, keyId?: string | null): ChargeReceipt {
    const period = billingPeriod(at);
    const day = billingDay(at);
    const planLeft = Math.max(0, limitMc - this.periods.get(period).planUsedMc);
    const fromPlan = Math.min(amountMc, planLeft);
    const fromPayg = amountMc - fromPlan;
    if (fromPayg > 0) this.addPayg(-fromPayg);
    this.periods.apply(period, { kind, amountMc, fromPlanMc: fromPlan, fromPaygMc: fromPayg, requests: 1 });
    this.sql.exec(
      "INSERT INTO daily (day, kind, mc) VALUES (?, ?, ?) ON CONFLICT(day, kind) DO UPDATE SET mc = mc + excluded.mc",
      day,
      kind,
      amountMc,
    );
    const receipt: ChargeReceipt = {
      id: id ?? crypto.randomUUID(),
      kind,
      period,
      day,
      amountMc,
      fromPlanMc: fromPlan,
      fromPaygMc: fromPayg,
    };
    this.keys.add(keyId, period, amountMc);
    if (id) {
      this.sql.exec(
        "INSERT OR REPLACE INTO charges (id, kind, period, day, amount_mc, from_plan_mc, from_payg_mc, created_at, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        id,
        kind,
        period,
        day,
        amountMc,
        fromPlan,
        fromPayg,
        at,
        keyId ?? null,
      );
    }
    this.onCharge?.(receipt, limitMc);
    return receipt;
  }

  /**
   * Reverse a reversible charge exactly — what it took, from where, in its period — once: a second
   * reversal (a retried refund) finds nothing and returns undefined.
   */
  reverse(id: string): (ChargeReceipt & { at: number; keyId: string | null }) | undefined {
    const row = this.sql.exec<ChargeRow>("DELETE FROM charges WHERE id = ? RETURNING *", id).toArray()[0];
    if (!row) return undefined;
    const k = row.kind as UsageKind;
    this.periods.apply(row.period, {
      kind: k,
      amountMc: row.amount_mc,
      fromPlanMc: row.from_plan_mc,
      fromPaygMc: row.from_payg_mc,
      requests: -1,
    });
    this.sql.exec("UPDATE daily SET mc = mc - ? WHERE day = ? AND kind = ?", row.amount_mc, row.day, k);
    if (row.from_payg_mc > 0) this.addPayg(row.from_payg_mc);
    this.keys.add(row.key_id, row.period, -row.amount_mc);
    return {
      id,
      kind: k,
      period: row.period,
      day: row.day,
      amountMc: row.amount_mc,
      fromPlanMc: row.from_plan_mc,
      fromPaygMc: row.from_payg_mc,
      at: row.created_at,
      keyId: row.key_id,
    };
  }

  /** A request that ran but cost nothing still counts as a request. */
  countRequest(at: number) {
    this.periods.countRequest(billingPeriod(at));
  }

  // ---- reads ------------------------------------------------------------------------------------

  totals(period: string): PeriodTotals {
    return this.periods.get(period);
  }

  daily(period: string): { day: string; kind: UsageKind; mc: number }[] {
    return this.sql
      .exec<{ day: string; kind: UsageKind; mc: number }>("SELECT day, kind, mc FROM daily WHERE day LIKE ? ORDER BY day", `${period}-%`)
      .toArray();
  }

  /** Drop periods and days older than LEDGER_MONTHS_KEPT months, and charges no longer reversible. */
  prune(now: number) {
    const oldest = new Date(now);
    oldest.setUTCMonth(oldest.getUTCMonth() - LEDGER_MONTHS_KEPT);
    this.periods.prune(billingPeriod(oldest.getTime()));
    this.keys.prune(billingPeriod(oldest.getTime()));
    this.sql.exec("DELETE FROM daily WHERE day < ?", billingDay(oldest.getTime()));
    this.sql.exec("DELETE FROM charges WHERE created_at <= ?", now - REVERSIBLE_FOR_MS);
  }
}
