// Integrations (API.md §7.1) from outside, through a real `wrangler dev` with its local Queues: a webhook
// receiver on 127.0.0.1 verifies every delivery with the independent `standardwebhooks` package, sees each
// event once (thresholds under 50 concurrent charges included), sees the retries after it answered 500
// twice, and nothing once its webhook is deleted; the request log lists exactly the requests made with
// their costs; scoped keys are refused outside their scope and stop exactly at their monthly limit.
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ttsCostMc } from "../../src/metering/prices";
// @ts-expect-error plain JS module shared with the workerd tests
import { startWebhookReceiver } from "../mocks/webhook-receiver.mjs";
import { bearer, call, payingUser, settled } from "./client";

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

let receiver: { origin: string; received: Received[]; close(): Promise<void> };
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

let seq = 0;
const hookPath = (label: string) => `/hooks/e2e-${label}-${Date.now().toString(36)}-${seq++}`;
const at = (path: string) => receiver.received.filter((r) => r.path === path);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function plan(path: string, statuses: number[]) {
  await fetch(`${receiver.origin}/__control/plan`, { method: "POST", body: JSON.stringify({ path, statuses }) });
}

async function createHook(jwt: string, path: string, events: string[]) {
  const res = await call("/v1/webhooks", { method: "POST", headers: bearer(jwt), json: { url: `${receiver.origin}${path}`, events } });
  expect(res.status).toBe(201);
  return (await res.json()) as { webhook: { id: string }; secret: string };
}

/** Every delivery at `path`, verified (signature and timestamp) by standardwebhooks. */
function verifiedAt(secret: string, path: string): any[] {
  const wh = new Webhook(secret);
  return at(path).map((r) => wh.verify(r.body, r.headers));
}

describe("webhooks through wrangler dev", () => {
  it("each event once, signed: thresholds under 50 concurrent charges, key created/rotated/revoked", async () => {
    const u = await payingUser("starter"); // 50,000 credits a month
    const path = hookPath("events");
    const hook = await createHook(u.jwt, path, ["usage.threshold", "key.created", "key.rotated", "key.revoked"]);
    // 50 × 830 credits (5,000 characters on ElevenLabs with a JWT) = 83 % of the plan, all at once.
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        call("/v1/synthesize", { method: "POST", headers: bearer(u.jwt), json: { provider: "elevenlabs", text: "e".repeat(5000) } }),
      ),
    );
    for (const r of results) {
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    }
    const created = (await (await call("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: { name: "hooked" } })).json()) as any;
    const rotated = (await (await call(`/v1/keys/${created.apiKey.id}/rotate`, { method: "POST", headers: bearer(u.jwt) })).json()) as any;
    expect((await call(`/v1/keys/${rotated.apiKey.id}`, { method: "DELETE", headers: bearer(u.jwt) })).status).toBe(200);
    await settled(
      async () => at(path).length,
      (n) => n >= 5,
      20_000,
    );
    await sleep(3000); // a duplicate would have arrived by now
    const events = verifiedAt(hook.secret, path);
    expect(events.map((e) => (e.type === "usage.threshold" ? `threshold ${e.data.threshold}` : e.type)).sort()).toEqual([
      "key.created",
      "key.revoked",
      "key.rotated",
      "threshold 50",
      "threshold 80",
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(5);
    for (const e of events) expect(e.id).toMatch(/^evt_/);
    expect(
      at(path)
        .map((r) => r.headers["webhook-id"])
        .sort(),
    ).toEqual(events.map((e) => e.id).sort());
    expect(JSON.stringify(events)).not.toContain(created.key);
  });

  it("retried after two 500s (the same webhook-id each time); nothing after the webhook is deleted", { timeout: 120_000 }, async () => {
    const u = await payingUser("starter");
    const retried = hookPath("retried");
    const deleted = hookPath("deleted");
    const a = await createHook(u.jwt, retried, ["credits.low"]); // only the test event goes there
    const b = await createHook(u.jwt, deleted, ["key.created"]);
    await plan(retried, [500, 500]);
    await plan(deleted, [500]);
    expect((await call(`/v1/webhooks/${a.webhook.id}/test`, { method: "POST", headers: bearer(u.jwt) })).status).toBe(202);
    expect((await call(`/v1/webhooks/${b.webhook.id}/test`, { method: "POST", headers: bearer(u.jwt) })).status).toBe(202);
    // The deleted one's first attempt fails; delete it before its retry (due 10 s later).
    await settled(
      async () => at(deleted).length,
      (n) => n >= 1,
      20_000,
    );
    expect((await call(`/v1/webhooks/${b.webhook.id}`, { method: "DELETE", headers: bearer(u.jwt) })).status).toBe(200);
    expect((await call("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: {} })).status).toBe(201); // a new event it would take
    // The first retry comes about 10 s after the first attempt, the second about 20 s after that.
    await settled(
      async () => at(retried).length,
      (n) => n >= 3,
      90_000,
    );
    const tries = verifiedAt(a.secret, retried).filter((e) => e.type === "webhook.test");
    expect(tries).toHaveLength(3);
    expect(new Set(tries.map((e) => e.id)).size).toBe(1);
    const log = (await (await call(`/v1/webhooks/${a.webhook.id}/deliveries`, { headers: bearer(u.jwt) })).json()) as any;
    const testAttempts = log.deliveries.filter((d: any) => d.type === "webhook.test");
    expect(testAttempts.map((d: any) => [d.attempt, d.status, d.outcome])).toEqual([
      [3, 200, "delivered"],
      [2, 500, "retrying"],
      [1, 500, "retrying"],
    ]);
    // By now the deleted webhook's retry was due long ago: it got its one attempt and nothing since.
    expect(at(deleted)).toHaveLength(1);
    expect((await call(`/v1/webhooks/${b.webhook.id}/deliveries`, { headers: bearer(u.jwt) })).status).toBe(404);
  });
});

describe("the request log through wrangler dev", () => {
  it("lists exactly the requests made with the key, with their costs", async () => {
    const u = await payingUser("pro");
    const sent: Response[] = [];
    const send = async (path: string, init: Record<string, unknown> = {}) => {
      const res = await call(path, { headers: bearer(u.key), ...init });
      await res.arrayBuffer();
      sent.push(res);
    };
    await send("/v1/me");
    await send("/v1/synthesize", { method: "POST", json: { provider: "cartesia", text: "Logged from outside." } });
    await send("/v1/chat", {
      method: "POST",
      json: { provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: "hi" }] },
    });
    await send("/v1/usage");
    const rows = await settled(
      async () =>
        ((await (await call("/v1/requests?limit=100", { headers: bearer(u.jwt) })).json()) as any).requests.filter(
          (r: any) => r.keyId === u.keyId,
        ),
      (r: any[]) => r.length >= sent.length,
      20_000,
    );
    expect(rows.map((r: any) => r.id)).toEqual(sent.map((r) => r.headers.get("x-request-id")).reverse());
    expect(rows.map((r: any) => r.status)).toEqual([200, 200, 200, 200]);
    expect(rows[2].cost).toBe(Number(sent[1]!.headers.get("x-usage-cost")));
    expect(rows[1].cost).toBe(Number(sent[2]!.headers.get("x-usage-cost")));
    expect(rows[2].cost).toBeGreaterThan(0);
    expect(rows[0].cost + rows[3].cost).toBe(0);
    expect(rows.map((r: any) => r.provider)).toEqual([null, "openai", "cartesia", null]);
  });
});

describe("scoped keys through wrangler dev", () => {
  it("a key scoped to tts gets 403 scope_denied on chat", async () => {
    const u = await payingUser("pro");
    const scoped = (await (await call("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: { scopes: ["tts"] } })).json()) as any;
    const res = await call("/v1/chat", {
      method: "POST",
      headers: bearer(scoped.key),
      json: { provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: "hi" }] },
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.code).toBe("scope_denied");
    const speech = await call("/v1/synthesize", {
      method: "POST",
      headers: bearer(scoped.key),
      json: { provider: "cartesia", text: "Allowed." },
    });
    expect(speech.status).toBe(200);
    await speech.arrayBuffer();
  });

  it("a 10-credit monthly limit stops at 10 credits under 50 concurrent requests; the owner's other keys keep working", async () => {
    const u = await payingUser("pro");
    const limited = (await (
      await call("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: { monthlyCreditLimit: 10 } })
    ).json()) as any;
    const per = ttsCostMc("fishaudio", 100, true) ?? 0;
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        call("/v1/synthesize", { method: "POST", headers: bearer(limited.key), json: { provider: "fishaudio", text: "f".repeat(100) } }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    for (const r of ok) await r.arrayBuffer();
    expect(ok).toHaveLength(Math.floor(10_000 / per));
    const refused = results.filter((r) => r.status === 402);
    expect(refused).toHaveLength(50 - ok.length);
    for (const r of refused) expect(((await r.json()) as any).error.code).toBe("key_credit_limit_reached");
    const spent = ok.reduce((sum, r) => sum + Number(r.headers.get("x-usage-cost")), 0);
    expect(spent).toBeLessThanOrEqual(10);
    const other = await call("/v1/synthesize", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "fishaudio", text: "f".repeat(100) },
    });
    expect(other.status).toBe(200);
    await other.arrayBuffer();
  });
});
