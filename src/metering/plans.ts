// Plans and the billing period: the one place operators change them (API.md §6).
// Credits are kept as integer millicredits (mc): 1 credit = 1,000 mc, so pro-rated prices stay exact.

export const MC_PER_CREDIT = 1_000;

export const PLANS = {
  free: { monthlyCredits: 2_500, requestsPerMinute: 30, paid: false },
  starter: { monthlyCredits: 50_000, requestsPerMinute: 60, paid: true },
  pro: { monthlyCredits: 200_000, requestsPerMinute: 300, paid: true },
  scale: { monthlyCredits: 1_000_000, requestsPerMinute: 1_000, paid: true },
} as const;

export type PlanId = keyof typeof PLANS;
export const PLAN_IDS = Object.keys(PLANS) as [PlanId, ...PlanId[]];

/** Rate-limit window: limits above are per minute. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

export type UsageKind = "tts" | "stt" | "llm";

export function effectivePlan(plan: string, planExpiresAt: number | null, now: number): PlanId {
  if (!(plan in PLANS)) return "free";
  if (plan !== "free" && planExpiresAt !== null && planExpiresAt <= now) return "free";
  return plan as PlanId;
}

export function toCredits(mc: number): number {
  return mc / MC_PER_CREDIT;
}

/** Calendar month in UTC, e.g. "2026-11". */
export function billingPeriod(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}

/** Calendar day in UTC, e.g. "2026-11-22" (the portal's daily series). */
export function billingDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}
