// What each API key spent per billing period, for keys with their own monthly credit limit (API.md
// §7.1). Kept by the credit ledger beside the user's totals, moved by the same calls (reserve, release,
// charge, reverse), so a key's limit is as exact as the user's: what its open reservations hold counts as
// spent until they settle, and the Account object decides with no await in between.
//
// Spend is counted per budget, not per key: a rotated key keeps its predecessor's budget (else rotating
// would reset the month's spend), and a key made by a key with a monthly limit shares its maker's (else
// minting keys would multiply it). A budget is named by the id of the key that began it; a key's budget is
// fixed when the key is made, so it does not matter when a charge asks which budget it lands in.

/** Which budget each key spends from: the Account object's copy of the catalog answers. */
export interface SpendBudgets {
  /** The id of the budget `keyId` counts in: its own id unless it shares another key's. */
  budgetOf(keyId: string): string;
}

/** Before the object knows its catalog (and in tests of the ledger alone): every key has its own budget. */
const OWN_BUDGETS: SpendBudgets = { budgetOf: (keyId) => keyId };

export class KeySpend {
  /**
   * Open reservations' credits per key id (mirrors the ledger's reservations table, so a wake rebuilds it
   * before the catalog is known); grouped by budget when measured.
   */
  private readonly held = new Map<string, number>();
  private budgets = OWN_BUDGETS;

  /** key_spend.key_id is the budget's id (the id of the key that began it; for most keys, their own). */
  static createTables(sql: SqlStorage) {
    sql.exec(
      "CREATE TABLE IF NOT EXISTS key_spend (key_id TEXT NOT NULL, period TEXT NOT NULL, mc INTEGER NOT NULL, PRIMARY KEY (key_id, period))",
    );
  }

  constructor(private readonly sql: SqlStorage) {
    const open = sql.exec<{ key_id: string; s: number }>(
      "SELECT key_id, SUM(amount_mc) AS s FROM reservations WHERE key_id IS NOT NULL GROUP BY key_id",
    );
    for (const r of open) this.held.set(r.key_id, r.s);
  }

  /** Where to learn each key's budget from: set once the object has its copy of the catalog. */
  useBudgets(budgets: SpendBudgets) {
    this.budgets = budgets;
  }

  hold(keyId: string | null | undefined, mc: number) {
    if (keyId) this.held.set(keyId, (this.held.get(keyId) ?? 0) + mc);
  }

  unhold(keyId: string | null | undefined, mc: number) {
    if (!keyId) return;
    const left = (this.held.get(keyId) ?? 0) - mc;
    if (left > 0) this.held.set(keyId, left);
    else this.held.delete(keyId);
  }

  /** Add (or, negative, take back) a key's charge in `period`, to its budget. */
  add(keyId: string | null | undefined, period: string, mc: number) {
    if (!keyId || mc === 0) return;
    this.sql.exec(
      "INSERT INTO key_spend (key_id, period, mc) VALUES (?, ?, ?) ON CONFLICT(key_id, period) DO UPDATE SET mc = mc + excluded.mc",
      this.budgets.budgetOf(keyId),
      period,
      mc,
    );
  }

  /**
   * What the key's budget used in `period` — charged, plus held by the open reservations of every key that
   * spends from it (a key rotated out with a request still running included): what its limit is measured against.
   */
  usedMc(keyId: string, period: string): number {
    const budget = this.budgets.budgetOf(keyId);
    const row = this.sql.exec<{ mc: number }>("SELECT mc FROM key_spend WHERE key_id = ? AND period = ?", budget, period).toArray()[0];
    let heldMc = 0;
    // A handful of entries: the keys with a request in flight.
    for (const [holder, mc] of this.held) if (this.budgets.budgetOf(holder) === budget) heldMc += mc;
    return (row?.mc ?? 0) + heldMc;
  }

  prune(oldestPeriod: string) {
    this.sql.exec("DELETE FROM key_spend WHERE period < ?", oldestPeriod);
  }
}
