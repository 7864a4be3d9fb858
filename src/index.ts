// Worker entry: the fetch handler (the app), the scheduled handler, and the Durable Object class.
import { newApp } from "./app";
import type { Env } from "./env";
import { runScheduled } from "./scheduled";

export { Account } from "./account/account";

const app = newApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    ctx.waitUntil(runScheduled(env));
  },
} satisfies ExportedHandler<Env>;
