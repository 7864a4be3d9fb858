// The webhook Queue's consumer. An event message is fanned out to one delivery message per webhook of the
// user that subscribed to its type; each delivery is attempted on its own and, on a non-2xx, a timeout or
// a refused URL, retried through the Queue with exponential backoff — the first retry 10 s later (a
// receiver that blinked is served at once), doubling up to 4 hours — for 24 hours from the event, then
// given up and logged as failed. Every attempt is a row of the delivery log. A webhook deleted meanwhile
// gets nothing more. Delivery is at least once: a receiver deduplicates by `webhook-id`.
import type { DeliveryMessage, EventMessage, WebhookMessage } from "../account/events";
import { type Config, getConfig } from "../config";
import { open } from "../crypto/provider-key-vault";
import { type DeliveryRow, getWebhook, listWebhooks, recordDeliveries, type WebhookRow } from "../db/webhooks";
import type { Env } from "../env";
import { attemptDelivery, type FetchFn } from "./deliver";
import { secretName } from "./secret";

export const FIRST_RETRY_DELAY_S = 10;
const MAX_RETRY_DELAY_S = 4 * 3600;
/** Attempts go on this long after the event; then the delivery is marked failed. */
export const RETRY_WINDOW_MS = 24 * 3600_000;

/** Seconds before the next attempt, after attempt number `attempt` (1-based) failed. */
export function retryDelaySeconds(attempt: number): number {
  return Math.min(FIRST_RETRY_DELAY_S * 2 ** Math.max(0, attempt - 1), MAX_RETRY_DELAY_S);
}

export async function handleWebhookMessages(messages: readonly Message<WebhookMessage>[], env: Env, fetchFn?: FetchFn): Promise<void> {
  const config = getConfig(env);
  const log: DeliveryRow[] = [];
  await Promise.all(
    messages.map(async (msg) => {
      try {
        const retryInSeconds = msg.body.kind === "event" ? await fanOut(env, msg.body) : await deliver(env, config, msg, log, fetchFn);
        if (retryInSeconds === undefined) msg.ack();
        else msg.retry({ delaySeconds: retryInSeconds });
      } catch (e) {
        // Our own failure (D1, the Queue): try the whole message again shortly.
        console.error(`webhooks: message ${msg.id} failed, retried: ${String(e)}`);
        msg.retry({ delaySeconds: FIRST_RETRY_DELAY_S });
      }
    }),
  );
  await recordDeliveries(env.DB, log).catch((e) => console.error(`webhooks: delivery log not written: ${String(e)}`));
}

async function fanOut(env: Env, message: EventMessage): Promise<undefined> {
  // Only webhooks that existed when the event happened: one created since (the Queue is a second or so
  // behind) was not there to be told.
  const happenedAt = Date.parse(message.event.createdAt);
  const hooks = (await listWebhooks(env.DB, message.userId)).filter((w) => subscribed(w, message.event.type) && w.createdAt <= happenedAt);
  if (hooks.length === 0) return undefined;
  const deliveries: MessageSendRequest<DeliveryMessage>[] = hooks.map((w) => ({
    body: { kind: "delivery", userId: message.userId, webhookId: w.id, event: message.event },
    contentType: "json",
  }));
  await env.WEBHOOK_QUEUE.sendBatch(deliveries);
  return undefined;
}

/** One attempt; resolves with the seconds until the next one, or undefined when there is none. */
async function deliver(
  env: Env,
  config: Config,
  msg: Message<WebhookMessage>,
  log: DeliveryRow[],
  fetchFn?: FetchFn,
): Promise<number | undefined> {
  const { userId, webhookId, event } = msg.body as DeliveryMessage;
  const hook = await getWebhook(env.DB, userId, webhookId);
  if (!hook || !subscribed(hook, event.type)) return undefined; // deleted since: nothing more is sent
  const secret = await open(config, userId, secretName(hook.id), {
    ciphertext: hook.secretCiphertext,
    iv: hook.secretIv,
    keyVersion: hook.secretKeyVersion,
  });
  const result = secret
    ? await attemptDelivery(hook.url, secret, event, config.WEBHOOK_ALLOW_HOSTS, fetchFn)
    : { delivered: false, status: null, error: "the signing secret cannot be decrypted", durationMs: 0 };
  const now = Date.now();
  const elapsedMs = now - msg.timestamp.getTime();
  let outcome: "delivered" | "retrying" | "failed" = "delivered";
  let retryInSeconds: number | undefined;
  if (!result.delivered) {
    const leftMs = RETRY_WINDOW_MS - elapsedMs;
    if (secret && leftMs > 0) {
      outcome = "retrying";
      retryInSeconds = Math.max(1, Math.min(retryDelaySeconds(msg.attempts), Math.ceil(leftMs / 1000)));
    } else {
      outcome = "failed";
    }
  }
  log.push({
    id: crypto.randomUUID(),
    webhookId,
    userId,
    eventId: event.id,
    type: event.type,
    attempt: msg.attempts,
    status: result.status,
    outcome,
    error: result.error,
    durationMs: result.durationMs,
    createdAt: now,
  });
  return retryInSeconds;
}

function subscribed(hook: WebhookRow, type: string): boolean {
  return type === "webhook.test" || (JSON.parse(hook.events) as string[]).includes(type);
}
