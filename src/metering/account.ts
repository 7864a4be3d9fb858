// The Account Durable Object: one per user, the single writer of everything the hot path decides on.
//
// One RPC call (`admit`) per request checks, synchronously and so exactly:
//   the API key is still valid → the rate limit (GCRA) → which provider key serves → the credit reservation.
// D1 stays the catalog of record for users, keys and provider keys; this object keeps a write-through
// copy in memory (loaded from D1 once per wake) and every change that could make that copy stale
// (revoke, rotate, plan change, provider-key upsert/delete) is made through one of its methods.
// The ledger, reservations and rate-limit state are this object's own, persisted in its SQLite storage.
// Usage is mirrored to KV (and the PAYG balance to D1) by an alarm, at most about once a second.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import {
  billingPeriod,
  effectivePlan,
  PLANS,
  RATE_LIMIT_WINDOW_MS,
  type PlanId,
  type UsageKind,
} from "./plans";
import * as catalog from "../db/catalog";

/** Mirror usage to KV no more often than this: KV takes one write per second per key. */
const MIRROR_DELAY_MS = 1_000;
/** A reservation not settled by then is refunded by the alarm (its request died without settling). */
export const RESERVATION_TTL_MS = 30 * 60_000;
/** Idempotency records are kept this long (API.md §6). */
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;
/** Ledger periods older than this many months are dropped. */
const LEDGER_MONTHS_KEPT = 13;

export type KeySource = "byok" | "stored" | "platform";

/** What one charge took from where: enough to reverse it exactly (refund). */
export interface ChargeReceipt {
  kind: UsageKind;
  period: string;
  day: string;
  amountMc: number;
  fromPlanMc: number;
  fromPaygMc: number;
}

export interface StoredKeyCipher {
  ciphertext: string;
  iv: string;
  keyVersion: number;
}

export interface AdmitRequest {
  userId: string;
  /** The API key id, when the request came with an API key. */
  keyId?: string;
  /** Rate-limit bucket: the API key id, or "user" for JWT / portal requests. */
  rateKey: string;
  /** Present for a gateway request: how it would be paid for. */
  meter?: {
    provider: string;
    kind: UsageKind;
    byok: boolean;
    platformKeyAvailable: boolean;
    /** Estimated cost with the platform key; null when the model has no price. */
    estimateMc: number | null;
    /**
     * The estimate is the exact cost (TTS: characters × price): charge it now, not a reservation, so a
     * successful request needs no settle call; a failed one is refunded with the receipt.
     */
    exact?: boolean;
  };
  idempotency?: { key: string; fingerprint: string };
}

export interface UsageSnapshot {
  period: string;
  plan: PlanId;
  planExpiresAt: number | null;
  role: string;
  usedMc: number;
  limitMc: number;
  remainingMc: number;
  paygMc: number;
  reservedMc: number;
  breakdownMc: Record<UsageKind, number>;
  requestCount: number;
}

export interface RateState {
  limit: number;
  remaining: number;
  retryAfterSeconds?: number;
}

export type AdmitResult =
  | {
      ok: true;
      rate: RateState;
      usage: UsageSnapshot;
      keySource?: KeySource;
      storedKey?: StoredKeyCipher;
      reservationId?: string;
      /** Set when an exact-cost request was charged at admission (refund it if the provider fails). */
      charge?: ChargeReceipt;
      d1Queries: number;
    }
  | {
      ok: false;
      error:
        | "invalid_credentials"
        | "rate_limited"
        | "insufficient_credits"
        | "provider_key_missing"
        | "model_not_priced"
        | "idempotency_in_progress"
        | "idempotency_completed"
        | "idempotency_key_reused"
        | "idempotency_replay";
      rate?: RateState;
      usage?: UsageSnapshot;
      replay?: IdempotentResult;
      d1Queries: number;
    };

export interface IdempotentResult {
  status: number;
  contentType: string;
  headers: Record<string, string>;
  bodyBase64: string;
}

interface UserState {
  plan: string;
  planExpiresAt: number | null;
  role: string;
}

interface KeyState {
  expiresAt: number | null;
  revokedAt: number | null;
}

interface Loaded {
  user: UserState;
  keys: Map<string, KeyState>;
  providerKeys: Map<string, StoredKeyCipher>;
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

export class Account extends DurableObject<Env> {
  private loaded?: Promise<Loaded>;
  private userId?: string;
  private sql: SqlStorage;
  private tat = new Map<string, number>();
  private reservedMc = 0;
  private paygMc = 0;
  private d1Queries = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`
        CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS ledger (period TEXT PRIMARY KEY, plan_used_mc INTEGER NOT NULL DEFAULT 0,
          payg_used_mc INTEGER NOT NULL DEFAULT 0, tts_mc INTEGER NOT NULL DEFAULT 0, stt_mc INTEGER NOT NULL DEFAULT 0,
          llm_mc INTEGER NOT NULL DEFAULT 0, requests INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS daily (day TEXT NOT NULL, kind TEXT NOT NULL, mc INTEGER NOT NULL, PRIMARY KEY (day, kind));
        CREATE TABLE IF NOT EXISTS reservations (id TEXT PRIMARY KEY, kind TEXT NOT NULL, amount_mc INTEGER NOT NULL,
          created_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS rate (k TEXT PRIMARY KEY, tat INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS idempotency (k TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, state TEXT NOT NULL,
          result TEXT, created_at INTEGER NOT NULL);
      `);
      for (const r of this.sql.exec<{ k: string; tat: number }>("SELECT k, tat FROM rate")) this.tat.set(r.k, r.tat);
      this.reservedMc = Number(this.sql.exec("SELECT COALESCE(SUM(amount_mc),0) AS s FROM reservations").one().s);
      const payg = this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'payg_mc'").toArray()[0];
      this.paygMc = payg ? Number(payg.v) : Number.NaN; // NaN: not yet seeded from D1
      const uid = this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'user_id'").toArray()[0];
      this.userId = uid?.v;
    });
  }

  // ---- loading the write-through copy of the catalog ------------------------------------------

  private ensureLoaded(userId: string): Promise<Loaded> {
    if (this.userId !== undefined && this.userId !== userId) throw new Error("Account object addressed with another user id");
    if (this.userId === undefined) {
      this.userId = userId;
      this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('user_id', ?)", userId);
    }
    this.loaded ??= this.load(userId).catch((e) => {
      this.loaded = undefined;
      throw e;
    });
    return this.loaded;
  }

  private async load(userId: string): Promise<Loaded> {
    this.d1Queries++;
    const snap = await catalog.loadAccount(this.env.DB, userId);
    if (!snap.user) throw new AccountMissing();
    if (Number.isNaN(this.paygMc)) this.setPayg(snap.user.paygBalanceMc);
    return {
      user: { plan: snap.user.plan, planExpiresAt: snap.user.planExpiresAt, role: snap.user.role },
      keys: new Map(snap.keys.map((k) => [k.id, { expiresAt: k.expiresAt, revokedAt: k.revokedAt }])),
      providerKeys: new Map(snap.providerKeys.map((p) => [p.provider, { ciphertext: p.ciphertext, iv: p.iv, keyVersion: p.keyVersion }])),
    };
  }

  private async keyState(state: Loaded, keyId: string): Promise<KeyState | undefined> {
    let k = state.keys.get(keyId);
    if (k) return k;
    // Created after this object loaded (creation does not go through here: a new key can't make
    // anything stale). Read it once; a concurrent revoke that already landed wins.
    this.d1Queries++;
    const row = await catalog.findKeyById(this.env.DB, this.userId!, keyId);
    if (!row) return undefined;
    k = state.keys.get(keyId) ?? { expiresAt: row.expiresAt, revokedAt: row.revokedAt };
    state.keys.set(keyId, k);
    return k;
  }

  // ---- the hot path -----------------------------------------------------------------------------

  async admit(req: AdmitRequest): Promise<AdmitResult> {
    this.d1Queries = 0;
    let state: Loaded;
    try {
      state = await this.ensureLoaded(req.userId);
    } catch (e) {
      if (e instanceof AccountMissing) return { ok: false, error: "invalid_credentials", d1Queries: this.d1Queries };
      throw e;
    }
    const now = Date.now();
    if (req.keyId) {
      const key = await this.keyState(state, req.keyId);
      if (!key || key.revokedAt !== null || (key.expiresAt !== null && key.expiresAt <= now)) {
        return { ok: false, error: "invalid_credentials", d1Queries: this.d1Queries };
      }
    }
    // From here on everything is synchronous: no other request interleaves, so limits are exact.
    const plan = effectivePlan(state.user.plan, state.user.planExpiresAt, now);
    const rate = this.takeRateToken(req.rateKey, PLANS[plan].requestsPerMinute, now);
    if (rate.retryAfterSeconds !== undefined) {
      return { ok: false, error: "rate_limited", rate, usage: this.snapshot(state, now), d1Queries: this.d1Queries };
    }
    if (!req.meter) return { ok: true, rate, usage: this.snapshot(state, now), d1Queries: this.d1Queries };

    const fail = (error: Extract<AdmitResult, { ok: false }>["error"]): AdmitResult => ({
      ok: false,
      error,
      rate,
      usage: this.snapshot(state, now),
      d1Queries: this.d1Queries,
    });
    const stored = state.providerKeys.get(req.meter.provider);
    const keySource: KeySource | undefined = req.meter.byok
      ? "byok"
      : stored
        ? "stored"
        : req.meter.platformKeyAvailable
          ? "platform"
          : undefined;
    if (!keySource) return fail("provider_key_missing");

    let idem: string | undefined;
    if (req.idempotency) {
      const prior = this.sql
        .exec<{ fingerprint: string; state: string; result: string | null; created_at: number }>(
          "SELECT fingerprint, state, result, created_at FROM idempotency WHERE k = ?",
          req.idempotency.key,
        )
        .toArray()[0];
      if (prior && prior.created_at > now - IDEMPOTENCY_TTL_MS) {
        if (prior.fingerprint !== req.idempotency.fingerprint) return fail("idempotency_key_reused");
        // A request runs for minutes at most: one still "running" after RESERVATION_TTL_MS never settled
        // (its worker died; the alarm refunded its reservation), so it counts as failed.
        if (prior.state === "running" && prior.created_at > now - RESERVATION_TTL_MS) return fail("idempotency_in_progress");
        if (prior.state === "done") {
          if (!prior.result) return fail("idempotency_completed");
          return { ...(fail("idempotency_replay") as Extract<AdmitResult, { ok: false }>), replay: JSON.parse(prior.result) };
        }
        // "failed" (the first attempt was refunded) or abandoned: this retry runs afresh.
      }
      idem = req.idempotency.key;
    }

    let reservationId: string | undefined;
    let charge: ChargeReceipt | undefined;
    if (keySource === "platform") {
      const estimate = req.meter.estimateMc;
      if (estimate === null) return fail("model_not_priced");
      const usage = this.snapshot(state, now);
      if (estimate > usage.remainingMc) return fail("insufficient_credits");
    }
    if (keySource === "platform" && req.meter.exact && !idem) {
      charge = this.charge(state, req.meter.kind, req.meter.estimateMc!, now);
      this.scheduleAlarm(now + MIRROR_DELAY_MS);
    } else if (keySource === "platform") {
      const estimate = req.meter.estimateMc!;
      reservationId = crypto.randomUUID();
      this.sql.exec(
        "INSERT INTO reservations (id, kind, amount_mc, created_at) VALUES (?, ?, ?, ?)",
        reservationId,
        req.meter.kind,
        estimate,
        now,
      );
      this.reservedMc += estimate;
      this.scheduleAlarm(now + RESERVATION_TTL_MS);
    }
    if (idem) {
      this.sql.exec(
        "INSERT OR REPLACE INTO idempotency (k, fingerprint, state, result, created_at) VALUES (?, ?, 'running', NULL, ?)",
        idem,
        req.idempotency!.fingerprint,
        now,
      );
    }
    return {
      ok: true,
      rate,
      usage: this.snapshot(state, now),
      keySource,
      storedKey: keySource === "stored" ? stored : undefined,
      reservationId,
      charge,
      d1Queries: this.d1Queries,
    };
  }

  /** Reverse a charge made at admission (the provider failed): exactly what it took, from where it took it. */
  async refund(userId: string, receipt: ChargeReceipt): Promise<UsageSnapshot> {
    const state = await this.ensureLoaded(userId);
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
    const now = Date.now();
    this.scheduleAlarm(now + MIRROR_DELAY_MS);
    return this.snapshot(state, now);
  }

  /**
   * Settle a reservation: `actualMc` null refunds it in full; a number charges exactly that
   * (plan credits first, then PAYG). Idempotent per reservation id. A reservation the alarm already
   * refunded is charged all the same, so no charge is ever lost.
   */
  async settle(
    userId: string,
    reservationId: string | undefined,
    kind: UsageKind,
    actualMc: number | null,
    idempotency?: { key: string; result?: IdempotentResult },
  ): Promise<UsageSnapshot> {
    const state = await this.ensureLoaded(userId);
    const now = Date.now();
    if (reservationId) {
      const row = this.sql
        .exec<{ amount_mc: number }>("DELETE FROM reservations WHERE id = ? RETURNING amount_mc", reservationId)
        .toArray()[0];
      if (row) this.reservedMc -= row.amount_mc;
      if (actualMc !== null && actualMc > 0) this.charge(state, kind, actualMc, now);
      else if (actualMc !== null) this.countRequest(now);
    }
    if (idempotency) {
      if (actualMc === null) {
        this.sql.exec("UPDATE idempotency SET state = 'failed' WHERE k = ?", idempotency.key);
      } else {
        this.sql.exec(
          "UPDATE idempotency SET state = 'done', result = ? WHERE k = ?",
          idempotency.result ? JSON.stringify(idempotency.result) : null,
          idempotency.key,
        );
      }
    }
    this.scheduleAlarm(now + MIRROR_DELAY_MS);
    return this.snapshot(state, now);
  }

  private charge(state: Loaded, kind: UsageKind, amountMc: number, now: number): ChargeReceipt {
    const period = billingPeriod(now);
    const day = new Date(now).toISOString().slice(0, 10);
    const ledger = this.ledger(period);
    const limitMc = PLANS[effectivePlan(state.user.plan, state.user.planExpiresAt, now)].monthlyCredits * 1000;
    const planLeft = Math.max(0, limitMc - ledger.plan_used_mc);
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

  private countRequest(now: number) {
    this.sql.exec(
      "INSERT INTO ledger (period, requests) VALUES (?, 1) ON CONFLICT(period) DO UPDATE SET requests = requests + 1",
      billingPeriod(now),
    );
  }

  private ledger(period: string): LedgerRow {
    return (
      this.sql.exec<LedgerRow>("SELECT * FROM ledger WHERE period = ?", period).toArray()[0] ?? {
        period,
        plan_used_mc: 0,
        payg_used_mc: 0,
        tts_mc: 0,
        stt_mc: 0,
        llm_mc: 0,
        requests: 0,
      }
    );
  }

  private setPayg(mc: number) {
    this.paygMc = mc;
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('payg_mc', ?)", String(mc));
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('payg_dirty', '1')");
  }

  private snapshot(state: Loaded, now: number): UsageSnapshot {
    const period = billingPeriod(now);
    const l = this.ledger(period);
    const plan = effectivePlan(state.user.plan, state.user.planExpiresAt, now);
    const limitMc = PLANS[plan].monthlyCredits * 1000;
    const paygMc = Math.max(0, this.paygMc);
    const remainingMc = Math.max(0, Math.max(0, limitMc - l.plan_used_mc) + paygMc - this.reservedMc);
    return {
      period,
      plan,
      planExpiresAt: state.user.planExpiresAt,
      role: state.user.role,
      usedMc: l.plan_used_mc + l.payg_used_mc,
      limitMc,
      remainingMc,
      paygMc,
      reservedMc: this.reservedMc,
      breakdownMc: { tts: l.tts_mc, stt: l.stt_mc, llm: l.llm_mc },
      requestCount: l.requests,
    };
  }

  /** GCRA with burst = limit: of N simultaneous requests exactly `limit` pass; O(1) state per key. */
  private takeRateToken(rateKey: string, limit: number, now: number): RateState {
    const interval = RATE_LIMIT_WINDOW_MS / limit;
    const tat = Math.max(this.tat.get(rateKey) ?? now, now);
    const newTat = tat + interval;
    if (newTat - now > RATE_LIMIT_WINDOW_MS) {
      const waitMs = newTat - RATE_LIMIT_WINDOW_MS - now;
      return { limit, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    this.tat.set(rateKey, newTat);
    this.sql.exec("INSERT OR REPLACE INTO rate (k, tat) VALUES (?, ?)", rateKey, newTat);
    return { limit, remaining: Math.floor((RATE_LIMIT_WINDOW_MS - (newTat - now)) / interval) };
  }

  // ---- reads that are not on the hot path -------------------------------------------------------

  async usage(userId: string): Promise<UsageSnapshot & { daily: { day: string; kind: UsageKind; mc: number }[] }> {
    const state = await this.ensureLoaded(userId);
    const now = Date.now();
    const period = billingPeriod(now);
    const daily = this.sql
      .exec<{ day: string; kind: UsageKind; mc: number }>(
        "SELECT day, kind, mc FROM daily WHERE day LIKE ? ORDER BY day",
        `${period}-%`,
      )
      .toArray();
    return { ...this.snapshot(state, now), daily };
  }

  // ---- changes that would make the hot-path copy stale go through here --------------------------

  async revokeKey(userId: string, keyId: string): Promise<boolean> {
    const state = await this.ensureLoaded(userId);
    const now = Date.now();
    const ok = await catalog.revokeKey(this.env.DB, userId, keyId, now);
    if (ok) state.keys.set(keyId, { ...(state.keys.get(keyId) ?? { expiresAt: null }), revokedAt: now });
    this.tat.delete(keyId);
    return ok;
  }

  async rotateKey(userId: string, oldKeyId: string, next: catalog.NewApiKey): Promise<catalog.ApiKeyRow | null> {
    const state = await this.ensureLoaded(userId);
    const now = Date.now();
    const row = await catalog.rotateKey(this.env.DB, userId, oldKeyId, next, now);
    if (row) {
      state.keys.set(oldKeyId, { ...(state.keys.get(oldKeyId) ?? { expiresAt: null }), revokedAt: now });
      state.keys.set(row.id, { expiresAt: row.expiresAt, revokedAt: null });
    }
    return row;
  }

  async putProviderKey(userId: string, row: catalog.ProviderKeyInput): Promise<catalog.ProviderKeyRow> {
    const state = await this.ensureLoaded(userId);
    const saved = await catalog.upsertProviderKey(this.env.DB, row);
    state.providerKeys.set(row.provider, { ciphertext: row.ciphertext, iv: row.iv, keyVersion: row.keyVersion });
    return saved;
  }

  async deleteProviderKey(userId: string, provider: string): Promise<boolean> {
    const state = await this.ensureLoaded(userId);
    const ok = await catalog.deleteProviderKey(this.env.DB, userId, provider);
    state.providerKeys.delete(provider);
    return ok;
  }

  async updateUser(
    userId: string,
    patch: { plan?: string; planExpiresAt?: number | null; paygMc?: number; role?: string },
    audit: { actor: string; reason?: string },
  ): Promise<UsageSnapshot> {
    const state = await this.ensureLoaded(userId);
    const now = Date.now();
    await catalog.updateUser(this.env.DB, userId, patch, audit, now);
    if (patch.plan !== undefined) state.user.plan = patch.plan;
    if (patch.planExpiresAt !== undefined) state.user.planExpiresAt = patch.planExpiresAt;
    if (patch.role !== undefined) state.user.role = patch.role;
    if (patch.paygMc !== undefined) this.setPayg(patch.paygMc);
    this.sql.exec("DELETE FROM meta WHERE k = 'payg_dirty'");
    this.scheduleAlarm(now + MIRROR_DELAY_MS);
    return this.snapshot(state, now);
  }

  async addCredits(userId: string, amountMc: number, audit: { actor: string; reason?: string }): Promise<UsageSnapshot> {
    const state = await this.ensureLoaded(userId);
    const now = Date.now();
    const next = Math.max(0, this.paygMc) + amountMc;
    await catalog.setPaygWithAudit(this.env.DB, userId, next, amountMc, audit, now);
    this.setPayg(next);
    this.sql.exec("DELETE FROM meta WHERE k = 'payg_dirty'");
    this.scheduleAlarm(now + MIRROR_DELAY_MS);
    return this.snapshot(state, now);
  }

  /** Snapshot for cheap paying-user checks off the hot path (key creation). */
  async summary(userId: string): Promise<UsageSnapshot> {
    const state = await this.ensureLoaded(userId);
    return this.snapshot(state, Date.now());
  }

  // ---- the alarm: mirror to KV and D1, refund abandoned reservations, prune ---------------------

  private scheduleAlarm(at: number) {
    void this.ctx.storage.getAlarm().then((current) => {
      if (current === null || current > at) return this.ctx.storage.setAlarm(at);
    });
  }

  async alarm(): Promise<void> {
    const now = Date.now();
    const userId = this.userId;
    if (!userId) return;
    const state = await this.ensureLoaded(userId);
    // Refund reservations whose request never settled.
    const stale = this.sql
      .exec<{ id: string; amount_mc: number }>(
        "DELETE FROM reservations WHERE created_at <= ? RETURNING id, amount_mc",
        now - RESERVATION_TTL_MS,
      )
      .toArray();
    for (const r of stale) this.reservedMc -= r.amount_mc;
    this.sql.exec("DELETE FROM idempotency WHERE created_at <= ?", now - IDEMPOTENCY_TTL_MS);
    const oldest = new Date(now);
    oldest.setUTCMonth(oldest.getUTCMonth() - LEDGER_MONTHS_KEPT);
    this.sql.exec("DELETE FROM ledger WHERE period < ?", billingPeriod(oldest.getTime()));
    this.sql.exec("DELETE FROM daily WHERE day < ?", oldest.toISOString().slice(0, 10));

    const snap = this.snapshot(state, now);
    await this.env.USAGE.put(usageKvKey(userId, snap.period), JSON.stringify({ ...snap, updatedAt: now }), {
      expirationTtl: 400 * 24 * 3600,
    });
    const dirty = this.sql.exec("SELECT v FROM meta WHERE k = 'payg_dirty'").toArray().length > 0;
    if (dirty) {
      await catalog.mirrorPayg(this.env.DB, userId, Math.max(0, this.paygMc));
      this.sql.exec("DELETE FROM meta WHERE k = 'payg_dirty'");
    }
    const next = this.sql.exec<{ t: number | null }>("SELECT MIN(created_at) AS t FROM reservations").one().t;
    if (next !== null) await this.ctx.storage.setAlarm(next + RESERVATION_TTL_MS);
  }
}

class AccountMissing extends Error {}

export function usageKvKey(userId: string, period: string): string {
  return `usage:${userId}:${period}`;
}
