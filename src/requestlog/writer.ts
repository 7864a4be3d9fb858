// The request-log Queue's consumer: the entries of a batch of messages (up to 100 messages, wrangler.toml;
// each holding the entries of requests that ended together, record.ts) are one D1 batch. A batch that fails
// to write is retried by the Queue; rows carry their own ids, so a redelivered entry is written once.
import { insertRequests } from "../db/request-log";
import type { Env } from "../env";
import type { RequestLogMessage } from "./record";

export async function handleRequestLogMessages(messages: readonly Message<RequestLogMessage>[], env: Env): Promise<void> {
  try {
    await insertRequests(
      env.DB,
      messages.flatMap((m) => (m.body.kind === "requests" ? m.body.entries : [m.body.entry])),
    );
    for (const m of messages) m.ack();
  } catch (e) {
    console.error(`request log: ${messages.length} entries not written, retried: ${String(e)}`);
    for (const m of messages) m.retry({ delaySeconds: 5 });
  }
}
