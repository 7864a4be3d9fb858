// The cron job: move users whose paid plan expired to free (the Account object also checks expiry on
// every request, so this keeps the catalog honest rather than gating access). Ledger periods roll over
// by themselves (they are keyed by calendar month) and each Account's alarm prunes and refunds.
import { expiredPlanUsers } from "./db/users";
import type { Env } from "./env";

export async function runScheduled(env: Env, now = Date.now()): Promise<{ demoted: string[] }> {
  const demoted = await expiredPlanUsers(env.DB, now);
  for (const userId of demoted) {
    await env.ACCOUNT.getByName(userId).updateUser(
      userId,
      { plan: "free", planExpiresAt: null },
      { actor: "scheduled", reason: "plan expired" },
    );
  }
  return { demoted };
}
