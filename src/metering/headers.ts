// The headers an authenticated /v1 response carries (API.md §5): the rate limit, the credits, and who
// served a proxied request.
import type { RateState, UsageSnapshot } from "./contract";
import { toCredits } from "./plans";

export interface MeteredVars {
  rate?: RateState;
  usage?: UsageSnapshot;
  providerUsed?: string;
  usageBypassed?: boolean;
  usageCostMc?: number;
  providerAttempts?: string[];
}

export function setUsageHeaders(
  h: Headers,
  { rate, usage, providerUsed, usageBypassed, usageCostMc, providerAttempts }: MeteredVars,
): void {
  if (rate) {
    h.set("x-ratelimit-limit", String(rate.limit));
    h.set("x-ratelimit-remaining", String(rate.remaining));
  }
  if (usage) {
    h.set("x-usage-current", String(toCredits(usage.usedMc)));
    h.set("x-usage-limit", String(toCredits(usage.limitMc)));
    h.set("x-usage-remaining", String(toCredits(usage.remainingMc)));
    h.set("x-usage-bypassed", usageBypassed ? "true" : "false");
  }
  if (providerUsed) h.set("x-provider-used", providerUsed);
  if (usageCostMc !== undefined) h.set("x-usage-cost", String(toCredits(usageCostMc)));
  // e.g. "elevenlabs=503, cartesia=200" (API.md §4.2)
  if (providerAttempts?.length) h.set("x-provider-attempts", providerAttempts.join(", "));
}
