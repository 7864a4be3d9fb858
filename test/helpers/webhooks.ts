// Shared by the webhook tests in workerd: the receiver on 127.0.0.1 (test/mocks/webhook-receiver.mjs),
// a guard that keeps this isolate's fetch on loopback, and a stand-in for a Queue message that records
// what the consumer asked of it (the pool's own createMessageBatch does not keep retry delays).
import { Webhook } from "standardwebhooks";
import { env } from "./env";

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

let seq = 0;
/** A receiver URL of its own for one test. */
export function hookUrl(label = "hook"): { url: string; path: string } {
  const path = `/hooks/${label}-${Date.now().toString(36)}-${seq++}-${Math.random().toString(36).slice(2, 8)}`;
  return { url: `${env.TEST_WEBHOOK_ORIGIN}${path}`, path };
}

export async function received(path: string): Promise<Received[]> {
  return (await (await fetch(`${env.TEST_WEBHOOK_ORIGIN}/__control/received?path=${encodeURIComponent(path)}`)).json()) as Received[];
}

/** The receiver answers `path` with these statuses first (then 200), or never answers it. */
export async function planAnswers(path: string, plan: { statuses?: number[]; hang?: boolean }): Promise<void> {
  const res = await fetch(`${env.TEST_WEBHOOK_ORIGIN}/__control/plan`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ path, ...plan }),
  });
  if (res.status !== 200) throw new Error(`receiver plan → ${res.status}`);
}

/** Each delivery verified with the independent `standardwebhooks` package; the parsed events. */
export function verified(secret: string, deliveries: Received[]): any[] {
  const wh = new Webhook(secret);
  return deliveries.map((d) => wh.verify(d.body, d.headers));
}

/**
 * Replace this isolate's fetch (the worker under test runs here, Queue consumer included) with one that
 * refuses anything not on loopback, so no bug can send a webhook off this machine. Returns the undo.
 */
export function loopbackOnlyFetch(): { restore(): void; refused: string[] } {
  const original = globalThis.fetch;
  const refused: string[] = [];
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!["127.0.0.1", "localhost", "[::1]", "voxgate.test"].includes(url.hostname)) {
      refused.push(url.href);
      throw new TypeError(`test guard: ${url.hostname} is not loopback`);
    }
    return original(input, init);
  }) as typeof fetch;
  return { restore: () => void (globalThis.fetch = original), refused };
}

/** A Queue message stand-in: what the consumer called (ack, or retry with its delay). */
export function queueMessage<Body>(body: Body, opts: { attempts?: number; timestamp?: Date } = {}) {
  const calls: { ack: number; retries: (number | undefined)[] } = { ack: 0, retries: [] };
  const message = {
    id: crypto.randomUUID(),
    timestamp: opts.timestamp ?? new Date(),
    attempts: opts.attempts ?? 1,
    body,
    ack: () => void calls.ack++,
    retry: (o?: { delaySeconds?: number }) => void calls.retries.push(o?.delaySeconds),
  } as unknown as Message<Body>;
  return { message, calls };
}
