// A reserved operation's charge (chat, transcription: their cost is known only at the end) is told to the
// user's Account object without a round trip of its own whenever it can be: it waits in this isolate for
// up to SETTLE_BATCH_MS and goes along with that user's next admission from here (the object applies it
// before deciding), or, when none comes in time, alone in one call with every other settle of that user
// waiting here. Under a steady stream of requests that halves the object calls of a reserved operation.
//
// Nothing is lost or counted twice. The request that opened a batch keeps itself alive (waitUntil) until
// its timer fired and, if no admission took the batch, the lone call ended; an admission that takes the
// batch is itself in flight until the object answered, and when that fails (or the user is unknown and
// the object did not apply them) it sends the batch alone from its own waitUntil. Every call is made and
// every promise settled in the request that owns it: Workers refuse I/O across requests. Settling is
// idempotent per reservation, so a batch sent twice charges once. While a settle waits, its reservation
// still counts as spent, so the user's limits stay bounded — only more conservative for those
// milliseconds. Refunds and idempotent requests' settles are never held (a failover, a retry with the same
// Idempotency-Key wait for them).
import type { SettleRequest } from "../metering/contract";

/** How long a charge waits for the user's next admission before it is sent alone. */
export const SETTLE_BATCH_MS = 200;

/** Sends a batch alone (with retries); resolves when the object took it or every try failed. */
export type SendAlone = (settles: SettleRequest[]) => Promise<void>;

/** Per Account namespace (tests run several environments in one isolate), per user: the waiting settles. */
const waiting = new WeakMap<object, Map<string, SettleRequest[]>>();

/**
 * Hold `settle` for the user's next admission from this isolate. The request that opens the user's batch
 * gets a promise to keep itself alive with: it resolves once the batch was taken, or sent alone by
 * `sendAlone` (called from that request's own timer); a request that joins an open batch gets none.
 */
export function holdSettle(namespace: object, settle: SettleRequest, sendAlone: SendAlone): Promise<void> | undefined {
  let users = waiting.get(namespace);
  if (!users) {
    users = new Map();
    waiting.set(namespace, users);
  }
  const open = users.get(settle.userId);
  if (open) {
    open.push(settle);
    return undefined;
  }
  const batch = [settle];
  users.set(settle.userId, batch);
  const byUser = users;
  return new Promise<void>((resolve) =>
    setTimeout(() => {
      if (byUser.get(settle.userId) !== batch) return resolve(); // an admission carried it
      byUser.delete(settle.userId);
      sendAlone(batch).finally(resolve);
    }, SETTLE_BATCH_MS),
  );
}

/** Take the user's waiting settles for an admission about to be sent (undefined: none waiting). */
export function takeSettles(namespace: object, userId: string): SettleRequest[] | undefined {
  const users = waiting.get(namespace);
  const batch = users?.get(userId);
  if (!users || !batch) return undefined;
  users.delete(userId);
  return batch;
}
