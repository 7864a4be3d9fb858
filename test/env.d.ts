import type { D1Migration } from "cloudflare:test";

declare global {
  /**
   * The workerd tests' bindings: wrangler's plus those vitest.config.ts adds (read them through
   * test/helpers/env.ts). A separate interface, not an augmentation of Cloudflare.Env, so src/ never
   * sees test-only bindings as typed.
   */
  interface TestEnv extends Cloudflare.Env {
    TEST_MIGRATIONS: D1Migration[];
    TEST_JWT_PRIVATE_JWK: string;
    TEST_MOCK_ORIGIN: string;
    /** The webhook receiver (test/mocks/webhook-receiver.mjs) on 127.0.0.1. */
    TEST_WEBHOOK_ORIGIN: string;
    TEST_MASTER_KEY_V1: string;
    TWILIO_AUTH_TOKEN: string;
    /** The Twilio mock (vitest.config.ts); in src read through config.ts like every base URL. */
    TWILIO_BASE_URL: string;
    TWILIO_FROM: string;
    /** Total requests of the hostile-input fuzzer; "" for its default. */
    VOXGATE_FUZZ_RUNS: string;
    BREAKER_FAILURES: string;
    BREAKER_COOLDOWN_MS: string;
  }
}
