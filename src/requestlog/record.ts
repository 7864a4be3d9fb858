// After each response: one structured JSON log line (Workers Logs, `[observability]` in wrangler.toml) and,
// for a user's API request, one request-log entry sent to the request-log Queue — both in waitUntil, never
// on the request's path. The entry waits for the request's cost where it is known only when a stream ends.
//
// Why a Queue rather than a D1 write per request or an isolate buffer: a write per request is a D1 round
// trip per request (even after the response it costs D1 capacity and a subrequest each); an isolate
// buffer flushed now and then loses what it holds when the isolate is evicted. The Queue takes each entry
// durably for one cheap send, and its consumer writes up to 100 entries in one D1 batch (writer.ts).
//
// What is kept: ids, the method, the path without its query string, the key's id, the provider, the
// status, the cost, the duration and the provider attempts — never a body, a key or a header value.
import { routePath } from "hono/route";
import type { Ctx } from "../context";

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
}

export interface RequestLogMessage {
  kind: "request";
  entry: RequestLogEntry;
}

/** A user's API requests are logged; the portal's own calls and operators' admin calls are not. */
const LOGGED_PATHS = /^\/(v1|api\/v1)\//;

export function recordRequest(c: Ctx, startedAt: number): void {
  let ctx: ExecutionContext;
  try {
    ctx = c.executionCtx;
  } catch {
    return; // called without an execution context (app.request in a test): nothing can outlive the response
  }
  const principal = c.var.principal as Ctx["var"]["principal"] | undefined;
  const pattern = routePath(c, -1);
  const status = c.res.status;
  const settled = c.var.settledCostMc;
  ctx.waitUntil(
    (async () => {
      const costMc = (settled ? await settled : undefined) ?? c.var.usageCostMc ?? 0;
      const durationMs = Date.now() - startedAt;
      const entry: RequestLogEntry = {
        rowId: crypto.randomUUID(),
        requestId: c.var.requestId,
        userId: principal?.userId ?? "",
        createdAt: startedAt,
        method: c.req.method,
        path: c.req.path,
        keyId: principal?.keyId ?? null,
        provider: c.var.providerUsed ?? null,
        status,
        costMc,
        durationMs,
        // Providers called (a breaker's skip is not a call).
        attempts: (c.var.providerAttempts ?? []).filter((a) => !a.endsWith("=skipped")).length,
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
        }),
      );
      if (!principal || !LOGGED_PATHS.test(entry.path)) return;
      const message: RequestLogMessage = { kind: "request", entry };
      await c.env.REQUEST_LOG_QUEUE.send(message, { contentType: "json" });
    })().catch((e) => console.error(`[${c.var.requestId}] request log entry not sent: ${String(e)}`)),
  );
}
