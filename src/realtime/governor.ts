// The worker's side of a session's governance: it holds what the Account object reserved for the session,
// lets work through only while the reservation covers it, tops the reservation up a slice at a time
// before it runs out, renews the lease and re-checks the credential every check interval, and settles
// the exact cost once at the end (docs/ARCHITECTURE.md, "Realtime sessions").
import type { Account } from "../account/account";
import type { SessionRenewal } from "../metering/contract";
import { type Ending, endings } from "./protocol";

/** Waits between tries of the closing call (the Account object unreachable for a moment). */
const SETTLE_RETRY_DELAYS_MS = [100, 500, 2_000, 5_000];

export interface GovernorOptions {
  account: DurableObjectStub<Account>;
  userId: string;
  sessionId: string;
  /** Credits come from the user's balance (false: a BYOK or stored key; nothing is reserved or charged). */
  metered: boolean;
  reservedMc: number;
  sliceMc: number;
  /** The client token's maxCredits (applies to bypassed sessions too, at platform prices). */
  capMc: number;
  leaseMs: number;
  /** Ends the session (the governor decided it must stop). */
  end(ending: Ending): void;
  requestId: string;
}

export class Governor {
  reservedMc: number;
  /** The running cost the session was allowed to reach. */
  costMc = 0;
  private topUp?: Promise<SessionRenewal | undefined>;
  private lastRenewedAt = Date.now();
  /** The latest top-up was held short by the API key's monthly credit limit (not the account's credits). */
  private keyLimited = false;
  /** What the session was charged, once it was settled (the request log's cost for the session). */
  readonly settled: Promise<number>;
  private settledWith: (chargedMc: number) => void = () => {};

  constructor(private readonly o: GovernorOptions) {
    this.reservedMc = o.metered ? o.reservedMc : Number.POSITIVE_INFINITY;
    this.settled = new Promise((ok) => {
      this.settledWith = ok;
    });
  }

  get metered(): boolean {
    return this.o.metered;
  }

  /**
   * May the session's running cost become `nextMc` (the work is forwarded only if so)? True at once while
   * the reservation covers it; otherwise after a top-up, or false — the session was ended (4402).
   */
  admit(nextMc: number): boolean | Promise<boolean> {
    if (nextMc > this.o.capMc) {
      this.o.end(endings.credits("The session reached the maxCredits of its client token."));
      return false;
    }
    if (nextMc <= this.reservedMc) {
      this.costMc = nextMc;
      if (this.reservedMc - nextMc < this.o.sliceMc / 2) void this.requestTopUp(this.o.sliceMc);
      return true;
    }
    return this.cover(nextMc).then((covered) => {
      if (covered) {
        this.costMc = nextMc;
        return true;
      }
      this.o.end(
        this.keyLimited
          ? endings.keyCredits("This API key reached its monthly credit limit: the session was ended before spending past it.")
          : endings.credits("Credits ran out: the session was ended before spending past them."),
      );
      return false;
    });
  }

  /** Work already done (a provider's output): its cost is what it is; more credits are asked for, or the session ends. */
  observe(costMc: number): void {
    const admitted = this.admit(costMc);
    if (admitted instanceof Promise) void admitted;
  }

  /** Every check interval: renew the lease, re-check the credential, top up if headroom is short. */
  async tick(): Promise<void> {
    const need = this.o.metered && this.reservedMc - this.costMc < this.o.sliceMc / 2 ? this.o.sliceMc : 0;
    const renewal = await this.renew(need);
    if (!renewal && Date.now() - this.lastRenewedAt > this.o.leaseMs / 2) {
      // The Account object has been out of reach for half a lease: the session cannot be governed, and its
      // lease is about to run out (it would then be closed at its bound anyway).
      this.o.end(endings.internal("The session lost contact with its account and was ended."));
    }
  }

  /** Top up until `nextMc` is covered: a top-up already under way first, then one for what is still missing. */
  private async cover(nextMc: number): Promise<boolean> {
    for (let tries = 0; tries < 2 && nextMc > this.reservedMc; tries++) {
      const renewal = await this.requestTopUp(Math.max(this.o.sliceMc, nextMc - this.reservedMc));
      if (!renewal?.ok || renewal.grantedMc === 0) break;
    }
    return nextMc <= this.reservedMc;
  }

  /** Tell the Account object the exact cost, once (retried; idempotent there). */
  async settle(actualMc: number): Promise<void> {
    const req = { userId: this.o.userId, sessionId: this.o.sessionId, actualMc: this.o.metered ? actualMc : 0 };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.o.account.closeSession(req);
        this.settledWith(req.actualMc);
        return;
      } catch (e) {
        const wait = SETTLE_RETRY_DELAYS_MS[attempt];
        if (wait === undefined) {
          console.error(
            `[${this.o.requestId}] realtime settle failed after ${attempt + 1} tries (the lease's end will close it): ${String(e)}`,
          );
          this.settledWith(req.actualMc);
          return;
        }
        await new Promise((ok) => setTimeout(ok, wait));
      }
    }
  }

  private requestTopUp(needMc: number): Promise<SessionRenewal | undefined> {
    // One request at a time: a second asker waits for the first and then decides again.
    this.topUp ??= this.renew(needMc).finally(() => {
      this.topUp = undefined;
    });
    return this.topUp;
  }

  private async renew(needMc: number): Promise<SessionRenewal | undefined> {
    let renewal: SessionRenewal;
    try {
      renewal = await this.o.account.renewSession({
        userId: this.o.userId,
        sessionId: this.o.sessionId,
        needMc,
        leaseMs: this.o.leaseMs,
      });
    } catch {
      return undefined; // retried at the next tick
    }
    if (renewal.ok) {
      this.lastRenewedAt = Date.now();
      this.keyLimited = renewal.keyLimited === true;
      if (this.o.metered) this.reservedMc = renewal.reservedMc;
    } else if (renewal.error === "credential_expired") {
      this.o.end(endings.unauthorized("The credential of this session has expired (the JWT's exp or the API key's expiry passed)."));
    } else if (renewal.error === "invalid_credentials") {
      this.o.end(endings.unauthorized("The credential of this session was revoked."));
    } else if (renewal.error === "scope_denied") {
      this.o.end(
        endings.scopeDenied(
          "The API key of this session may no longer open realtime sessions with this provider (its scopes or providers changed).",
        ),
      );
    } else {
      this.o.end(endings.internal("The session's lease ran out and it was closed."));
    }
    return renewal;
  }
}
