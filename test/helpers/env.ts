// The workerd pool's bindings, typed as the tests see them (TestEnv, test/env.d.ts).
import { env as poolEnv } from "cloudflare:test";

export const env: TestEnv = poolEnv as TestEnv;
