// Tests that run inside workerd (the vitest pool): the worker, D1, KV and the Account object are real;
// providers are mock HTTP servers on 127.0.0.1 started by the global setup.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { freePort, TEST_MASTER_KEY_V1, workerVars } from "./test/helpers/test-config";

export default defineConfig(async () => {
  const mockPort = Number(process.env.VOXGATE_MOCK_PORT ?? (await freePort()));
  process.env.VOXGATE_MOCK_PORT = String(mockPort);
  const mockOrigin = `http://127.0.0.1:${mockPort}`;
  const webhookPort = Number(process.env.VOXGATE_WEBHOOK_PORT ?? (await freePort()));
  process.env.VOXGATE_WEBHOOK_PORT = String(webhookPort);
  const { vars, privateJwk } = await workerVars(mockOrigin);
  const migrations = await readD1Migrations("./schema/migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            ...vars,
            TEST_MIGRATIONS: migrations,
            TEST_JWT_PRIVATE_JWK: privateJwk,
            TEST_MOCK_ORIGIN: mockOrigin,
            TEST_WEBHOOK_ORIGIN: `http://127.0.0.1:${webhookPort}`,
            TEST_MASTER_KEY_V1,
            // Heavier runs of the hostile-input fuzzer (test/unit/reliability/fuzz.test.ts): total requests.
            VOXGATE_FUZZ_RUNS: process.env.VOXGATE_FUZZ_RUNS ?? "",
          },
        },
      }),
    ],
    test: {
      include: ["test/unit/**/*.test.ts"],
      setupFiles: ["./test/helpers/apply-migrations.ts"],
      globalSetup: ["./test/helpers/mock-providers-setup.ts", "./test/helpers/twilio-setup.ts", "./test/helpers/webhook-receiver-setup.ts"],
      // The worker prints one JSON line per request (Workers Logs): kept out of the test output.
      onConsoleLog: (log: string) => !log.startsWith('{"type":"request"'),
      // One file at a time: every file shares the mock providers (their request records, faults and
      // resets), so files running side by side on a many-core machine would see each other's traffic.
      fileParallelism: false,
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  };
});
