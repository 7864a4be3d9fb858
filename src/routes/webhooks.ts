// Webhooks (API.md §7.1): create (the secret shown once), list, delete, send a test event, read the
// delivery log — under /v1/webhooks and, with the portal session, /portal/api/webhooks. Deliveries go
// through the webhook Queue (src/webhooks/); nothing here waits for a receiver.
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { newEvent } from "../account/events";
import { errors, IdParam, json, SuccessSchema } from "../api/schemas";
import { CreatedWebhook, CreateWebhookBody, DeliveryList, deliveryView, TestEventSent, WebhookList, webhookView } from "../api/webhooks";
import type { AppEnv, Ctx } from "../context";
import { seal } from "../crypto/provider-key-vault";
import * as webhooksTable from "../db/webhooks";
import { ApiError } from "../http/errors";
import { checkPublicUrl } from "../http/public-url";
import { deliverTo } from "../webhooks/emit";
import { secretName } from "../webhooks/secret";
import { newSecret } from "../webhooks/signing";

const DeliveriesQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).optional() });

async function createWebhook(c: Ctx, body: z.infer<typeof CreateWebhookBody>) {
  const verdict = checkPublicUrl(body.url, c.get("config").WEBHOOK_ALLOW_HOSTS);
  if (!verdict.allowed) {
    throw new ApiError(
      "invalid_webhook_url",
      `The webhook URL is not allowed (${verdict.reason}): it must be https to a public host name.`,
      {
        fields: [{ path: "url", message: verdict.reason }],
      },
    );
  }
  if (!c.get("config").PROVIDER_KEY_ENCRYPTION_KEY) {
    throw new ApiError("misconfigured", "Webhook secrets are sealed under PROVIDER_KEY_ENCRYPTION_KEY, which is not set.");
  }
  const userId = c.get("principal").userId;
  const id = `whk_${crypto.randomUUID().replaceAll("-", "")}`;
  const secret = newSecret();
  const sealed = await seal(c.get("config"), userId, secretName(id), secret);
  const row = await webhooksTable.createWebhook(c.get("bindings").db, {
    id,
    userId,
    url: verdict.url.href,
    events: JSON.stringify(body.events),
    description: body.description ?? null,
    secretCiphertext: sealed.ciphertext,
    secretIv: sealed.iv,
    secretKeyVersion: sealed.keyVersion,
    createdAt: Date.now(),
  });
  if (!row) throw new ApiError("webhook_limit_reached", `At most ${webhooksTable.MAX_WEBHOOKS} webhooks; delete one first.`);
  return { success: true as const, webhook: webhookView(row), secret };
}

async function webhookOr404(c: Ctx, id: string) {
  const row = await webhooksTable.getWebhook(c.get("bindings").db, c.get("principal").userId, id);
  if (!row) throw new ApiError("not_found", "No webhook with this id.");
  return row;
}

export function registerWebhookRoutes(app: OpenAPIHono<AppEnv>, base: string, tag: string, sec: Record<string, string[]>[]) {
  app.openapi(
    createRoute({
      method: "post",
      path: base,
      tags: [tag],
      summary: "Create a webhook (its signing secret is returned once)",
      security: sec,
      request: { body: { content: json(CreateWebhookBody), required: true } },
      responses: { 201: { description: "Created", content: json(CreatedWebhook) }, ...errors(400, 401, 403, 409, 429) },
    }),
    async (c) => c.json(await createWebhook(c, c.req.valid("json")), 201),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: base,
      tags: [tag],
      summary: "List webhooks (never their secrets)",
      security: sec,
      responses: { 200: { description: "Webhooks", content: json(WebhookList) }, ...errors(401, 403, 429) },
    }),
    async (c) => {
      const rows = await webhooksTable.listWebhooks(c.get("bindings").db, c.get("principal").userId);
      return c.json({ success: true as const, webhooks: rows.map(webhookView) }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: `${base}/{id}`,
      tags: [tag],
      summary: "Delete a webhook and its delivery log (nothing more is delivered to it, retries included)",
      security: sec,
      request: { params: IdParam },
      responses: { 200: { description: "Deleted", content: json(SuccessSchema) }, ...errors(401, 403, 404, 429) },
    }),
    async (c) => {
      const gone = await webhooksTable.deleteWebhook(c.get("bindings").db, c.get("principal").userId, c.req.valid("param").id);
      if (!gone) throw new ApiError("not_found", "No webhook with this id.");
      return c.json({ success: true as const }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: `${base}/{id}/test`,
      tags: [tag],
      summary: "Send a webhook.test event to this webhook (queued; see its deliveries)",
      security: sec,
      request: { params: IdParam },
      responses: { 202: { description: "Queued", content: json(TestEventSent) }, ...errors(401, 403, 404, 429) },
    }),
    async (c) => {
      const hook = await webhookOr404(c, c.req.valid("param").id);
      const event = newEvent("webhook.test", { webhookId: hook.id, message: "A test event from Voxgate." });
      deliverTo(c, c.get("principal").userId, hook.id, event);
      return c.json({ success: true as const, event }, 202);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: `${base}/{id}/deliveries`,
      tags: [tag],
      summary: "A webhook's delivery attempts, newest first (kept 30 days)",
      security: sec,
      request: { params: IdParam, query: DeliveriesQuery },
      responses: { 200: { description: "Deliveries", content: json(DeliveryList) }, ...errors(400, 401, 403, 404, 429) },
    }),
    async (c) => {
      const hook = await webhookOr404(c, c.req.valid("param").id);
      const rows = await webhooksTable.listDeliveries(
        c.get("bindings").db,
        c.get("principal").userId,
        hook.id,
        c.req.valid("query").limit ?? 50,
      );
      return c.json({ success: true as const, deliveries: rows.map(deliveryView) }, 200);
    },
  );
}
