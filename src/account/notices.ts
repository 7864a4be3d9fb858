// The usage notices the Account object decides (API.md §7.1), in the same synchronous step as the charge
// that crossed them, so each fires exactly once however many charges run at once:
// - usage.threshold: 50 %, 80 % and 100 % of the month's plan credits, each once per billing period;
// - credits.low: the PAYG balance fell below 10 % of the last top-up, once per top-up.
// Both go to the outbox; the worker never waits for them.
import type { ChargeReceipt } from "../metering/contract";
import { toCredits } from "../metering/plans";
import { newEvent } from "./events";
import type { Outbox } from "./outbox";

export const USAGE_THRESHOLDS_PERCENT = [50, 80, 100] as const;
/** credits.low fires when the balance is below this share of the last top-up. */
export const CREDITS_LOW_PERCENT = 10;

export class Notices {
  /** Notices already claimed, and this object's notice settings, as read or written since it woke. */
  private readonly claimed = new Set<string>();
  private readonly settings = new Map<string, string | undefined>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly outbox: Outbox,
  ) {}

  static createTables(sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS notices (k TEXT PRIMARY KEY, at INTEGER NOT NULL)");
  }

  /** After a charge landed: `planUsedMc` is its period's plan credits used, `paygMc` the balance now. */
  afterCharge(userId: string | undefined, charge: ChargeReceipt, planUsedMc: number, limitMc: number, paygMc: number, now: number) {
    if (!userId) return;
    if (charge.fromPlanMc > 0 && limitMc > 0) {
      for (const threshold of USAGE_THRESHOLDS_PERCENT) {
        if (planUsedMc * 100 < threshold * limitMc) break;
        if (!this.claim(`usage.threshold:${charge.period}:${threshold}`, now)) continue;
        const data = { threshold, period: charge.period, used: toCredits(planUsedMc), limit: toCredits(limitMc) };
        this.outbox.add({ kind: "event", userId, event: newEvent("usage.threshold", data, now) }, now);
      }
    }
    const lastTopUpMc = Number(this.meta("last_top_up_mc") ?? 0);
    if (charge.fromPaygMc > 0 && lastTopUpMc > 0 && paygMc * 100 < lastTopUpMc * CREDITS_LOW_PERCENT) {
      if (this.claim(`credits.low:${this.meta("top_up_seq") ?? "0"}`, now)) {
        const data = { balance: toCredits(paygMc), lastTopUp: toCredits(lastTopUpMc), thresholdPercent: CREDITS_LOW_PERCENT };
        this.outbox.add({ kind: "event", userId, event: newEvent("credits.low", data, now) }, now);
      }
    }
  }

  /** A top-up (or an operator setting the balance) re-arms credits.low against its amount. */
  toppedUp(amountMc: number) {
    if (amountMc <= 0) return;
    this.setMeta("last_top_up_mc", String(amountMc));
    this.setMeta("top_up_seq", String(Number(this.meta("top_up_seq") ?? 0) + 1));
  }

  /** True the first time `k` is claimed (then never again). Once claimed, later charges ask no SQLite. */
  private claim(k: string, now: number): boolean {
    if (this.claimed.has(k)) return false;
    const first = this.sql.exec("INSERT OR IGNORE INTO notices (k, at) VALUES (?, ?)", k, now).rowsWritten > 0;
    this.claimed.add(k);
    return first;
  }

  /** A notice setting: read once per object life, then from memory (every change goes through setMeta). */
  private meta(k: string): string | undefined {
    if (!this.settings.has(k)) {
      this.settings.set(k, this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = ?", `notices:${k}`).toArray()[0]?.v);
    }
    return this.settings.get(k);
  }

  private setMeta(k: string, v: string) {
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", `notices:${k}`, v);
    this.settings.set(k, v);
  }
}
