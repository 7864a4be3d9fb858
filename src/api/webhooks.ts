// Webhooks' shapes (API.md §7.1): an endpoint (its secret only in the create answer), the events it
// takes, and its delivery log.
import { z } from "@hono/zod-openapi";
import { EVENT_TYPES } from "../account/events";
import type { DeliveryRow, WebhookRow } from "../db/webhooks";
import { displayText } from "./display-text";
import { IsoTime, iso } from "./schemas";

export const WebhookSchema = z
  .object({
    id: z.string().openapi({ example: "whk_0f3c…" }),
    url: z.string(),
    events: z.array(z.enum(EVENT_TYPES)),
    description: z.string().nullable(),
    createdAt: IsoTime,
  })
  .openapi("Webhook");

export const CreateWebhookBody = z
  .object({
    url: z
      .string()
      .min(1)
      .max(2048)
      .openapi({ description: "https to a public host (the audioUrl rules; WEBHOOK_ALLOW_HOSTS for exceptions)" }),
    events: z
      .array(z.enum(EVENT_TYPES))
      .min(1)
      .max(EVENT_TYPES.length)
      .refine((l) => new Set(l).size === l.length, "each event once")
      .openapi({ description: "The events to deliver (webhook.test is always delivered by the test route)" }),
    description: displayText(200).optional(),
  })
  .strict() // a misspelt field (`descripton`) is refused, not ignored
  .openapi("CreateWebhook");

export const CreatedWebhook = z
  .object({
    success: z.literal(true),
    webhook: WebhookSchema,
    secret: z
      .string()
      .openapi({ description: "whsec_… — the signing secret, shown this once", example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
  })
  .openapi("CreatedWebhook");

export const WebhookList = z.object({ success: z.literal(true), webhooks: z.array(WebhookSchema) }).openapi("WebhookList");

const EventSchema = z
  .object({ id: z.string(), type: z.enum(EVENT_TYPES), createdAt: IsoTime, data: z.record(z.string(), z.unknown()) })
  .openapi("WebhookEvent");
export const TestEventSent = z.object({ success: z.literal(true), event: EventSchema }).openapi("WebhookTestQueued");

export const DeliverySchema = z
  .object({
    id: z.string(),
    eventId: z.string(),
    type: z.enum(EVENT_TYPES),
    attempt: z.number().int().openapi({ description: "1 for the first try" }),
    status: z.number().int().nullable().openapi({ description: "The receiver's HTTP status; null when it gave none" }),
    outcome: z.enum(["delivered", "retrying", "failed"]),
    error: z.string().nullable(),
    durationMs: z.number().int(),
    createdAt: IsoTime,
  })
  .openapi("WebhookDelivery");
export const DeliveryList = z.object({ success: z.literal(true), deliveries: z.array(DeliverySchema) }).openapi("WebhookDeliveryList");

export function webhookView(row: WebhookRow) {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as (typeof EVENT_TYPES)[number][],
    description: row.description,
    createdAt: iso(row.createdAt),
  };
}

export function deliveryView(row: DeliveryRow) {
  return {
    id: row.id,
    eventId: row.eventId,
    type: row.type as (typeof EVENT_TYPES)[number],
    attempt: row.attempt,
    status: row.status,
    outcome: row.outcome as "delivered" | "retrying" | "failed",
    error: row.error,
    durationMs: row.durationMs,
    createdAt: iso(row.createdAt),
  };
}
