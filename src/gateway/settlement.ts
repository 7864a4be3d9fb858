// How an admitted gateway operation's credits end: exactly one of charge (the real cost, possibly known
// only when a stream ends) or refund. An operation reads
//   const { settlement } = await admitOperation(…);
//   try { …call the provider…; settlement.charge(cost); return answer } catch (e) { settlement.refund(); throw e }
// so no error branch can forget a refund, and a second call is ignored. The Account object is told
// after the response (waitUntil), never as a blocking round trip — a charge preferably with the user's next
// admission (settle-batch.ts) — and the call is retried: settling is idempotent per reservation and a
// refund per charge id, so a retry never charges or refunds twice.
// Should every try fail, the object's alarm closes the reservation at its bound (src/account/account.ts).
import type { Ctx } from "../context";
import type { Admitted, IdempotentResult } from "../metering/contract";
import type { UsageKind } from "../metering/plans";
import { holdSettle, type SendAlone } from "./settle-batch";

export type Cost = number | null | Promise<number | null>;

/** Waits between tries of the settle call (the Account object unreachable for a moment). */
const SETTLE_RETRY_DELAYS_MS = [100, 500, 2_000, 5_000];

export class Settlement {
  private done = false;
  private told: Promise<void> = Promise.resolve();

  constructor(
    private readonly c: Ctx,
    readonly admission: Admitted,
    private readonly kind: UsageKind,
    /** What admission reserved for this request (0: nothing, or charged at admission). */
    private readonly reservedMc = 0,
  ) {}

  get settled(): boolean {
    return this.done;
  }

  /** Resolves once the Account object was told (or every retry failed): a failover waits for it. */
  get closed(): Promise<void> {
    return this.told;
  }

  /** The request was metered (its credits come from the user's balance): false for BYOK and stored keys. */
  get metered(): boolean {
    return this.admission.keySource === "platform";
  }

  /**
   * Charge the real cost in millicredits, now or when `cost` resolves; null (or a rejected promise)
   * refunds. `result` is what an idempotent retry gets replayed, read once the cost is known.
   */
  charge(cost: Cost, result?: () => IdempotentResult | undefined): void {
    if (this.done) return;
    this.done = true;
    // What the request log and the log line report: the credits taken (0 when bypassed), once known.
    const metered = this.metered;
    this.c.set(
      "settledCostMc",
      Promise.resolve(cost)
        .catch(() => null)
        .then((mc) => (mc === null ? null : metered ? mc : 0)),
    );
    if (metered && (cost === null || typeof cost === "number")) this.showSettled(cost);
    // A replay answers as the first did: bypassed when a BYOK or stored key served it (API.md §5).
    const kept =
      result &&
      (() => {
        const r = result();
        return r && { ...r, headers: { ...r.headers, "x-usage-bypassed": String(!metered) } };
      });
    this.tell(cost, kept);
  }

  /** Show `cost` in the X-Usage-* headers as if charged (an exact cost, before its charge is told). */
  showCost(cost: number): void {
    if (this.metered && !this.done) this.showSettled(cost);
  }

  /**
   * A cost (or a refund) known before the answer's headers go — a JSON answer, a failure: the X-Usage-*
   * headers show the credits as this settlement leaves them, not as admission left them — the reservation
   * replaced by what it cost, a charge made at admission given back by a refund.
   */
  private showSettled(cost: number | null) {
    const usage = this.admission.usage;
    const held = this.admission.charge?.amountMc ?? 0;
    const spent = cost ?? 0;
    if (this.admission.reservationId) {
      this.c.set("usage", {
        ...usage,
        usedMc: usage.usedMc + spent,
        remainingMc: usage.remainingMc + this.reservedMc - spent,
        reservedMc: usage.reservedMc - this.reservedMc,
      });
    } else if (held > 0 && cost === null) {
      this.c.set("usage", { ...usage, usedMc: usage.usedMc - held, remainingMc: usage.remainingMc + held });
    }
  }

  /** Give back everything admission reserved or charged (the provider failed, or nothing ran). */
  refund(): void {
    this.charge(null);
  }

  private tell(cost: Cost, result?: () => IdempotentResult | undefined) {
    const c = this.c;
    const { reservationId, charge: receipt } = this.admission;
    const idempotencyKey = c.get("idempotencyKey");
    // Bypassed requests (BYOK, stored key) reserved nothing and have no record to close.
    if (!reservationId && !receipt && !idempotencyKey) return;
    const { userId } = c.get("principal");
    // After the response: not a blocking round trip, so not counted as one.
    const account = c.env.ACCOUNT.getByName(userId);
    const kind = this.kind;
    const requestId = c.get("requestId");
    this.told = Promise.resolve(cost)
      .catch(() => null)
      .then((actualMc) => {
        // Charged at admission (its cost was exact): only a failure needs a call, to refund it.
        if (receipt) return actualMc === null ? withRetries(() => account.refund(userId, receipt.id), requestId) : undefined;
        const idempotency = idempotencyKey ? { key: idempotencyKey, result: actualMc === null ? undefined : result?.() } : undefined;
        const settle = { userId, reservationId, kind, actualMc, idempotency };
        // A charge rides along with the user's next admission from this isolate (settle-batch.ts).
        if (actualMc !== null && !idempotency) return holdSettle(c.env.ACCOUNT, settle, sendSettlesAlone(c, userId));
        return withRetries(() => account.settle(settle), requestId);
      });
    c.executionCtx.waitUntil(this.told);
  }
}

/** Send a user's held settles in one call of their own (none of the user's admissions carried them). */
export function sendSettlesAlone(c: Ctx, userId: string): SendAlone {
  const requestId = c.get("requestId");
  return (settles) => withRetries(() => c.env.ACCOUNT.getByName(userId).settleMany(userId, settles), requestId);
}

async function withRetries(call: () => Promise<unknown>, requestId: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await call();
      return;
    } catch (e) {
      const wait = SETTLE_RETRY_DELAYS_MS[attempt];
      if (wait === undefined) {
        console.error(`[${requestId}] settle failed after ${attempt + 1} tries (the Account object's alarm will close it): ${String(e)}`);
        return;
      }
      await new Promise((ok) => setTimeout(ok, wait));
    }
  }
}
