// Worker entry: the fetch handler (the app), the scheduled handler, the Queue consumer, and the Durable Object class.
import { newApp } from "./app";
import type { Env } from "./env";
import { runQueue } from "./queue";
import { runScheduled } from "./scheduled";

export { Account } from "./account/account";

const app = newApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    ctx.waitUntil(runScheduled(env));
  },
  queue: runQueue,
} satisfies ExportedHandler<Env>;
