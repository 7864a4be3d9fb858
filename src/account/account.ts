// The Account Durable Object: one per user, the single writer of everything the hot path decides on.
// One RPC call (`admit`) per request decides, synchronously and so exactly:
//   the API key is still valid → the rate limit → which provider key serves → the idempotency claim →
//   the credit reservation.
// Its parts, each in its own place: the write-through copy of the catalog (catalog-copy.ts), the credit
// ledger and idempotency records (src/metering/), the rate limiter (src/ratelimit/gcra.ts), and the
// alarm that mirrors usage to KV and the balance to D1 (mirror.ts), a scoped key's rules (key-rules.ts),
// and the usage notices it decides and sends to the webhook Queue through its outbox (notices.ts, outbox.ts).
import { DurableObject } from "cloudflare:workers";
import * as apiKeysTable from "../db/api-keys";
import * as providerKeysTable from "../db/provider-keys";
import * as usersTable from "../db/users";
import type { Env } from "../env";
import type {
  AdmitRefusal,
  AdmitRequest,
  AdmitResult,
  ChargeReceipt,
  KeyRulesPatch,
  KeySource,
  Meter,
  RateState,
  RealtimeTokenRequest,
  SessionCloseRequest,
  SessionOpenRequest,
  SessionOpenResult,
  SessionRenewal,
  SessionRenewRequest,
  SettleRequest,
  UsageSnapshot,
} from "../metering/contract";
import { IdempotencyRecords } from "../metering/idempotency-records";
import { CreditLedger } from "../metering/ledger";
import { billingPeriod, effectivePlan, RATE_LIMIT_WINDOW_MS, type UsageKind } from "../metering/plans";
import { pricesFor } from "../metering/price-config";
import { planLimitMc } from "../metering/prices";
import { peekToken, takeToken } from "../ratelimit/gcra";
import { CatalogCopy, keyIsValid, keyStateOf } from "./catalog-copy";
import { keyRequestsPerMinute, outsideKeyScope, overKeyLimit } from "./key-rules";
import { MIRROR_DELAY_MS, mirror, RESERVATION_TTL_MS } from "./mirror";
import { Notices } from "./notices";
import { Outbox } from "./outbox";
import { type AccountHost, RealtimeSessions } from "./sessions";

type AuditNote = { actor: string; reason?: string };

export class Account extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly ledger: CreditLedger;
  private readonly idempotency: IdempotencyRecords;
  private readonly outbox: Outbox;
  private readonly notices: Notices;
  private readonly sessions: RealtimeSessions;
  /** GCRA theoretical arrival times by rate bucket (API key id, or "user"). */
  private readonly rates = new Map<string, number>();
  private userId?: string;
  private copy?: Promise<CatalogCopy>;
  private d1Queries = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.outbox = new Outbox(this.sql, () => env.WEBHOOK_QUEUE);
    this.notices = new Notices(this.sql, this.outbox);
    this.ledger = new CreditLedger(this.sql, (charge, limitMc) => {
      const planUsedMc = this.ledger.totals(charge.period).planUsedMc;
      this.notices.afterCharge(this.userId, charge, planUsedMc, limitMc, this.ledger.paygMc, Date.now());
      if (this.outbox.pending) this.flushOutbox(); // in the background: the caller does not wait for it
    });
    this.idempotency = new IdempotencyRecords(this.sql);
    this.sessions = new RealtimeSessions(this.sql);
    this.sql.exec("CREATE TABLE IF NOT EXISTS rate (k TEXT PRIMARY KEY, tat INTEGER NOT NULL)");
    for (const r of this.sql.exec<{ k: string; tat: number }>("SELECT k, tat FROM rate")) this.rates.set(r.k, r.tat);
    this.userId = this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'user_id'").toArray()[0]?.v;
  }

  // ---- the hot path -----------------------------------------------------------------------------

  async admit(req: AdmitRequest): Promise<AdmitResult> {
    this.d1Queries = 0;
    const copy = await this.catalog(req.userId).catch((e) => (e instanceof AccountMissing ? undefined : Promise.reject(e)));
    if (!copy) return this.refuse("invalid_credentials");
    const now = Date.now();
    const key = req.keyId ? await copy.key(this.env.DB, req.userId, req.keyId) : undefined;
    if (key?.readD1) this.d1Queries++;
    if (key && !keyIsValid(key.key, now)) return this.refuse("invalid_credentials");
    // From here on everything is synchronous: no other request interleaves, so limits are exact.
    if (outsideKeyScope(key?.key, req)) return this.refuse("scope_denied");
    // Plans as configured (PRICES applied): parsed once per env, a map lookup here.
    const plan = pricesFor(this.env).plans[effectivePlan(copy.user.plan, copy.user.planExpiresAt, now)];
    const perMinute = keyRequestsPerMinute(key?.key, plan.requestsPerMinute);
    const rate = req.rateCounted
      ? peekToken(this.rates.get(req.rateKey), perMinute, RATE_LIMIT_WINDOW_MS, now)
      : this.takeRateToken(req.rateKey, perMinute, now);
    const usage = () => this.snapshot(copy, now);
    if (rate.retryAfterSeconds !== undefined) return this.refuse("rate_limited", rate, usage());
    if (!req.meter) return { ok: true, rate, usage: usage(), d1Queries: this.d1Queries };

    const keySource = this.keySource(copy, req.meter);
    if (!keySource) return this.refuse("provider_key_missing", rate, usage());
    if (req.idempotency) {
      const verdict = this.idempotency.check(req.idempotency, now, RESERVATION_TTL_MS);
      if (!verdict.ok) return { ...this.refuse(verdict.error, rate, usage()), replay: "replay" in verdict ? verdict.replay : undefined };
    }
    let reservationId: string | undefined;
    let charge: ChargeReceipt | undefined;
    if (keySource === "platform") {
      const estimate = req.meter.estimateMc;
      if (estimate === null) return this.refuse("model_not_priced", rate, usage());
      // A user in debt (a provider reported more than was reserved) pays it off before spending again.
      if (this.ledger.inDebt || estimate > usage().remainingMc) return this.refuse("insufficient_credits", rate, usage());
      if (overKeyLimit(key?.key, req.keyId, this.ledger, estimate, now)) return this.refuse("key_credit_limit_reached", rate, usage());
      if (req.meter.exact && !req.idempotency) {
        charge = this.ledger.charge(req.meter.kind, estimate, this.limitMc(copy, now), now, crypto.randomUUID(), req.keyId);
        this.scheduleAlarm(now + MIRROR_DELAY_MS);
      } else {
        reservationId = this.ledger.reserve(req.meter.kind, estimate, now, req.idempotency?.key, req.keyId);
        this.scheduleAlarm(now + RESERVATION_TTL_MS);
      }
    }
    if (req.idempotency) this.idempotency.start(req.idempotency, now);
    const storedKey = keySource === "stored" ? copy.providerKeys.get(req.meter.provider) : undefined;
    return { ok: true, rate, usage: usage(), keySource, storedKey, reservationId, charge, d1Queries: this.d1Queries };
  }

  /**
   * Reverse a charge made at admission (the provider failed): exactly what it took, from where it took
   * it, in its period. Once: a retried refund finds nothing left to reverse.
   */
  async refund(userId: string, chargeId: string): Promise<UsageSnapshot> {
    const copy = await this.catalog(userId);
    this.ledger.reverse(chargeId);
    const now = Date.now();
    this.scheduleAlarm(now + MIRROR_DELAY_MS);
    return this.snapshot(copy, now);
  }

  /**
   * Settle a reservation: `actualMc` null refunds it in full; a number charges exactly that (plan
   * credits first, then PAYG), in the period the reservation was made in. Idempotent per reservation:
   * a retried settle charges nothing more. A reservation the alarm already closed (charged at its bound)
   * is corrected to what the late settle says.
   */
  async settle(req: SettleRequest): Promise<UsageSnapshot> {
    const copy = await this.catalog(req.userId);
    const now = Date.now();
    if (req.reservationId) {
      const open = this.ledger.release(req.reservationId);
      const closedByAlarm = open ? undefined : this.ledger.reverse(req.reservationId);
      const at = open?.createdAt ?? closedByAlarm?.at;
      const keyId = open?.keyId ?? closedByAlarm?.keyId;
      if (at !== undefined && req.actualMc !== null) {
        if (req.actualMc > 0) this.ledger.charge(req.kind, req.actualMc, this.limitMc(copy, at), at, undefined, keyId);
        else this.ledger.countRequest(at);
      }
    }
    if (req.idempotency) {
      if (req.actualMc === null) this.idempotency.fail(req.idempotency.key);
      else this.idempotency.complete(req.idempotency.key, req.idempotency.result);
    }
    this.scheduleAlarm(now + MIRROR_DELAY_MS);
    return this.snapshot(copy, now);
  }

  // ---- realtime sessions (src/account/sessions.ts) ---------------------------------------------

  async issueRealtimeToken(req: RealtimeTokenRequest): Promise<void> {
    await this.catalog(req.userId);
    this.sessions.issueToken(req, Date.now());
  }

  async openSession(req: SessionOpenRequest): Promise<SessionOpenResult> {
    this.d1Queries = 0;
    const copy = await this.catalog(req.userId).catch((e) => (e instanceof AccountMissing ? undefined : Promise.reject(e)));
    if (!copy) return this.refuse("invalid_credentials");
    return this.sessions.open(req, this.host(copy, req.userId));
  }

  async renewSession(req: SessionRenewRequest): Promise<SessionRenewal> {
    return this.sessions.renew(req, this.host(await this.catalog(req.userId), req.userId));
  }

  async closeSession(req: SessionCloseRequest): Promise<UsageSnapshot> {
    const copy = await this.catalog(req.userId);
    this.sessions.close(req, this.host(copy, req.userId));
    const now = Date.now();
    this.scheduleAlarm(now + MIRROR_DELAY_MS);
    return this.snapshot(copy, now);
  }

  // ---- reads that are not on the hot path -------------------------------------------------------

  async usage(userId: string): Promise<UsageSnapshot & { daily: { day: string; kind: UsageKind; mc: number }[] }> {
    const copy = await this.catalog(userId);
    const now = Date.now();
    return { ...this.snapshot(copy, now), daily: this.ledger.daily(billingPeriod(now)) };
  }

  /** Snapshot for cheap paying-user checks off the hot path (key creation). */
  async summary(userId: string): Promise<UsageSnapshot> {
    return this.snapshot(await this.catalog(userId), Date.now());
  }

  // ---- changes that would make the copy stale go through here -----------------------------------

  async revokeKey(userId: string, keyId: string): Promise<apiKeysTable.RevokeOutcome> {
    const copy = await this.catalog(userId);
    const now = Date.now();
    const outcome = await apiKeysTable.revokeKey(this.env.DB, userId, keyId, now);
    if (outcome) copy.revoke(keyId, now);
    this.forgetRate(keyId);
    return outcome;
  }

  async rotateKey(userId: string, oldKeyId: string, next: apiKeysTable.NewApiKey): Promise<apiKeysTable.ApiKeyRow | null> {
    const copy = await this.catalog(userId);
    const now = Date.now();
    const row = await apiKeysTable.rotateKey(this.env.DB, userId, oldKeyId, next, now);
    if (row) {
      copy.revoke(oldKeyId, now);
      copy.keys.set(row.id, keyStateOf(row));
    }
    return row;
  }

  /** Change an active key's name or rules (scopes, providers, limits): D1 first, then the copy. */
  async updateKey(userId: string, keyId: string, patch: KeyRulesPatch): Promise<apiKeysTable.ApiKeyRow | null> {
    const copy = await this.catalog(userId);
    const row = await apiKeysTable.updateKeyRules(this.env.DB, userId, keyId, apiKeysTable.storedRules(patch));
    if (row) copy.keys.set(row.id, keyStateOf(row));
    return row;
  }

  async putProviderKey(userId: string, row: providerKeysTable.ProviderKeyInput): Promise<providerKeysTable.ProviderKeyRow> {
    const copy = await this.catalog(userId);
    const saved = await providerKeysTable.upsertProviderKey(this.env.DB, row);
    copy.providerKeys.set(row.provider, { ciphertext: row.ciphertext, iv: row.iv, keyVersion: row.keyVersion });
    return saved;
  }

  async deleteProviderKey(userId: string, provider: string): Promise<boolean> {
    const copy = await this.catalog(userId);
    const ok = await providerKeysTable.deleteProviderKey(this.env.DB, userId, provider);
    copy.providerKeys.delete(provider);
    return ok;
  }

  async updateUser(
    userId: string,
    patch: { plan?: string; planExpiresAt?: number | null; paygMc?: number; role?: string },
    audit: AuditNote,
  ): Promise<UsageSnapshot> {
    const copy = await this.catalog(userId);
    await usersTable.updateUser(this.env.DB, userId, patch, audit, Date.now());
    // Applied after D1 succeeded, with no await in between: charges that landed meanwhile stay counted.
    if (patch.plan !== undefined) copy.user.plan = patch.plan;
    if (patch.planExpiresAt !== undefined) copy.user.planExpiresAt = patch.planExpiresAt;
    if (patch.role !== undefined) copy.user.role = patch.role;
    if (patch.paygMc !== undefined) {
      this.ledger.setPayg(patch.paygMc);
      this.notices.toppedUp(patch.paygMc);
    }
    const now = Date.now();
    this.scheduleAlarm(now + MIRROR_DELAY_MS);
    return this.snapshot(copy, now);
  }

  /** Add PAYG credits: the audit row goes to D1 first, then the amount is added here (a delta, never a stale total). */
  async addCredits(userId: string, amountMc: number, audit: AuditNote): Promise<UsageSnapshot> {
    const copy = await this.catalog(userId);
    await usersTable.auditTopUp(this.env.DB, userId, amountMc, audit, Date.now());
    this.ledger.addPayg(amountMc);
    this.notices.toppedUp(amountMc);
    const now = Date.now();
    this.scheduleAlarm(now + MIRROR_DELAY_MS);
    return this.snapshot(copy, now);
  }

  // ---- the alarm ----------------------------------------------------------------------------------

  async alarm(): Promise<void> {
    if (!this.userId) return;
    const copy = await this.catalog(this.userId);
    const now = Date.now();
    const nextLeaseEnd = this.sessions.expire(now, this.host(copy, this.userId));
    this.closeStaleReservations(copy, now);
    const mirrorNext = await mirror({
      env: this.env,
      userId: this.userId,
      ledger: this.ledger,
      idempotency: this.idempotency,
      snapshot: () => this.snapshot(copy, now),
      now,
    });
    // Events the outbox could not send yet are retried by the alarm.
    const sent = await this.outbox.flush();
    const retry = sent ? null : now + OUTBOX_RETRY_MS;
    const at = earliest(earliest(mirrorNext, nextLeaseEnd), retry);
    if (at !== null) await this.ctx.storage.setAlarm(at);
  }

  /** Send the outbox in the background; a failed send is retried by the alarm. */
  private flushOutbox() {
    void this.outbox.flush().then((sent) => {
      if (!sent) this.scheduleAlarm(Date.now() + OUTBOX_RETRY_MS);
    });
  }

  // ---- the steps --------------------------------------------------------------------------------

  /** The write-through copy of the catalog, loaded from D1 once per wake. */
  private catalog(userId: string): Promise<CatalogCopy> {
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

  private async loadCopy(userId: string): Promise<CatalogCopy> {
    this.d1Queries++;
    const copy = await CatalogCopy.load(this.env.DB, userId);
    if (!copy) throw new AccountMissing();
    if (!this.ledger.paygSeeded) this.ledger.setPayg(copy.catalogPaygMc);
    return copy;
  }

  /**
   * A reservation whose request never settled (its worker died, every settle retry failed): what the
   * provider did is unknown, so it is charged its bound — the rule for a provider that reports no usage —
   * never refunded blindly. The charge stays reversible: a settle arriving later corrects it.
   */
  private closeStaleReservations(copy: CatalogCopy, now: number) {
    for (const id of this.ledger.stale(now - RESERVATION_TTL_MS)) {
      const r = this.ledger.release(id);
      if (!r) continue;
      this.ledger.charge(r.kind, r.amountMc, this.limitMc(copy, r.createdAt), r.createdAt, r.id, r.keyId);
      if (r.idempotencyKey) this.idempotency.complete(r.idempotencyKey, undefined);
    }
  }

  /** The private steps the realtime sessions share with admit(). */
  private host(copy: CatalogCopy, userId: string): AccountHost {
    return {
      copy,
      ledger: this.ledger,
      readKey: async (keyId) => {
        const { key, readD1 } = await copy.key(this.env.DB, userId, keyId);
        if (readD1) this.d1Queries++;
        return key;
      },
      takeRate: (rateKey, limit, now) => this.takeRateToken(rateKey, limit, now),
      keySource: (meter) => this.keySource(copy, meter),
      snapshot: (now) => this.snapshot(copy, now),
      limitMc: (at) => this.limitMc(copy, at),
      scheduleAlarm: (at) => this.scheduleAlarm(at),
      d1Queries: () => this.d1Queries,
    };
  }

  /** BYOK header > stored key > platform key; undefined when none is available. */
  private keySource(copy: CatalogCopy, meter: Meter): KeySource | undefined {
    if (meter.byok) return "byok";
    if (copy.providerKeys.has(meter.provider)) return "stored";
    return meter.platformKeyAvailable ? "platform" : undefined;
  }

  private takeRateToken(rateKey: string, limit: number, now: number): RateState {
    const { state, tat } = takeToken(this.rates.get(rateKey), limit, RATE_LIMIT_WINDOW_MS, now);
    if (tat !== undefined) {
      this.rates.set(rateKey, tat);
      this.sql.exec("INSERT OR REPLACE INTO rate (k, tat) VALUES (?, ?)", rateKey, tat);
    }
    return state;
  }

  private forgetRate(rateKey: string) {
    this.rates.delete(rateKey);
    this.sql.exec("DELETE FROM rate WHERE k = ?", rateKey);
  }

  private limitMc(copy: CatalogCopy, now: number): number {
    return planLimitMc(effectivePlan(copy.user.plan, copy.user.planExpiresAt, now), pricesFor(this.env));
  }

  private snapshot(copy: CatalogCopy, now: number): UsageSnapshot {
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

  private refuse(error: AdmitRefusal, rate?: RateState, usage?: UsageSnapshot): Extract<AdmitResult, { ok: false }> {
    return { ok: false, error, rate, usage, d1Queries: this.d1Queries };
  }

  private scheduleAlarm(at: number) {
    void this.ctx.storage.getAlarm().then((current) => {
      if (current === null || current > at) return this.ctx.storage.setAlarm(at);
    });
  }
}

class AccountMissing extends Error {}

/** The earlier of two alarm times (null: none). */
function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

/** An outbox send that failed is tried again this much later (by the alarm). */
const OUTBOX_RETRY_MS = 5_000;
