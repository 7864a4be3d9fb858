// What every request carries through the app (typed Hono context).
import type { Context } from "hono";
import type { Bindings } from "./bindings";
import type { Config } from "./config";
import type { Env } from "./env";
import type { Admitted, RateState, UsageSnapshot } from "./metering/contract";
import type { Prices } from "./metering/prices";

export type CredentialKind = "api_key" | "jwt" | "session";

/** Who is calling: resolved by the authenticate middleware (or the portal's session middleware). */
export interface Principal {
  kind: CredentialKind;
  userId: string;
  /** The API key's id (api_key principals only). */
  keyId?: string;
  isAdmin: boolean;
  /** Rate-limit bucket: per API key, per user otherwise. */
  rateKey: string;
  /**
   * When the credential stops being valid (ms): a JWT's `exp`, or a portal session's expiry as of this request
   * (Better Auth extends it while it is used; an API key's expiry is the Account object's to judge).
   */
  expiresAt?: number;
  /** The portal session's id (Better Auth's auth_session row; session principals only): signing out ends it. */
  portalSessionId?: string;
}

export interface AppVariables {
  requestId: string;
  config: Config;
  /** The effective prices and plans: the defaults with PRICES applied (parsed once per env). */
  prices: Prices;
  bindings: Bindings;
  principal: Principal;
  /** Set once the Account object answered admission; feeds the X-RateLimit-* / X-Usage-* headers. */
  rate?: RateState;
  usage?: UsageSnapshot;
  admission?: Admitted;
  /** The provider that served a proxied request and whether it bypassed metering. */
  providerUsed?: string;
  usageBypassed?: boolean;
  /** What this request was charged, once known before the answer (X-Usage-Cost; 0 when bypassed). */
  usageCostMc?: number;
  /** The settlement of the operation's latest provider attempt (a failover waits for it to close). */
  settlement?: { readonly closed: Promise<void> };
  /** Each provider tried, in order, with how it answered (X-Provider-Attempts). */
  providerAttempts?: string[];
  /** The providers a gateway operation may be served by, in order (its failover chain): a key's allow-list must hold them all. */
  chainProviders?: readonly string[];
  /** When the request arrived, and when its (last) provider was called and answered (Server-Timing). */
  timing?: { start: number; upstreamStart?: number; upstreamFirstByte?: number };
  /** The Idempotency-Key of a gateway request, once read. */
  idempotencyKey?: string;
  /** A metered operation's cost once it settled (a stream: when it ended); null when it was refunded. */
  settledCostMc?: Promise<number | null>;
  /** The method and path match a registered route (asked by every middleware that only runs on one). */
  knownRoute?: boolean;
  /** Whose request log a request without a principal goes to (a realtime session opened by a client token). */
  loggedUserId?: string;
  /** The API key such a session is charged to (the one that minted its client token): the request log's keyId. */
  loggedKeyId?: string;
}

export type AppEnv = { Bindings: Env; Variables: AppVariables };
export type Ctx = Context<AppEnv>;

/** The request's execution context; undefined where there is none (`app.request` in a unit test). */
export function executionCtxOf(c: Ctx): ExecutionContext | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}
