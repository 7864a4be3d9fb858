// The Worker's bindings and variables. Kept by hand in step with wrangler.toml
// (`npm run types` regenerates wrangler's own view into src/worker-configuration.d.ts for comparison).
import type { Account } from "./metering/account";

export interface Env {
  DB: D1Database;
  USAGE: KVNamespace;
  ACCOUNT: DurableObjectNamespace<Account>;
  [name: string]: unknown;
}
