// How an admitted gateway operation's credits end: exactly one of charge (the real cost, possibly known
// only when a stream ends) or refund. An operation reads
//   const settlement = new Settlement(c, admission, kind);
//   try { …call the provider…; settlement.charge(cost); return answer } catch (e) { settlement.refund(); throw e }
// so no error branch can forget a refund, and a second call is ignored. The Account object is told
// after the response (waitUntil): never a blocking round trip.
import type { Ctx } from "../context";
import type { Admitted, IdempotentResult } from "../metering/contract";
import type { UsageKind } from "../metering/plans";

export type Cost = number | null | Promise<number | null>;

export class Settlement {
  private done = false;

  constructor(
    private readonly c: Ctx,
    readonly admission: Admitted,
    private readonly kind: UsageKind,
  ) {}

  get settled(): boolean {
    return this.done;
  }

  /**
   * Charge the real cost in millicredits, now or when `cost` resolves; null (or a rejected promise)
   * refunds. `result` is what an idempotent retry gets replayed, read once the cost is known.
   */
  charge(cost: Cost, result?: () => IdempotentResult | undefined): void {
    if (this.done) return;
    this.done = true;
    this.tell(cost, result);
  }

  /** Give back everything admission reserved or charged (the provider failed, or nothing ran). */
  refund(): void {
    this.charge(null);
  }

  private tell(cost: Cost, result?: () => IdempotentResult | undefined) {
    const c = this.c;
    const { reservationId, charge: receipt } = this.admission;
    const idempotencyKey = c.var.idempotencyKey;
    // Bypassed requests (BYOK, stored key) reserved nothing and have no record to close.
    if (!reservationId && !receipt && !idempotencyKey) return;
    const { userId } = c.var.principal;
    // After the response: not a blocking round trip, so not counted as one.
    const account = c.env.ACCOUNT.getByName(userId);
    const kind = this.kind;
    c.executionCtx.waitUntil(
      Promise.resolve(cost)
        .catch(() => null)
        .then((actualMc) => {
          // Charged at admission (its cost was exact): only a failure needs a call, to refund it.
          if (receipt) return actualMc === null ? account.refund(userId, receipt) : undefined;
          const idempotency = idempotencyKey ? { key: idempotencyKey, result: actualMc === null ? undefined : result?.() } : undefined;
          return account.settle({ userId, reservationId, kind, actualMc, idempotency });
        })
        .catch((e) => console.error(`[${c.var.requestId}] settle failed: ${String(e)}`)),
    );
  }
}
