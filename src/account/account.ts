// The Account Durable Object: one per user, the single writer of everything the hot path decides on.
// One RPC call (`admit`) per request decides, synchronously and so exactly:
//   the API key is still valid → its scopes → the rate limit → which provider key serves → the
//   idempotency claim → the credit reservation.
// This file is the object's RPC surface, read top to bottom; its parts and shared steps are in parts.ts,
// the catalog changes in catalog-changes.ts, realtime sessions in sessions.ts, the alarm's work in mirror.ts.
import type * as apiKeysTable from "../db/api-keys";
import type { ProviderKeyInput } from "../db/provider-keys";
import type {
  AdmitRequest,
  AdmitResult,
  ChargeReceipt,
  KeyRulesPatch,
  RealtimeTokenRequest,
  SessionCloseRequest,
  SessionOpenRequest,
  SessionOpenResult,
  SessionRenewal,
  SessionRenewRequest,
  SettleRequest,
  UsageSnapshot,
} from "../metering/contract";
import { billingPeriod, effectivePlan, type UsageKind } from "../metering/plans";
import { pricesFor } from "../metering/price-config";
import * as changes from "./catalog-changes";
import type { CatalogCopy } from "./catalog-copy";
import { keyIsValid } from "./catalog-copy";
import type { EventMessage } from "./events";
import { keyRequestsPerMinute, outsideKeyScope, overKeyLimit } from "./key-rules";
import { MIRROR_DELAY_MS, mirror, RESERVATION_TTL_MS } from "./mirror";
import { AccountMissing, AccountParts, earliest, OUTBOX_RETRY_MS } from "./parts";

export class Account extends AccountParts {
  // ---- the hot path -----------------------------------------------------------------------------

  async admit(req: AdmitRequest): Promise<AdmitResult> {
    this.d1Queries = 0;
    const copy = await this.catalog(req.userId).catch((e) => (e instanceof AccountMissing ? undefined : Promise.reject(e)));
    if (!copy) return this.refuse("invalid_credentials");
    const now = Date.now();
    // Earlier requests' settles, carried by this call: closed first, whatever this admission decides.
    if (!this.settleAll(copy, req.settles, now)) return this.decide(req, copy, now);
    return { ...(await this.decide(req, copy, now)), settlesApplied: true };
  }

  private async decide(req: AdmitRequest, copy: CatalogCopy, now: number): Promise<AdmitResult> {
    const key = req.keyId ? await copy.key(this.env.DB, req.userId, req.keyId) : undefined;
    if (key?.readD1) this.d1Queries++;
    if (key && !keyIsValid(key.key, now)) return this.refuse("invalid_credentials");
    // From here on everything is synchronous: no other request interleaves, so limits are exact.
    // Plans as configured (PRICES applied): parsed once per env, a map lookup here.
    const plan = pricesFor(this.env).plans[effectivePlan(copy.user.plan, copy.user.planExpiresAt, now)];
    const perMinute = keyRequestsPerMinute(key?.key, plan.requestsPerMinute);
    const rate = req.rateCounted ? this.rates.peek(req.rateKey, perMinute, now) : this.takeRateToken(req.rateKey, perMinute, now);
    const usage = () => this.snapshot(copy, now);
    if (rate.retryAfterSeconds !== undefined) return this.refuse("rate_limited", rate, usage());
    // After the rate limit, as for realtime sessions (sessions.ts): a request outside the key's scope counts
    // and its 403 carries the X-RateLimit-* and X-Usage-* headers like every authenticated answer (API.md §5).
    if (outsideKeyScope(key?.key, req)) return this.refuse("scope_denied", rate, usage());
    if (!req.meter) return { ok: true, rate, usage: usage(), d1Queries: this.d1Queries };

    const keySource = this.keySource(copy, req.meter);
    if (!keySource) return this.refuse("provider_key_missing", rate, usage());
    if (req.idempotency) {
      // A reservation past its time to live is closed first, as the alarm would (charged at its bound, its
      // record done): else a retry arriving before the alarm ran would find the record stale, run again
      // and be charged a second time.
      this.closeStaleReservations(copy, now);
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
    return this.settleMany(req.userId, [req]);
  }

  /** Several settles of one user at once (an isolate's batch no admission carried: settle-batch.ts). */
  async settleMany(userId: string, reqs: SettleRequest[]): Promise<UsageSnapshot> {
    const copy = await this.catalog(userId);
    const now = Date.now();
    this.settleAll(copy, reqs, now);
    return this.snapshot(copy, now);
  }

  /** Apply settles synchronously (nothing interleaves); true when there were any. */
  private settleAll(copy: CatalogCopy, reqs: SettleRequest[] | undefined, now: number): boolean {
    if (!reqs?.length) return false;
    for (const req of reqs) this.settleOne(copy, req);
    this.scheduleAlarm(now + MIRROR_DELAY_MS);
    return true;
  }

  /** One settle (see `settle`): closes its reservation and, for an idempotent request, its record. */
  private settleOne(copy: CatalogCopy, req: SettleRequest): void {
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

  // ---- changes that would make the copy stale go through here (catalog-changes.ts) ------------

  async createKey(userId: string, key: apiKeysTable.NewApiKey, now: number) {
    return changes.createKey(await this.changeHost(userId), userId, key, now);
  }

  async revokeKey(userId: string, keyId: string) {
    return changes.revokeKey(await this.changeHost(userId), userId, keyId);
  }

  async rotateKey(userId: string, oldKeyId: string, next: apiKeysTable.NewApiKey) {
    return changes.rotateKey(await this.changeHost(userId), userId, oldKeyId, next);
  }

  async updateKey(userId: string, keyId: string, patch: KeyRulesPatch) {
    return changes.updateKey(await this.changeHost(userId), userId, keyId, patch);
  }

  async putProviderKey(userId: string, row: ProviderKeyInput) {
    return changes.putProviderKey(await this.changeHost(userId), row);
  }

  async deleteProviderKey(userId: string, provider: string) {
    return changes.deleteProviderKey(await this.changeHost(userId), userId, provider);
  }

  async updateUser(userId: string, patch: changes.UserPatch, audit: changes.AuditNote): Promise<UsageSnapshot> {
    return changes.updateUser(await this.changeHost(userId), userId, patch, audit);
  }

  /** null: refused, the balance would pass its ceiling (nothing written). */
  async addCredits(userId: string, amountMc: number, audit: changes.AuditNote): Promise<UsageSnapshot | null> {
    return changes.addCredits(await this.changeHost(userId), userId, amountMc, audit);
  }

  // ---- events the worker saw (src/webhooks/emit.ts) --------------------------------------------

  /**
   * Keep an event (a key created, rotated or revoked) in this object's outbox and send it from there: a
   * Queue that is down when the change happens only delays it (the alarm retries), it never loses it.
   * Idempotent per event id: a retried call keeps one row.
   */
  async emit(userId: string, message: EventMessage): Promise<void> {
    await this.catalog(userId);
    this.outbox.add(message, Date.now());
    this.flushOutbox();
  }

  // ---- the alarm ----------------------------------------------------------------------------------

  async alarm(): Promise<void> {
    this.alarmAt = null; // it fired; whatever it sets next is remembered below
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
    if (at !== null) {
      this.alarmAt = at;
      await this.ctx.storage.setAlarm(at);
    }
  }
}
