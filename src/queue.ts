// The Worker's Queue consumer (wrangler.toml [[queues.consumers]]): webhook events and deliveries
// (src/webhooks/consumer.ts) and request-log entries (src/requestlog/writer.ts). Each message says what
// it is (`kind`), so a batch is handled by what it holds, whatever the queues are named.
import type { WebhookMessage } from "./account/events";
import type { Env } from "./env";
import type { RequestLogMessage } from "./requestlog/record";
import { handleRequestLogMessages } from "./requestlog/writer";
import { handleWebhookMessages } from "./webhooks/consumer";

type QueueMessage = WebhookMessage | RequestLogMessage;

export async function runQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const requests: Message<RequestLogMessage>[] = [];
  const webhooks: Message<WebhookMessage>[] = [];
  for (const m of batch.messages) {
    const kind = (m.body as Partial<QueueMessage> | null)?.kind;
    if (kind === "requests" || kind === "request") requests.push(m as Message<RequestLogMessage>);
    else if (kind === "event" || kind === "delivery") webhooks.push(m as Message<WebhookMessage>);
    else m.ack(); // not a message of ours: dropped rather than retried forever
  }
  await Promise.all([
    requests.length ? handleRequestLogMessages(requests, env) : undefined,
    webhooks.length ? handleWebhookMessages(webhooks, env) : undefined,
  ]);
}
