// A scoped key's rules as a request states them → as the catalog keeps them: credits to exact
// millicredits, provider aliases to ids, and a rate limit no higher than the plan's (API.md §7.1).
import type { Scope } from "../auth/scopes";
import { ApiError } from "../http/errors";
import type { KeyRulesPatch } from "../metering/contract";
import { MC_PER_CREDIT, type PlanId } from "../metering/plans";
import type { Prices } from "../metering/prices";
import { findProvider } from "../providers/registry";

export interface KeyRulesInput {
  name?: string | null;
  scopes?: Scope[] | null;
  providers?: string[] | null;
  monthlyCreditLimit?: number | null;
  requestsPerMinute?: number | null;
}

/**
 * Only the fields present in `input` appear in the patch; invalid ones answer 400 naming the field. The
 * plan's rate is the effective one (PRICES applied), as admission counts it.
 */
export function keyRulesPatch(input: KeyRulesInput, plan: PlanId, prices: Prices): KeyRulesPatch {
  const patch: KeyRulesPatch = {};
  if (input.name !== undefined) patch.name = input.name;
  if (input.scopes !== undefined) patch.scopes = input.scopes;
  if (input.providers !== undefined) patch.providers = input.providers === null ? null : providerIds(input.providers);
  if (input.monthlyCreditLimit !== undefined) {
    patch.monthlyCreditLimitMc = input.monthlyCreditLimit === null ? null : creditsToMc(input.monthlyCreditLimit);
  }
  if (input.requestsPerMinute !== undefined) {
    const planLimit = prices.plans[plan].requestsPerMinute;
    if (input.requestsPerMinute !== null && input.requestsPerMinute > planLimit) {
      throw invalid("requestsPerMinute", `at most ${planLimit}, the ${plan} plan's rate`);
    }
    patch.requestsPerMinute = input.requestsPerMinute;
  }
  return patch;
}

function providerIds(names: string[]): string[] {
  const ids = names.map((name, i) => {
    const adapter = findProvider(name);
    if (!adapter) throw invalid(`providers.${i}`, `unknown provider '${name}'`);
    return adapter.id;
  });
  return [...new Set(ids)];
}

/** Credits (e.g. 16.6) → exact integer millicredits; more than 3 decimals is refused. */
function creditsToMc(credits: number): number {
  const mc = Math.round(credits * MC_PER_CREDIT);
  if (Math.abs(mc - credits * MC_PER_CREDIT) > 1e-6) throw invalid("monthlyCreditLimit", "at most 3 decimals");
  return mc;
}

function invalid(path: string, message: string): ApiError {
  return new ApiError("validation_failed", `Invalid ${path}: ${message}.`, { fields: [{ path, message }] });
}
