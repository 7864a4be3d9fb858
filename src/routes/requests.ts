// GET /v1/requests (and, with the portal session, /portal/api/requests): the caller's requests of the
// last 30 days, newest first, a page at a time (API.md §7.1). Entries arrive through the request-log
// Queue a few seconds after each response.
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { decodeCursor, encodeCursor, RequestLogPage, RequestLogQuery, requestLogView } from "../api/request-log";
import { errors, json } from "../api/schemas";
import type { AppEnv } from "../context";
import { listRequests } from "../db/request-log";
import { ApiError } from "../http/errors";
import { REQUEST_LOG_KEPT_MS } from "../requestlog/retention";

export function registerRequestLogRoutes(app: OpenAPIHono<AppEnv>, path: string, tag: string, sec: Record<string, string[]>[]) {
  app.openapi(
    createRoute({
      method: "get",
      path,
      tags: [tag],
      summary: "Your requests of the last 30 days, newest first (no bodies, keys or header values)",
      security: sec,
      request: { query: RequestLogQuery },
      responses: { 200: { description: "A page of requests", content: json(RequestLogPage) }, ...errors(400, 401, 429) },
    }),
    async (c) => {
      const { limit = 50, cursor } = c.req.valid("query");
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      if (cursor !== undefined && !after) {
        throw new ApiError("validation_failed", "The cursor is not one this API gave.", {
          fields: [{ path: "cursor", message: "unknown cursor" }],
        });
      }
      const since = Date.now() - REQUEST_LOG_KEPT_MS;
      const rows = await listRequests(c.get("bindings").db, c.get("principal").userId, since, limit + 1, after);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return c.json(
        { success: true as const, requests: page.map(requestLogView), nextCursor: rows.length > limit && last ? encodeCursor(last) : null },
        200,
      );
    },
  );
}
