// After each response: one structured JSON log line (Workers Logs, `[observability]` in wrangler.toml) and,
// for a user's API request, one request-log entry sent to the request-log Queue — both in waitUntil, never
// on the request's path. The entry waits for the request's cost where it is known only when a stream ends.
//
// Why a Queue rather than a D1 write per request or an isolate buffer: a write per request is a D1 round
// trip per request (even after the response it costs D1 capacity and a subrequest each); an isolate
// buffer flushed now and then loses what it holds when the isolate is evicted. The Queue takes entries
// durably — those finishing within 20 ms of each other in one message — and its consumer writes a batch
// of messages in one D1 batch (writer.ts).
//
// What is kept: ids, the method, the path without its query string, the key's id, the provider, the
// status, the cost, the duration, the provider attempts and the Server-Timing figures — never a body, a key or a header value.
import { routePath } from "hono/route";
import { looksLikeApiKey } from "../auth/api-key";
import { type Ctx, executionCtxOf } from "../context";

export interface RequestLogEntry {
  rowId: string;
  requestId: string;
  userId: string;
  createdAt: number;
  method: string;
  path: string;
  keyId: string | null;
  provider: string | null;
  status: number;
  costMc: number;
  durationMs: number;
  attempts: number;
  /** Server-Timing's figures (API.md §5): Voxgate's own time and the provider's time to its first byte; null when no provider was called. */
  gatewayMs: number | null;
  upstreamMs: number | null;
}

/** What the gateway added and what the provider took to its first byte (the Server-Timing header's figures). */
export interface GatewayTiming {
  gatewayMs: number;
  upstreamMs: number;
}

/**
 * A Queue message of the request log: the entries of the requests that ended close together in one
 * isolate (`requests`), or — sent before entries were grouped, still read — one entry (`request`).
 */
export type RequestLogMessage = { kind: "requests"; entries: RequestLogEntry[] } | { kind: "request"; entry: RequestLogEntry };

/** Our own resource ids (key_…, whk_…, agt_…: three letters, an underscore, 32 hex digits) are kept as they are. */
const OWN_ID = /^[a-z]{3}_[0-9a-f]{32}$/;
/** A long run of letters and digits: what keys and tokens look like, never a route's own words or an id we made. */
const TOKEN_RUN = /[A-Za-z0-9]{20,}/;

/**
 * The path as logged: without its query string, and with any segment that looks like a credential — an API
 * key pasted where its id belongs (DELETE /v1/keys/plabs_…), a provider key as a provider — replaced, so the
 * log never keeps a key however a request was written.
 */
export function loggedPath(path: string, keyPrefix: string): string {
  return path
    .split("/")
    .map((s) =>
      (s.startsWith(keyPrefix) && s.length > keyPrefix.length + 8) ||
      looksLikeApiKey(s, keyPrefix) ||
      (!OWN_ID.test(s) && TOKEN_RUN.test(s))
        ? "[redacted]"
        : s,
    )
    .join("/");
}

/** A user's API requests are logged; the portal's own calls and operators' admin calls are not. */
const LOGGED_PATHS = /^\/(v1|api\/v1)\//;

export function recordRequest(c: Ctx, startedAt: number, timing?: GatewayTiming): void {
  const ctx = executionCtxOf(c);
  if (!ctx) return; // without an execution context (app.request in a test) nothing can outlive the response
  const principal = c.get("principal") as Ctx["var"]["principal"] | undefined;
  const pattern = routePath(c, -1);
  const status = c.res.status;
  const settled = c.get("settledCostMc");
  ctx.waitUntil(
    (async () => {
      const costMc = (settled ? await settled : undefined) ?? c.get("usageCostMc") ?? 0;
      const durationMs = Date.now() - startedAt;
      const entry: RequestLogEntry = {
        rowId: crypto.randomUUID(),
        requestId: c.get("requestId"),
        userId: principal?.userId ?? c.get("loggedUserId") ?? "",
        createdAt: startedAt,
        method: c.req.method,
        path: loggedPath(c.req.path, c.get("config").API_KEY_PREFIX),
        keyId: principal?.keyId ?? c.get("loggedKeyId") ?? null,
        provider: c.get("providerUsed") ?? null,
        status,
        costMc,
        durationMs,
        // Providers called (a breaker's skip is not a call).
        attempts: (c.get("providerAttempts") ?? []).filter((a) => !a.endsWith("=skipped")).length,
        gatewayMs: timing?.gatewayMs ?? null,
        upstreamMs: timing?.upstreamMs ?? null,
      };
      console.log(
        JSON.stringify({
          type: "request",
          requestId: entry.requestId,
          userId: entry.userId || null,
          keyId: entry.keyId,
          route: pattern === "" || pattern.endsWith("*") ? null : `${entry.method} ${pattern}`,
          provider: entry.provider,
          status,
          cost: costMc / 1000,
          durationMs,
          attempts: entry.attempts,
          gatewayMs: entry.gatewayMs,
          upstreamMs: entry.upstreamMs,
        }),
      );
      if (!entry.userId || !LOGGED_PATHS.test(entry.path)) return;
      await enqueue(c.env.REQUEST_LOG_QUEUE, entry);
    })().catch((e) => console.error(`[${c.get("requestId")}] request log entry not sent: ${String(e)}`)),
  );
}

// Entries that finish close together in one isolate go to the Queue as one message: one send per
// BATCH_WINDOW_MS instead of one per request — and one Queue operation (billed per 64 KB written, read and
// deleted) instead of one per entry. Every request's waitUntil awaits the message its entry is in, so no
// entry is left in memory when the isolate may be evicted.
const BATCH_WINDOW_MS = 20;
/**
 * Entries per message: a consumer batch (up to 100 messages, wrangler.toml) stays ≤ 1,000 rows — one D1
 * batch well inside D1's limits — and a message under one 64 KB operation.
 */
const ENTRIES_MAX = 10;
const MESSAGE_BYTES_MAX = 48 * 1024;
let pending: { queue: Queue<RequestLogMessage>; entries: RequestLogEntry[]; bytes: number; sent: Promise<void> } | undefined;

function enqueue(queue: Queue<RequestLogMessage>, entry: RequestLogEntry): Promise<void> {
  // An entry's size: its path is the only long field (bounded by the URL a request can carry).
  const bytes = 256 + entry.path.length;
  if (pending && pending.queue === queue && pending.entries.length < ENTRIES_MAX && pending.bytes + bytes <= MESSAGE_BYTES_MAX) {
    pending.entries.push(entry);
    pending.bytes += bytes;
    return pending.sent;
  }
  const batch = { queue, entries: [entry], bytes, sent: Promise.resolve() };
  batch.sent = new Promise<void>((resolve) => setTimeout(resolve, BATCH_WINDOW_MS)).then(async () => {
    if (pending === batch) pending = undefined;
    await sendRetried(queue, { kind: "requests", entries: batch.entries });
  });
  pending = batch;
  return batch.sent;
}

/** Waits before a failed send is tried again: the message holds up to ENTRIES_MAX requests' entries. */
const RESEND_AFTER_MS = [100, 1_000];

/** One message to the Queue, tried again after a failed send (a Queue's brief unavailability loses no entry). */
async function sendRetried(queue: Queue<RequestLogMessage>, message: RequestLogMessage): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await queue.send(message, { contentType: "json" });
      return;
    } catch (e) {
      const wait = RESEND_AFTER_MS[attempt];
      if (wait === undefined) throw e;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
