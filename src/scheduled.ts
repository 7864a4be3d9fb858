// The cron job: move users whose paid plan expired to free (the Account object also checks expiry on
// every request, so this keeps the catalog honest rather than gating access). Ledger periods roll over
// by themselves (they are keyed by calendar month) and each Account's alarm prunes and refunds. It also
// keeps the request log and the webhook delivery log to their 30 days.
import { expiredPlanUsers } from "./db/users";
import { pruneDeliveries } from "./db/webhooks";
import type { Env } from "./env";
import { pruneRequestLog, REQUEST_LOG_KEPT_MS } from "./requestlog/retention";

export async function runScheduled(
  env: Env,
  now = Date.now(),
): Promise<{ demoted: string[]; requestsPruned: number; deliveriesPruned: number }> {
  const requestsPruned = await pruneRequestLog(env.DB, now);
  const deliveriesPruned = await pruneDeliveries(env.DB, now - REQUEST_LOG_KEPT_MS);
  const demoted = await expiredPlanUsers(env.DB, now);
  for (const userId of demoted) {
    await env.ACCOUNT.getByName(userId).updateUser(
      userId,
      { plan: "free", planExpiresAt: null },
      { actor: "scheduled", reason: "plan expired" },
    );
  }
  return { demoted, requestsPruned, deliveriesPruned };
}
