// Shared by the vitest configs (Node side): test JWT keys and the variables the worker runs with.

import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import { PROVIDERS } from "../../src/providers/registry";
// @ts-expect-error plain JS module shared with the mock server
import { baseUrlsFor } from "../mocks/providers.mjs";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export const TEST_JWT_ISSUER = "https://auth.voxgate.test/";
export const TEST_JWT_AUDIENCE = "voxgate-api";
/** 32 bytes, base64: the test master keys for stored provider keys (versions 1 and 2). */
export const TEST_MASTER_KEY_V1 = Buffer.alloc(32, 7).toString("base64");
export const TEST_MASTER_KEY_V2 = Buffer.alloc(32, 9).toString("base64");

export async function testJwtKeys() {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const pub = { ...(await exportJWK(publicKey)), kid: "test-es256", alg: "ES256", use: "sig" };
  const priv = { ...(await exportJWK(privateKey)), kid: "test-es256", alg: "ES256" };
  return { jwks: JSON.stringify({ keys: [pub] }), privateJwk: JSON.stringify(priv) };
}

/** Each provider's variable prefix (ELEVENLABS, OPENAI, …), from the gateway's registry. */
export const PROVIDER_ENV_NAMES = PROVIDERS.map((p) => p.id.toUpperCase());

/** Base URLs of the mock providers served on `origin` (see test/mocks/providers.mjs). */
export function mockBaseUrls(origin: string): Record<string, string> {
  return baseUrlsFor(origin);
}

/**
 * Platform keys the mocks accept: `platform-<id>-key`. Hugging Face deliberately has none, so the
 * tests see a deployment where a provider is usable only with the caller's own key.
 */
export function platformKeys(): Record<string, string> {
  return Object.fromEntries(
    PROVIDER_ENV_NAMES.filter((n) => n !== "HUGGINGFACE").map((n) => [`${n}_API_KEY`, `platform-${n.toLowerCase()}-key`]),
  );
}

/** The portal's SMS provider in tests: a mock Twilio (test/mocks/twilio.mjs) that accepts these credentials. */
export const TEST_TWILIO = { accountSid: "AC00000000000000000000000000000000", authToken: "test-twilio-auth-token", from: "+15550001111" };

/** The mock Twilio's port: chosen once per test run (whichever of the config and the global setup asks first). */
export async function twilioPort(): Promise<number> {
  process.env.VOXGATE_TWILIO_PORT ??= String(await freePort());
  return Number(process.env.VOXGATE_TWILIO_PORT);
}

export async function workerVars(mockOrigin: string) {
  const jwt = await testJwtKeys();
  const twilioOrigin = `http://127.0.0.1:${await twilioPort()}`;
  return {
    vars: {
      API_KEY_PREFIX: "plabs_",
      JWT_ISSUER: TEST_JWT_ISSUER,
      JWT_AUDIENCE: TEST_JWT_AUDIENCE,
      JWT_JWKS_URL: "",
      JWT_JWKS: jwt.jwks,
      PROVIDER_KEY_ENCRYPTION_KEY: TEST_MASTER_KEY_V2,
      PROVIDER_KEY_ENCRYPTION_KEY_VERSION: "2",
      PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS: `1:${TEST_MASTER_KEY_V1}`,
      DEBUG_STORAGE_COUNTS: "true",
      // The tests' audioUrl files are served by the mock server on loopback: allowed by name (API.md §4.1).
      AUDIO_URL_ALLOW_HOSTS: new URL(mockOrigin).host,
      // Failover's breaker: opens sooner and cools down faster than in production, so tests can watch it.
      BREAKER_FAILURES: "3",
      BREAKER_COOLDOWN_MS: "1500",
      // Webhook receivers in the tests listen on loopback (any port): allowed by name (API.md §7.1).
      WEBHOOK_ALLOW_HOSTS: "127.0.0.1",
      PROVIDER_TIMEOUT_MS: "2000",
      ...mockBaseUrls(mockOrigin),
      ...platformKeys(),
      BETTER_AUTH_SECRET: randomBytes(32).toString("base64"),
      SMS_PROVIDER: "twilio",
      // The global cap on sign-in codes (API.md §7): well above what every suite together sends into one D1
      // (the e2e suite shares one `wrangler dev`); test/unit/reliability/otp.test.ts sets its own small cap.
      OTP_SENDS_PER_HOUR: "10000",
      TWILIO_ACCOUNT_SID: TEST_TWILIO.accountSid,
      TWILIO_AUTH_TOKEN: TEST_TWILIO.authToken,
      TWILIO_FROM: TEST_TWILIO.from,
      TWILIO_BASE_URL: twilioOrigin,
    },
    privateJwk: jwt.privateJwk,
  };
}
