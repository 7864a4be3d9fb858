// Realtime sessions in the user's Account object (API.md §4.3): client tokens, the per-plan cap on
// concurrent sessions, leases, and the slices of credit a session holds while it runs. The Account
// object calls these with no await between reading and writing (after one optional key read), so a cap
// or a balance is never passed by two sessions opening at once.
//
// A session's credits are ONE ledger reservation that grows by a slice at each top-up (released and
// reserved again with the new total, which also keeps it fresh for the ledger's stale-reservation
// alarm); at the end it is released and the exact cost charged once, in the period the session began.
// A session whose worker died stops renewing its lease: at the lease's end it is closed at its bound
// (what it had reserved: the most it could have forwarded), reversibly — a late close corrects it.
//
// A session's credential is judged in one place, judgeCredential() (session-credential.ts), at the open
// and at each renewal — at a renewal with the key's scopes and providers, against the session's provider.
import type {
  KeySource,
  Meter,
  RateState,
  RealtimeTokenRequest,
  SessionCloseRequest,
  SessionOpenRequest,
  SessionOpenResult,
  SessionRefusal,
  SessionRenewal,
  SessionRenewRequest,
  UsageSnapshot,
} from "../metering/contract";
import type { CreditLedger } from "../metering/ledger";
import { effectivePlan, type PlanId, type UsageKind } from "../metering/plans";
import { REALTIME_SESSIONS_PER_PLAN } from "../metering/realtime";
import type { CatalogCopy } from "./catalog-copy";
import { keyCreditsLeft, keyRequestsPerMinute, outsideKeyScope } from "./key-rules";
import { type CredentialColumns, type CredentialReads, judgeCredential } from "./session-credential";

/** Closed sessions and spent or expired tokens are kept this long (a late close finds its session). */
const KEEP_CLOSED_MS = 24 * 60 * 60_000;

/** What the sessions need from the Account object: its catalog copy and its private steps. */
export interface AccountHost extends CredentialReads {
  copy: CatalogCopy;
  ledger: CreditLedger;
  takeRate(rateKey: string, limit: number, now: number): RateState;
  /** The plan's requests per minute, as configured (PRICES applied). */
  requestsPerMinute(plan: PlanId): number;
  keySource(meter: Meter): KeySource | undefined;
  snapshot(now: number): UsageSnapshot;
  limitMc(at: number): number;
  scheduleAlarm(at: number): void;
  d1Queries(): number;
}

interface TokenRow extends CredentialColumns, Record<string, SqlStorageValue> {
  operation: string;
  provider: string | null;
  max_seconds: number | null;
  max_credits_mc: number | null;
  credential: string;
  expires_at: number;
  used_at: number | null;
}

interface SessionRow extends CredentialColumns, Record<string, SqlStorageValue> {
  id: string;
  kind: string;
  /** null for a session opened before the column existed (its provider is then not re-judged). */
  provider: string | null;
  metered: number;
  reservation_id: string | null;
  reserved_mc: number;
  started_at: number;
  lease_until: number;
  state: string;
}

export class RealtimeSessions {
  static createTables(sql: SqlStorage) {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS rt_tokens (hash TEXT PRIMARY KEY, operation TEXT NOT NULL, provider TEXT,
        max_seconds INTEGER, max_credits_mc INTEGER, key_id TEXT, credential TEXT NOT NULL, expires_at INTEGER NOT NULL,
        used_at INTEGER);
      CREATE TABLE IF NOT EXISTS rt_sessions (id TEXT PRIMARY KEY, kind TEXT NOT NULL, provider TEXT, key_id TEXT, metered INTEGER NOT NULL,
        reservation_id TEXT, reserved_mc INTEGER NOT NULL, started_at INTEGER NOT NULL, lease_until INTEGER NOT NULL,
        state TEXT NOT NULL, closed_at INTEGER);
    `);
    // Columns added since: each added where it is missing (objects created before it).
    for (const table of ["rt_tokens", "rt_sessions"]) {
      const columns = new Set(
        sql
          .exec<{ name: string }>(`PRAGMA table_info(${table})`)
          .toArray()
          .map((c) => c.name),
      );
      for (const [column, type] of [
        ["jwt_expires_at", "INTEGER"],
        ["portal_session_id", "TEXT"],
        ["provider", "TEXT"], // rt_tokens has it from the start
      ] as const) {
        if (!columns.has(column)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
      }
    }
  }

  constructor(private readonly sql: SqlStorage) {}

  /** Store a client token's hash with its caps; it opens one session, until it expires. */
  issueToken(req: RealtimeTokenRequest, now: number): void {
    this.sql.exec("DELETE FROM rt_tokens WHERE expires_at <= ?", now - KEEP_CLOSED_MS);
    this.sql.exec(
      `INSERT INTO rt_tokens (hash, operation, provider, max_seconds, max_credits_mc, key_id, jwt_expires_at, portal_session_id,
         credential, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      req.tokenHash,
      req.operation,
      req.provider ?? null,
      req.maxSeconds ?? null,
      req.maxCreditsMc ?? null,
      req.keyId ?? null,
      req.jwtExpiresAt ?? null,
      req.portalSessionId ?? null,
      req.credential,
      req.expiresAt,
    );
  }

  /**
   * Open a session: the credential (header key or client token) → the rate limit → the plan's session
   * cap → the provider key → the first slice. A refusal changes nothing but the rate limit's count.
   */
  async open(req: SessionOpenRequest, host: AccountHost): Promise<SessionOpenResult> {
    const refuse = (error: SessionRefusal, rate?: RateState, usage?: UsageSnapshot) =>
      ({ ok: false, error, rate, usage, d1Queries: host.d1Queries() }) as const;
    const token = req.tokenHash ? this.token(req.tokenHash) : undefined;
    if (req.tokenHash && (!token || token.used_at !== null || token.expires_at <= Date.now())) return refuse("invalid_credentials");
    const cred = token ?? { key_id: req.keyId ?? null, jwt_expires_at: req.jwtExpiresAt ?? null, portal_session_id: null };
    const keyId = cred.key_id ?? undefined;
    const { key, lapse } = await judgeCredential(cred, host);
    if (lapse) return refuse("invalid_credentials");
    // From here on synchronous: nothing interleaves, so the cap and the balance are exact.
    const now = Date.now();
    if (req.tokenHash && this.token(req.tokenHash)?.used_at !== null) return refuse("invalid_credentials");
    const plan = effectivePlan(host.copy.user.plan, host.copy.user.planExpiresAt, now);
    // A scoped key (API.md §7.1): its own rate (never above the plan's), its scopes and providers.
    const rate = host.takeRate(
      token ? (token.key_id ?? "user") : req.rateKey,
      keyRequestsPerMinute(key, host.requestsPerMinute(plan)),
      now,
    );
    if (rate.retryAfterSeconds !== undefined) return refuse("rate_limited", rate, host.snapshot(now));
    if (outsideKeyScope(key, { userId: req.userId, rateKey: req.rateKey, scope: "realtime", meter: req.meter })) {
      return refuse("scope_denied", rate, host.snapshot(now));
    }
    if (token && (token.operation !== req.operation || (token.provider !== null && token.provider !== req.meter.provider))) {
      return refuse("token_not_for_this", rate, host.snapshot(now));
    }
    this.expire(now, host);
    const live = Number(this.sql.exec("SELECT COUNT(*) AS n FROM rt_sessions WHERE state = 'open'").one().n);
    if (live >= REALTIME_SESSIONS_PER_PLAN[plan]) return refuse("session_limit_reached", rate, host.snapshot(now));
    const keySource = host.keySource(req.meter);
    if (!keySource) return refuse("provider_key_missing", rate, host.snapshot(now));

    const kind = req.meter.kind;
    let reservationId: string | null = null;
    let reservedMc = 0;
    if (keySource === "platform") {
      if (req.meter.estimateMc === null) return refuse("model_not_priced", rate, host.snapshot(now));
      const remaining = host.snapshot(now).remainingMc;
      // A user in debt pays it off first; a balance below one unit of work cannot start anything.
      if (host.ledger.inDebt || remaining < Math.max(1, req.minimumMc)) return refuse("insufficient_credits", rate, host.snapshot(now));
      // A key with a monthly limit holds its session to what the key has left, like the user's credits.
      const keyLeft = keyCreditsLeft(key, keyId, host.ledger, now);
      if (keyLeft < Math.max(1, req.minimumMc)) return refuse("key_credit_limit_reached", rate, host.snapshot(now));
      reservedMc = Math.min(req.meter.estimateMc, remaining, keyLeft);
      reservationId = host.ledger.reserve(kind, reservedMc, now, undefined, keyId);
    }
    if (req.tokenHash) this.sql.exec("UPDATE rt_tokens SET used_at = ? WHERE hash = ?", now, req.tokenHash);
    const sessionId = `rts_${crypto.randomUUID().replaceAll("-", "")}`;
    const leaseUntil = now + req.leaseMs;
    this.sql.exec(
      `INSERT INTO rt_sessions (id, kind, provider, key_id, jwt_expires_at, portal_session_id, metered, reservation_id, reserved_mc,
         started_at, lease_until, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')`,
      sessionId,
      kind,
      req.meter.provider,
      cred.key_id,
      cred.jwt_expires_at,
      cred.portal_session_id,
      keySource === "platform" ? 1 : 0,
      reservationId,
      reservedMc,
      now,
      leaseUntil,
    );
    host.scheduleAlarm(leaseUntil);
    return {
      ok: true,
      sessionId,
      keySource,
      storedKey: keySource === "stored" ? host.copy.providerKeys.get(req.meter.provider) : undefined,
      credential: token ? (token.credential as "api_key" | "jwt") : (req.credential ?? (keyId ? "api_key" : "jwt")),
      reservedMc,
      caps: {
        provider: token?.provider ?? undefined,
        maxSeconds: token?.max_seconds ?? undefined,
        maxCreditsMc: token?.max_credits_mc ?? undefined,
      },
      keyId,
      rate,
      usage: host.snapshot(now),
      d1Queries: host.d1Queries(),
    };
  }

  /**
   * Renew a session's lease, check its credential still holds (revoked, expired, or its key no longer allowed
   * this session ends it), and top its reservation up by what it asks, as far as the credits left allow
   * (`grantedMc` may be less, or 0).
   */
  async renew(req: SessionRenewRequest, host: AccountHost): Promise<SessionRenewal> {
    const first = this.session(req.sessionId);
    if (first?.state !== "open") return { ok: false, error: "session_closed" };
    const { lapse } = await judgeCredential(first, host, { userId: req.userId, provider: first.provider });
    if (lapse) return { ok: false, error: lapse };
    const now = Date.now();
    const row = this.session(req.sessionId);
    if (row?.state !== "open") return { ok: false, error: "session_closed" };
    let [granted, keyLimited, reservationId] = [0, false, row.reservation_id];
    if (row.metered) {
      const keyId = row.key_id ?? undefined;
      const remaining = host.snapshot(now).remainingMc;
      const keyLeft = keyCreditsLeft(keyId ? await host.readKey(keyId) : undefined, keyId, host.ledger, now);
      if (req.needMc > 0 && !host.ledger.inDebt && remaining > 0 && keyLeft > 0) granted = Math.min(req.needMc, remaining, keyLeft);
      keyLimited = !host.ledger.inDebt && keyLeft < Math.min(req.needMc, remaining);
      if (row.reservation_id) host.ledger.release(row.reservation_id);
      reservationId = host.ledger.reserve(row.kind as UsageKind, row.reserved_mc + granted, now, undefined, keyId);
    }
    const leaseUntil = now + req.leaseMs;
    this.sql.exec(
      "UPDATE rt_sessions SET reservation_id = ?, reserved_mc = ?, lease_until = ? WHERE id = ?",
      reservationId,
      row.reserved_mc + granted,
      leaseUntil,
      row.id,
    );
    host.scheduleAlarm(leaseUntil);
    return { ok: true, reservedMc: row.reserved_mc + granted, grantedMc: granted, keyLimited };
  }

  /**
   * End a session: release its reservation (or reverse the bound the lease's end charged) and charge the
   * exact cost once, in the period the session began. A second close changes nothing. A session that never
   * ran (its provider refused it) gives back the client token its open used (marked used at its start).
   */
  close(req: SessionCloseRequest, host: AccountHost): void {
    const row = this.session(req.sessionId);
    if (!row || row.state === "closed") return;
    const now = Date.now();
    if (req.unusedTokenHash)
      this.sql.exec("UPDATE rt_tokens SET used_at = NULL WHERE hash = ? AND used_at = ?", req.unusedTokenHash, row.started_at);
    if (row.state === "open" && row.reservation_id) host.ledger.release(row.reservation_id);
    // Closed at its bound by the lease's end: reverse that and charge the truth — unless it is no longer
    // reversible (a close more than a day late), when the bound stands.
    const reopened = row.state === "open" || host.ledger.reverse(row.id) !== undefined;
    if (reopened) {
      if (row.metered && req.actualMc > 0) {
        host.ledger.charge(row.kind as UsageKind, req.actualMc, host.limitMc(row.started_at), row.started_at, undefined, row.key_id);
      } else {
        host.ledger.countRequest(row.started_at);
      }
    }
    this.sql.exec("UPDATE rt_sessions SET state = 'closed', closed_at = ?, lease_until = ? WHERE id = ?", now, now, row.id);
    this.sql.exec("DELETE FROM rt_sessions WHERE state != 'open' AND closed_at <= ?", now - KEEP_CLOSED_MS);
  }

  /**
   * Sessions whose lease ran out (their worker died, or lost the Account object for too long) are closed
   * at their bound, reversibly, which frees their slot. Returns when the next lease runs out, or null.
   */
  expire(now: number, host: AccountHost): number | null {
    const dead = this.sql.exec<SessionRow>("SELECT * FROM rt_sessions WHERE state = 'open' AND lease_until <= ?", now).toArray();
    for (const row of dead) {
      if (row.reservation_id) host.ledger.release(row.reservation_id);
      const charged = row.metered === 1 && row.reserved_mc > 0;
      if (charged)
        host.ledger.charge(row.kind as UsageKind, row.reserved_mc, host.limitMc(row.started_at), row.started_at, row.id, row.key_id);
      else host.ledger.countRequest(row.started_at);
      this.sql.exec("UPDATE rt_sessions SET state = ?, closed_at = ? WHERE id = ?", charged ? "expired" : "closed", now, row.id);
    }
    return this.sql.exec<{ t: number | null }>("SELECT MIN(lease_until) AS t FROM rt_sessions WHERE state = 'open'").one().t;
  }

  /** Sessions holding a slot now (for tests and the usage view). */
  openCount(): number {
    return Number(this.sql.exec("SELECT COUNT(*) AS n FROM rt_sessions WHERE state = 'open'").one().n);
  }

  private token(hash: string): TokenRow | undefined {
    return this.sql.exec<TokenRow>("SELECT * FROM rt_tokens WHERE hash = ?", hash).toArray()[0];
  }

  private session(id: string): SessionRow | undefined {
    return this.sql.exec<SessionRow>("SELECT * FROM rt_sessions WHERE id = ?", id).toArray()[0];
  }
}
