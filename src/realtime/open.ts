// Opening a realtime session at the upgrade: the credential (the request's header credential, or a client
// token) → ONE Account call that admits it (rate limit, the plan's session cap, the provider key, the first
// slice) → the provider's WebSocket → 101 with the client's socket, handed to the relay. Anything refused
// before the 101 is an HTTP error (401, 402, 403, 429, 502, 504) the client's WebSocket library reports.

import { keyAdmitted } from "../auth/authenticate";
import { byokOf } from "../auth/byok";
import { forgetKey } from "../auth/key-cache";
import type { Ctx } from "../context";
import { open as openSealed, unreadableStoredKey } from "../crypto/provider-key-vault";
import { sha256Hex } from "../crypto/sha256";
import { ApiError, attemptOutcome } from "../http/errors";
import type { RealtimeOperation, SessionOpened } from "../metering/contract";
import { REALTIME_KIND, type SlicePrice } from "../metering/realtime";
import { platformKeyVar } from "../providers/registry";
import type { ProviderAdapter, UpstreamContext } from "../providers/types";
import { answeredSubprotocol, clientTokenOf, tokenUser } from "./client-token";
import { jwtExpiresAt, upgradePrincipal } from "./credential";
import { Governor } from "./governor";
import type { UpstreamTarget } from "./providers/types";
import { Session } from "./session";
import { connectUpstream } from "./upstream";

/** A lease outlives several missed renewals: a worker that died frees its slot within a minute (default). */
const LEASE_CHECK_INTERVALS = 6;
const LEASE_MIN_MS = 30_000;

export interface RealtimeOpening {
  operation: RealtimeOperation;
  /** The provider's HTTP adapter: its id and name, BYOK header, platform key, error messages. */
  adapter: ProviderAdapter;
  slice: SlicePrice;
  target(upstream: UpstreamContext): UpstreamTarget;
  /** Starts relaying once both sockets are open. */
  relay(session: Session, opened: SessionOpened): void;
  /** The request is admitted here (by Account.openSession): the admission middleware must not admit it again. */
  admitted(): void;
  /** OpenAI's protocol: its error events, and the subprotocol it answers. */
  openAiProtocol?: boolean;
}

export async function openRealtime(c: Ctx, o: RealtimeOpening): Promise<Response> {
  const config = c.get("config");
  const principal = await upgradePrincipal(c);
  const token = principal ? undefined : clientTokenOf(c);
  const userId = principal?.userId ?? (token ? tokenUser(token.token) : undefined);
  if (!userId)
    throw new ApiError(
      "unauthorized",
      "Send an API key or JWT (Authorization / X-API-Key), or a client token (query token or subprotocol voxgate-token.<token>).",
    );
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("upgrade_required", "This is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket).");
  }
  checkHandshake(c);
  const byok = byokOf(c, o.adapter); // a header sent with no usable key in it: 400, as on the HTTP routes
  const platformKey = c.env[platformKeyVar(o.adapter)];
  const platform = typeof platformKey === "string" && platformKey.length > 0 ? platformKey : undefined;
  const intervalMs = config.REALTIME_CHECK_INTERVAL_SECONDS * 1000;
  const leaseMs = Math.max(LEASE_MIN_MS, LEASE_CHECK_INTERVALS * intervalMs);
  const account = c.get("bindings").account(userId);
  const tokenHash = token ? await sha256Hex(token.token) : undefined;

  o.admitted();
  const res = await account.openSession({
    userId,
    keyId: principal?.keyId,
    rateKey: principal?.rateKey ?? "user",
    jwtExpiresAt: jwtExpiresAt(c),
    credential: principal ? (principal.kind === "api_key" ? "api_key" : "jwt") : undefined,
    tokenHash,
    operation: o.operation,
    meter: {
      provider: o.adapter.id,
      kind: REALTIME_KIND[o.operation],
      byok: byok !== undefined,
      platformKeyAvailable: platform !== undefined,
      estimateMc: o.slice.sliceMc,
    },
    minimumMc: o.slice.minimumMc,
    leaseMs,
  });
  const counts = c.get("bindings").counts;
  if (counts) counts.d1 += res.d1Queries;
  if (res.rate) c.set("rate", res.rate);
  if (res.usage) c.set("usage", res.usage);
  if (!res.ok) {
    throw refusal(res.error, {
      rateRetryAfter: res.rate?.retryAfterSeconds,
      checkIntervalSeconds: config.REALTIME_CHECK_INTERVAL_SECONDS,
      keyId: principal?.keyId,
      adapter: o.adapter,
    });
  }
  // Admitted by the Account object (openSession): a use of the key.
  if (principal?.keyId) keyAdmitted(c, principal.keyId);
  c.set("providerUsed", o.adapter.id);
  c.set("usageBypassed", res.keySource !== "platform");

  // The session never started: nothing is charged, and its client token may open another.
  const giveBack = () =>
    c.executionCtx.waitUntil(
      account.closeSession({ userId, sessionId: res.sessionId, actualMc: 0, unusedTokenHash: tokenHash }).catch(() => {}),
    );
  let key = res.keySource === "byok" ? byok : res.keySource === "platform" ? platform : undefined;
  if (res.keySource === "stored" && res.storedKey) key = (await openSealed(config, userId, o.adapter.id, res.storedKey)) ?? undefined;
  if (key === undefined) {
    giveBack();
    // The one answer every route gives a stored key this deployment cannot decrypt (crypto/provider-key-vault.ts).
    if (res.keySource === "stored") throw unreadableStoredKey(o.adapter);
    throw new ApiError("provider_key_missing", `No key for provider '${o.adapter.id}' is available.`, { provider: o.adapter.id });
  }
  let upstream: WebSocket;
  try {
    upstream = await connectUpstream(
      o.adapter,
      o.target({ urls: config.providerUrls[o.adapter.id] ?? { api: "" }, key }),
      key,
      config.PROVIDER_TIMEOUT_MS,
      c.get("timing"),
    );
  } catch (e) {
    giveBack(); // nothing flowed: nothing is charged
    c.set("providerAttempts", [`${o.adapter.id}=${attemptOutcome(e)}`]);
    throw e;
  }
  // The provider accepted the session: one call, as X-Provider-Attempts and the request log count them.
  c.set("providerAttempts", [`${o.adapter.id}=101`]);

  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  server.binaryType = "arraybuffer"; // audio frames are handed on as they are, not read from Blobs
  let session: Session | undefined;
  const governor = new Governor({
    account,
    userId,
    sessionId: res.sessionId,
    metered: res.keySource === "platform",
    reservedMc: res.reservedMc,
    sliceMc: o.slice.sliceMc ?? 0,
    capMc: res.caps.maxCreditsMc ?? Number.POSITIVE_INFINITY,
    leaseMs,
    end: (ending) => session?.end(ending),
    requestId: c.get("requestId"),
  });
  session = new Session({
    client: server,
    upstream,
    governor,
    openAiProtocol: o.openAiProtocol ?? false,
    maxSeconds: Math.min(res.caps.maxSeconds ?? Number.POSITIVE_INFINITY, config.REALTIME_MAX_SECONDS),
    checkIntervalMs: intervalMs,
    // Not on /v1/realtime: OpenAI's protocol has no keep-alive message (its SDKs send WebSocket pings, which the
    // runtime answers without the Worker seeing them), and a text or push-to-talk client may rightly sit quiet.
    idleSeconds: o.openAiProtocol ? undefined : config.REALTIME_IDLE_SECONDS,
    providerTimeoutMs: config.PROVIDER_TIMEOUT_MS,
    providerKey: key,
  });
  o.relay(session, res);
  c.executionCtx.waitUntil(session.finished);
  // The request log's entry for the session waits for its end: its cost and its whole duration.
  c.set("settledCostMc", governor.settled);
  c.set("loggedUserId", userId);
  // A client token's session is logged under the key that minted it (and is charged to its limit).
  if (res.keyId) c.set("loggedKeyId", res.keyId);

  const headers = new Headers();
  const chosen = answeredSubprotocol(c, token);
  if (chosen) headers.set("sec-websocket-protocol", chosen);
  return new Response(null, { status: 101, webSocket: client, headers });
}

/**
 * The rest of an RFC 6455 handshake (§4.1, §4.2.1), judged before anything is admitted or opened: without it the
 * runtime refuses the 101 with a text/plain 400 only after the session was admitted, counted and its provider
 * socket opened (API.md §8: a failed request changes no state, and its error is JSON). A missing header is a
 * malformed request (400 naming it); a version other than 13 is 426 with `Sec-WebSocket-Version: 13`, as §4.4
 * prescribes, so a client that speaks several versions knows which to retry with.
 */
function checkHandshake(c: Ctx): void {
  const key = c.req.header("sec-websocket-key")?.trim();
  const version = c.req.header("sec-websocket-version")?.trim();
  const missing = !key ? "Sec-WebSocket-Key" : !version ? "Sec-WebSocket-Version" : undefined;
  if (missing) {
    const why = "is missing: every WebSocket handshake carries it (RFC 6455 §4.1); connect with a WebSocket client";
    throw new ApiError("validation_failed", `${missing} ${why}.`, { fields: [{ path: missing, message: why }] });
  }
  if (version !== "13") {
    throw new ApiError(
      "upgrade_required",
      `WebSocket version ${version} is not supported: Voxgate speaks version 13 (RFC 6455), as every current client does.`,
      undefined,
      { "sec-websocket-version": "13" },
    );
  }
}

interface RefusalContext {
  rateRetryAfter?: number;
  checkIntervalSeconds: number;
  keyId?: string;
  adapter: ProviderAdapter;
}

function refusal(error: string, { rateRetryAfter, checkIntervalSeconds, keyId, adapter }: RefusalContext): ApiError {
  switch (error) {
    case "invalid_credentials":
      if (keyId) forgetKey(keyId);
      return new ApiError("unauthorized", "This credential is revoked, expired, already used or unknown.");
    case "rate_limited":
      return new ApiError("rate_limited", "Rate limit reached.", undefined, { "retry-after": String(rateRetryAfter ?? 1) });
    case "session_limit_reached": {
      // No window to wait out: a slot frees when one of the user's sessions ends, which nothing foretells.
      // One check interval is the pace at which Voxgate itself re-judges every session (credits and
      // credentials are checked at each tick), so a client retrying after it sees any such end, and
      // retrying sooner mostly spends its rate limit. A client that ends a session itself may retry at once.
      const retryAfter = String(Math.max(1, Math.ceil(checkIntervalSeconds)));
      const message = "Your plan's limit of concurrent realtime sessions is reached; end one first.";
      return new ApiError("session_limit_reached", message, undefined, { "retry-after": retryAfter });
    }
    case "token_not_for_this":
      return new ApiError("forbidden", "This client token was issued for another operation or provider.");
    case "insufficient_credits":
      return new ApiError("insufficient_credits", "Not enough credits to start a realtime session; nothing was charged.");
    case "model_not_priced":
      return new ApiError("model_not_priced", "This model has no price on the platform key; use your own provider key for it.");
    case "scope_denied":
      return new ApiError("scope_denied", "This API key may not open realtime sessions with this provider (its scopes or providers).");
    case "key_credit_limit_reached":
      return new ApiError("key_credit_limit_reached", "This API key has reached its monthly credit limit.");
    default:
      return new ApiError(
        "provider_key_missing",
        `No key for provider '${adapter.id}': send a BYOK header, store a provider key, or ask the operator to configure one.`,
      );
  }
}
