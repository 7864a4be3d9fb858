// Telling a user's webhooks about an event the worker saw (key created, rotated or revoked; the test
// event): one message on the webhook Queue, sent after the response (waitUntil), never on the request's
// path. The consumer fans it out to each webhook that subscribed (consumer.ts).
import {
  type DeliveryMessage,
  type EventMessage,
  type EventType,
  newEvent,
  type WebhookEvent,
  type WebhookMessage,
} from "../account/events";
import type { Ctx } from "../context";

/** Waits between tries of a Queue send that failed. */
const SEND_RETRY_DELAYS_MS = [100, 500, 2_000];

/** Emit `type` for the user's webhooks, after the response. */
export function emitEvent(c: Ctx, userId: string, type: EventType, data: Record<string, unknown>): WebhookEvent {
  const event = newEvent(type, data);
  const message: EventMessage = { kind: "event", userId, event };
  c.executionCtx.waitUntil(sendWithRetries(c.env.WEBHOOK_QUEUE, message, c.get("requestId")));
  return event;
}

/** Deliver `event` to one webhook only (the test event), after the response. */
export function deliverTo(c: Ctx, userId: string, webhookId: string, event: WebhookEvent): void {
  const message: DeliveryMessage = { kind: "delivery", userId, webhookId, event };
  c.executionCtx.waitUntil(sendWithRetries(c.env.WEBHOOK_QUEUE, message, c.get("requestId")));
}

async function sendWithRetries(queue: Queue, message: WebhookMessage, requestId: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await queue.send(message, { contentType: "json" });
      return;
    } catch (e) {
      const wait = SEND_RETRY_DELAYS_MS[attempt];
      if (wait === undefined) {
        console.error(`[${requestId}] webhook event ${message.event.type} could not be queued: ${String(e)}`);
        return;
      }
      await new Promise((ok) => setTimeout(ok, wait));
    }
  }
}
