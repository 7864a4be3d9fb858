// The events webhooks are told about (API.md §7.1) and the Queue messages that carry them. Made by the
// Account object (usage.threshold, credits.low — decided where the credits move) and by the worker (key
// changes, the test event); delivered by src/webhooks/ from the WEBHOOK_QUEUE consumer.

export const EVENT_TYPES = ["usage.threshold", "credits.low", "key.created", "key.rotated", "key.revoked", "webhook.test"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The body a receiver gets; its id is also the `webhook-id` header, the same on every retry. */
export interface WebhookEvent {
  id: string;
  type: EventType;
  createdAt: string;
  data: Record<string, unknown>;
}

/** An event of a user, to be fanned out to each of the user's webhooks that subscribed to its type. */
export interface EventMessage {
  kind: "event";
  userId: string;
  event: WebhookEvent;
}

/** One event for one webhook: delivered, and retried with backoff, on its own. */
export interface DeliveryMessage {
  kind: "delivery";
  userId: string;
  webhookId: string;
  event: WebhookEvent;
}

export type WebhookMessage = EventMessage | DeliveryMessage;

export function newEvent(type: EventType, data: Record<string, unknown>, now = Date.now()): WebhookEvent {
  const id = `evt_${crypto.randomUUID().replaceAll("-", "")}`;
  return { id, type, createdAt: new Date(now).toISOString(), data };
}
