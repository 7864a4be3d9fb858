import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      TEST_JWT_PRIVATE_JWK: string;
      TEST_MOCK_ORIGIN: string;
      TEST_MASTER_KEY_V1: string;
    }
  }
}
