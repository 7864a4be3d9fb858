// The Account Durable Object's parts, and the steps its RPC methods (account.ts) are made of: the
// write-through copy of the catalog (catalog-copy.ts, kept in the object's storage), the credit ledger and
// idempotency records (src/metering/), the rate limiter's buckets (src/ratelimit/window.ts, in memory), the
// usage notices and their outbox, realtime sessions, and the alarm's timing.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import type { AdmitRefusal, AdmitResult, KeySource, Meter, RateState, UsageSnapshot } from "../metering/contract";
import { IdempotencyRecords } from "../metering/idempotency-records";
import { CreditLedger } from "../metering/ledger";
import { billingPeriod, effectivePlan } from "../metering/plans";
import { pricesFor } from "../metering/price-config";
import { planLimitMc } from "../metering/prices";
import type * as changes from "./catalog-changes";
import { CatalogCopy } from "./catalog-copy";
import { MIRROR_DELAY_MS, RESERVATION_TTL_MS } from "./mirror";
import { Notices } from "./notices";
import { Outbox } from "./outbox";
import { RateWindows } from "./rate-windows";
import { ensureSchema } from "./schema";
import { type AccountHost, RealtimeSessions } from "./sessions";

export abstract class AccountParts extends DurableObject<Env> {
  protected readonly sql: SqlStorage;
  protected readonly ledger: CreditLedger;
  protected readonly idempotency: IdempotencyRecords;
  protected readonly outbox: Outbox;
  protected readonly notices: Notices;
  protected readonly sessions: RealtimeSessions;
  /** Rate-limit windows (the last `limit` passed requests' times) by API key id, or "user". */
  protected readonly rates: RateWindows;
  protected userId?: string;
  /** When the alarm is set for, as far as this object knows (undefined: not read yet; null: none). */
  protected alarmAt?: number | null;
  protected copy?: Promise<CatalogCopy>;
  protected d1Queries = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ensureSchema(this.sql);
    this.outbox = new Outbox(this.sql, () => env.WEBHOOK_QUEUE);
    this.notices = new Notices(this.sql, this.outbox);
    this.ledger = new CreditLedger(this.sql, (charge, limitMc) => {
      const planUsedMc = this.ledger.totals(charge.period).planUsedMc;
      this.notices.afterCharge(this.userId, charge, planUsedMc, limitMc, this.ledger.paygMc, Date.now());
      if (this.outbox.pending) this.flushOutbox(); // in the background: the caller does not wait for it
    });
    this.idempotency = new IdempotencyRecords(this.sql);
    this.sessions = new RealtimeSessions(this.sql);
    this.rates = new RateWindows(this.sql);
    this.userId = this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'user_id'").toArray()[0]?.v;
  }

  /** Send the outbox in the background; a failed send is retried by the alarm. */
  protected flushOutbox() {
    void this.outbox.flush().then((sent) => {
      if (!sent) this.scheduleAlarm(Date.now() + OUTBOX_RETRY_MS);
    });
  }

  // ---- the steps --------------------------------------------------------------------------------

  /** The write-through copy of the catalog: from this object's storage, or from D1 the first time. */
  protected catalog(userId: string): Promise<CatalogCopy> {
    if (this.userId !== undefined && this.userId !== userId) throw new Error("Account object addressed with another user id");
    if (this.userId === undefined) {
      this.userId = userId;
      this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('user_id', ?)", userId);
    }
    this.copy ??= this.loadCopy(userId).catch((e) => {
      this.copy = undefined;
      throw e;
    });
    return this.copy;
  }

  /**
   * The copy kept in this object's storage (no D1), else D1's rows — kept here from then on. The ledger's
   * key spend asks it which budget each key spends from.
   */
  protected async loadCopy(userId: string): Promise<CatalogCopy> {
    const copy = CatalogCopy.restore(this.sql) ?? (await this.loadCopyFromD1(userId));
    this.ledger.keys.useBudgets(copy);
    return copy;
  }

  private async loadCopyFromD1(userId: string): Promise<CatalogCopy> {
    this.d1Queries++;
    const copy = await CatalogCopy.load(this.env.DB, userId);
    if (!copy) throw new AccountMissing();
    if (!this.ledger.paygSeeded) this.ledger.setPayg(copy.catalogPaygMc);
    copy.keepIn(this.sql);
    return copy;
  }

  /**
   * A reservation whose request never settled (its worker died, every settle retry failed): what the
   * provider did is unknown, so it is charged its bound — the rule for a provider that reports no usage —
   * never refunded blindly. The charge stays reversible: a settle arriving later corrects it.
   */
  protected closeStaleReservations(copy: CatalogCopy, now: number) {
    for (const id of this.ledger.stale(now - RESERVATION_TTL_MS)) {
      const r = this.ledger.release(id);
      if (!r) continue;
      this.ledger.charge(r.kind, r.amountMc, this.limitMc(copy, r.createdAt), r.createdAt, r.id, r.keyId);
      if (r.idempotencyKey) this.idempotency.complete(r.idempotencyKey, undefined);
    }
  }

  /** What the catalog changes need of the object. */
  protected async changeHost(userId: string): Promise<changes.ChangeHost> {
    const copy = await this.catalog(userId);
    return {
      env: this.env,
      copy,
      ledger: this.ledger,
      notices: this.notices,
      forgetRate: (rateKey) => this.rates.forget(rateKey),
      moveRate: (from, to) => this.rates.move(from, to),
      balanceChanged: () => this.scheduleAlarm(Date.now() + MIRROR_DELAY_MS),
      snapshot: () => this.snapshot(copy, Date.now()),
    };
  }

  /** The private steps the realtime sessions share with admit(). */
  protected host(copy: CatalogCopy, userId: string): AccountHost {
    return {
      copy,
      ledger: this.ledger,
      readKey: async (keyId) => {
        const { key, readD1 } = await copy.key(this.env.DB, userId, keyId);
        if (readD1) this.d1Queries++;
        return key;
      },
      portalSessionUntil: (id) => this.portalSessionUntil(id),
      takeRate: (rateKey, limit, now) => this.takeRateToken(rateKey, limit, now),
      requestsPerMinute: (plan) => pricesFor(this.env).plans[plan].requestsPerMinute,
      keySource: (meter) => this.keySource(copy, meter),
      snapshot: (now) => this.snapshot(copy, now),
      limitMc: (at) => this.limitMc(copy, at),
      scheduleAlarm: (at) => this.scheduleAlarm(at),
      d1Queries: () => this.d1Queries,
    };
  }

  /**
   * When a portal session ends (ms), from its auth_session row (Better Auth's; its primary key): null when
   * there is none (signed out, deleted). Asked only for the sessions of client tokens a portal session
   * minted, once per check. D1 failing is no verdict (undefined): the next check asks again, rather than
   * ending a session over a blip. An expiry that does not parse is taken as passed.
   */
  protected async portalSessionUntil(id: string): Promise<number | null | undefined> {
    this.d1Queries++;
    try {
      const row = await this.env.DB.prepare("SELECT expires_at FROM auth_session WHERE id = ?").bind(id).first<{ expires_at: string }>();
      return row ? Date.parse(row.expires_at) || 0 : null;
    } catch (e) {
      console.warn(`[voxgate] portal session check failed (checked again at the next interval): ${String(e)}`);
      return undefined;
    }
  }

  /** BYOK header > stored key > platform key; undefined when none is available. */
  protected keySource(copy: CatalogCopy, meter: Meter): KeySource | undefined {
    if (meter.byok) return "byok";
    if (copy.providerKeys.has(meter.provider)) return "stored";
    return meter.platformKeyAvailable ? "platform" : undefined;
  }

  /** Decided in memory, written to storage a second later (src/account/rate-windows.ts): never a write on the path. */
  protected takeRateToken(rateKey: string, limit: number, now: number): RateState {
    return this.rates.take(rateKey, limit, now);
  }

  protected limitMc(copy: CatalogCopy, now: number): number {
    return planLimitMc(effectivePlan(copy.user.plan, copy.user.planExpiresAt, now), pricesFor(this.env));
  }

  protected snapshot(copy: CatalogCopy, now: number): UsageSnapshot {
    const totals = this.ledger.totals(billingPeriod(now));
    const limitMc = this.limitMc(copy, now);
    const paygMc = this.ledger.paygMc;
    const reservedMc = this.ledger.reservedMc;
    return {
      period: totals.period,
      plan: effectivePlan(copy.user.plan, copy.user.planExpiresAt, now),
      planExpiresAt: copy.user.planExpiresAt,
      role: copy.user.role,
      usedMc: totals.planUsedMc + totals.paygUsedMc,
      limitMc,
      // Negative while the user is in debt.
      remainingMc: Math.max(0, limitMc - totals.planUsedMc) + paygMc - reservedMc,
      paygMc,
      reservedMc,
      breakdownMc: totals.breakdownMc,
      requestCount: totals.requests,
    };
  }

  protected refuse(error: AdmitRefusal, rate?: RateState, usage?: UsageSnapshot): Extract<AdmitResult, { ok: false }> {
    return { ok: false, error, rate, usage, d1Queries: this.d1Queries };
  }

  /** Set the alarm no later than `at`. The time already set is remembered: most calls need no storage operation. */
  protected scheduleAlarm(at: number) {
    if (this.alarmAt !== undefined && this.alarmAt !== null && this.alarmAt <= at) return;
    void this.ctx.storage.getAlarm().then((current) => {
      if (current === null || current > at) {
        this.alarmAt = at;
        return this.ctx.storage.setAlarm(at);
      }
      this.alarmAt = current;
    });
  }
}

export class AccountMissing extends Error {}

/** The earlier of two alarm times (null: none). */
export function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

/** An outbox send that failed is tried again this much later (by the alarm). */
export const OUTBOX_RETRY_MS = 5_000;
