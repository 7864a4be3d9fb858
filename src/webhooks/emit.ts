// Telling a user's webhooks about an event the worker saw (key created, rotated or revoked; the test
// event), after the response (waitUntil), never on the request's path. A user's event goes through the
// user's Account object, which keeps it in its outbox until the webhook Queue took it (at least once, as
// the events it decides itself); the consumer fans it out to each webhook that subscribed (consumer.ts).
// The test event for one webhook goes to the Queue directly: the user is there to press the button again.
import { type DeliveryMessage, type EventMessage, type EventType, newEvent, type WebhookEvent } from "../account/events";
import type { Ctx } from "../context";

/** Waits between tries of a send that failed. */
const SEND_RETRY_DELAYS_MS = [100, 500, 2_000];

/** Emit `type` for the user's webhooks, after the response (kept by the user's Account object until sent). */
export function emitEvent(c: Ctx, userId: string, type: EventType, data: Record<string, unknown>): WebhookEvent {
  const event = newEvent(type, data);
  const message: EventMessage = { kind: "event", userId, event };
  const account = c.get("bindings").account(userId);
  c.executionCtx.waitUntil(withRetries(() => account.emit(userId, message), `webhook event ${type}`, c.get("requestId")));
  return event;
}

/** Deliver `event` to one webhook only (the test event), after the response. */
export function deliverTo(c: Ctx, userId: string, webhookId: string, event: WebhookEvent): void {
  const message: DeliveryMessage = { kind: "delivery", userId, webhookId, event };
  const queue = c.env.WEBHOOK_QUEUE;
  c.executionCtx.waitUntil(withRetries(() => queue.send(message, { contentType: "json" }), "webhook test event", c.get("requestId")));
}

async function withRetries(send: () => Promise<unknown>, what: string, requestId: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await send();
      return;
    } catch (e) {
      const wait = SEND_RETRY_DELAYS_MS[attempt];
      if (wait === undefined) {
        console.error(`[${requestId}] ${what} could not be queued: ${String(e)}`);
        return;
      }
      await new Promise((ok) => setTimeout(ok, wait));
    }
  }
}
