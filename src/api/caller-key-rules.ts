// A scoped API key with the `keys` scope manages its user's keys, but may not give a key more than it has
// itself (API.md §7.1: its limits must hold) — else {"scopes":["keys"],"monthlyCreditLimit":1} could
// create an unrestricted key, PATCH its own limits away, rotate an unrestricted key to learn its
// plaintext, or revoke its owner's broader keys. So, when the caller is an API key, the key it creates,
// changes, rotates or revokes is (or ends up) within the caller's rules:
// scopes ⊆ the caller's, providers ⊆ the caller's allow-list (if it has one), a monthly credit limit and
// a rate limit ≤ the caller's (if it has them). A rule a create leaves out is inherited from the caller;
// anything that asks for more — null ("no limit") included — is 403 scope_denied naming the rule.
// A limit per key would not hold for the family, though: each new key would bring a fresh month of spend.
// So a key made by a key with a monthly credit limit spends from its maker's budget (each key's own limit
// is measured against the family's spend: src/metering/key-spend.ts), and such a caller may rotate — and
// so learn the plaintext of — only keys of its own budget. A key that expires makes none that outlives it
// (one the body gives no lifetime expires with it).
// JWTs and portal sessions are the account's owner: they are not bounded; the keys they (and keys with
// no monthly limit) make have budgets of their own.
import type { KeyState } from "../account/catalog-copy";
import { SCOPES, type Scope } from "../auth/scopes";
import { ApiError } from "../http/errors";
import type { KeyRulesPatch } from "../metering/contract";
import { toCredits } from "../metering/plans";

/** A key's rules; null: no restriction of that kind. */
export type KeyRules = Pick<KeyState, "scopes" | "providers" | "monthlyCreditLimitMc" | "requestsPerMinute">;

/** The API key making a request: its id, its rules and the budget it spends from. */
export type CallerKey = { id: string } & KeyRules & Pick<KeyState, "budgetKeyId" | "expiresAt">;

const budgetOf = (key: { id: string; budgetKeyId: string | null }) => key.budgetKeyId ?? key.id;

/** The budget a key made by `caller` spends from: the caller's if it has a monthly credit limit; else null (its own). */
export function newKeyBudget(caller: CallerKey | undefined): string | null {
  return caller && caller.monthlyCreditLimitMc !== null ? budgetOf(caller) : null;
}

/**
 * 403 scope_denied when a caller with a monthly credit limit would rotate a key of another budget: the new
 * plaintext would give it that budget's credits on top of its own.
 */
export function requireRotatableByCaller(caller: CallerKey, target: { id: string; budgetKeyId: string | null }): void {
  if (caller.monthlyCreditLimitMc === null || budgetOf(target) === budgetOf(caller)) return;
  const message = "may only rotate keys that spend from its own monthly credit limit (itself, its rotations and the keys it made)";
  throw new ApiError("scope_denied", `This API key ${message}.`, { fields: [{ path: "monthlyCreditLimit", message }] });
}

/**
 * 403 scope_denied when a key a caller that expires makes (or, rotating another key, mints) would outlive it:
 * a leaked short-lived key must not leave a lasting one behind. `expiresAt` null: it would never expire.
 */
export function requireLifetimeWithinCaller(caller: CallerKey, expiresAt: number | null, path: "expiresInDays" | "expiresAt"): void {
  if (caller.expiresAt === null || (expiresAt !== null && expiresAt <= caller.expiresAt)) return;
  const message = `must not outlive the calling API key, which expires at ${new Date(caller.expiresAt).toISOString()}`;
  throw new ApiError("scope_denied", `This API key may not make a key that outlives it: ${path} ${message}.`, {
    fields: [{ path, message }],
  });
}

/**
 * A key's rules after a PATCH: each rule the patch names replaces the key's (null lifts it); the rest stay.
 * Also a new key's rules: the caller's, patched by what the body asks for.
 */
export function patchedRules(key: KeyRules, patch: KeyRulesPatch): KeyRules {
  return {
    scopes: patch.scopes === undefined ? key.scopes : patch.scopes,
    providers: patch.providers === undefined ? key.providers : patch.providers,
    monthlyCreditLimitMc: patch.monthlyCreditLimitMc === undefined ? key.monthlyCreditLimitMc : patch.monthlyCreditLimitMc,
    requestsPerMinute: patch.requestsPerMinute === undefined ? key.requestsPerMinute : patch.requestsPerMinute,
  };
}

/** 403 scope_denied, naming each rule, when `key` would have more than the caller key: `doing` says how. */
export function requireWithinCaller(caller: KeyRules, key: KeyRules, doing: "create" | "change" | "rotate" | "revoke"): void {
  const over = beyondCaller(caller, key);
  if (over.length === 0) return;
  const what = over.map((f) => `${f.path} ${f.message}`).join("; ");
  throw new ApiError("scope_denied", `This API key may not ${doing} a key with more than it has itself: ${what}.`, { fields: over });
}

function beyondCaller(caller: KeyRules, key: KeyRules): { path: string; message: string }[] {
  const over: { path: string; message: string }[] = [];
  const callerScopes = caller.scopes;
  if (callerScopes !== null) {
    const extra = (key.scopes ?? SCOPES).filter((s: Scope) => !callerScopes.includes(s));
    if (extra.length) over.push({ path: "scopes", message: `may only be among ${callerScopes.join(", ")} (not ${extra.join(", ")})` });
  }
  const callerProviders = caller.providers;
  if (callerProviders !== null) {
    const extra = key.providers === null ? ["every provider"] : key.providers.filter((p) => !callerProviders.includes(p));
    if (extra.length)
      over.push({ path: "providers", message: `may only be among ${callerProviders.join(", ")} (not ${extra.join(", ")})` });
  }
  const limit = caller.monthlyCreditLimitMc;
  if (limit !== null && (key.monthlyCreditLimitMc === null || key.monthlyCreditLimitMc > limit)) {
    over.push({ path: "monthlyCreditLimit", message: `must be at most ${toCredits(limit)} credits` });
  }
  const rate = caller.requestsPerMinute;
  if (rate !== null && (key.requestsPerMinute === null || key.requestsPerMinute > rate)) {
    over.push({ path: "requestsPerMinute", message: `must be at most ${rate}` });
  }
  return over;
}
