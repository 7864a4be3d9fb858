// The Account object's alarm (after the object closed stale reservations): prune old records, and
// mirror the usage snapshot to KV (readable at the edge) and the PAYG balance to D1. KV takes one write
// per second per key, so the object mirrors at most that often.
import { mirrorPayg } from "../db/users";
import type { Env } from "../env";
import { type UsageSnapshot, usageKvKey } from "../metering/contract";
import type { IdempotencyRecords } from "../metering/idempotency-records";
import type { CreditLedger } from "../metering/ledger";

/** Mirror usage to KV no more often than this: KV takes one write per second per key. */
export const MIRROR_DELAY_MS = 1_000;
/** A reservation not settled by then is refunded by the alarm (its request died without settling). */
export const RESERVATION_TTL_MS = 30 * 60_000;
/** KV snapshots outlive the ledger's 13 months a little. */
const USAGE_KV_TTL_SECONDS = 400 * 24 * 3600;

export interface MirrorInput {
  env: Env;
  userId: string;
  ledger: CreditLedger;
  idempotency: IdempotencyRecords;
  /** Taken after the stale reservations were refunded. */
  snapshot: () => UsageSnapshot;
  now: number;
}

/** Returns when the alarm should run next (the oldest open reservation's expiry), or null. */
export async function mirror({ env, userId, ledger, idempotency, now, snapshot }: MirrorInput): Promise<number | null> {
  idempotency.prune(now);
  ledger.prune(now);
  const snap = snapshot();
  await env.USAGE.put(usageKvKey(userId, snap.period), JSON.stringify({ ...snap, updatedAt: now }), {
    expirationTtl: USAGE_KV_TTL_SECONDS,
  });
  if (ledger.paygDirty) {
    const balance = ledger.paygMc;
    await mirrorPayg(env.DB, userId, balance);
    ledger.markPaygMirrored(balance);
  }
  const oldest = ledger.oldestReservationAt();
  return oldest === null ? null : oldest + RESERVATION_TTL_MS;
}
