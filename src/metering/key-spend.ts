// What each API key spent per billing period, for keys with their own monthly credit limit (API.md
// §7.1). Kept by the credit ledger beside the user's totals, moved by the same calls (reserve, release,
// charge, reverse), so a key's limit is as exact as the user's: what its open reservations hold counts as
// spent until they settle, and the Account object decides with no await in between.

export class KeySpend {
  /** Open reservations' credits per key id (mirrors the ledger's reservations table). */
  private readonly held = new Map<string, number>();

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

  hold(keyId: string | null | undefined, mc: number) {
    if (keyId) this.held.set(keyId, (this.held.get(keyId) ?? 0) + mc);
  }

  unhold(keyId: string | null | undefined, mc: number) {
    if (!keyId) return;
    const left = (this.held.get(keyId) ?? 0) - mc;
    if (left > 0) this.held.set(keyId, left);
    else this.held.delete(keyId);
  }

  /** Add (or, negative, take back) a charge in `period`. */
  add(keyId: string | null | undefined, period: string, mc: number) {
    if (!keyId || mc === 0) return;
    this.sql.exec(
      "INSERT INTO key_spend (key_id, period, mc) VALUES (?, ?, ?) ON CONFLICT(key_id, period) DO UPDATE SET mc = mc + excluded.mc",
      keyId,
      period,
      mc,
    );
  }

  /** Charged in `period` plus held by open reservations: what the key's limit is measured against. */
  usedMc(keyId: string, period: string): number {
    const row = this.sql.exec<{ mc: number }>("SELECT mc FROM key_spend WHERE key_id = ? AND period = ?", keyId, period).toArray()[0];
    return (row?.mc ?? 0) + (this.held.get(keyId) ?? 0);
  }

  prune(oldestPeriod: string) {
    this.sql.exec("DELETE FROM key_spend WHERE period < ?", oldestPeriod);
  }
}
