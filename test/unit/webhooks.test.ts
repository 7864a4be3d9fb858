// Webhooks (API.md §7.1) in workerd: CRUD and its limits, the URL policy, Standard Webhooks signatures
// checked by the independent `standardwebhooks` package, key events through the real Queue, and the
// consumer's retry schedule, delivery log, redirects, timeouts and deleted webhooks.
import { createExecutionContext, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newEvent } from "../../src/account/events";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { FIRST_RETRY_DELAY_S, handleWebhookMessages, RETRY_WINDOW_MS, retryDelaySeconds } from "../../src/webhooks/consumer";
import { BASE } from "../helpers/api";
import { env as testEnv } from "../helpers/env";
import { call, inAccount, keyOf, until, userOn } from "../helpers/reliability";
import { hookUrl, loopbackOnlyFetch, planAnswers, queueMessage, received, verified } from "../helpers/webhooks";

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
/** The worker's bindings as its own code types them. */
const env = testEnv as unknown as Env;
let guard: ReturnType<typeof loopbackOnlyFetch>;
beforeAll(() => {
  guard = loopbackOnlyFetch();
});
afterAll(() => {
  guard.restore();
  expect(guard.refused, "fetches refused by the loopback guard").toEqual([]);
});

async function createHook(jwt: string, url: string, events: string[]) {
  const res = await call("/v1/webhooks", { method: "POST", headers: auth(jwt), json: { url, events } });
  if (res.status !== 201) throw new Error(`POST /v1/webhooks → ${res.status} ${await res.text()}`);
  return (await res.json()) as { webhook: { id: string; url: string; events: string[] }; secret: string };
}

async function deliveries(jwt: string, id: string): Promise<any[]> {
  return ((await (await call(`/v1/webhooks/${id}/deliveries`, { headers: auth(jwt) })).json()) as any).deliveries;
}

describe("webhook endpoints", () => {
  it("create shows the secret once; list and delete never show it; it is sealed at rest", async () => {
    const u = await userOn("starter");
    const { url } = hookUrl("crud");
    const res = await call("/v1/webhooks", {
      method: "POST",
      headers: auth(u.jwt),
      json: { url, events: ["usage.threshold", "key.created"], description: "ops" },
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as any;
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/); // 32 random bytes, base64
    expect(Object.keys(created.webhook).sort()).toEqual(["createdAt", "description", "events", "id", "url"]);
    expect(created.webhook).toMatchObject({ url, events: ["usage.threshold", "key.created"], description: "ops" });
    const list = await call("/v1/webhooks", { headers: auth(u.jwt) });
    const text = await list.text();
    expect(JSON.parse(text).webhooks.map((w: any) => w.id)).toEqual([created.webhook.id]);
    expect(text).not.toContain(created.secret.slice(6));
    const rows = await testEnv.DB.prepare("SELECT * FROM webhooks WHERE id = ?").bind(created.webhook.id).all();
    expect(JSON.stringify(rows.results)).not.toContain(created.secret.slice(6));

    const other = await userOn("starter");
    expect((await call(`/v1/webhooks/${created.webhook.id}`, { method: "DELETE", headers: auth(other.jwt) })).status).toBe(404);
    expect((await call(`/v1/webhooks/${created.webhook.id}/deliveries`, { headers: auth(other.jwt) })).status).toBe(404);
    expect((await call(`/v1/webhooks/${created.webhook.id}/test`, { method: "POST", headers: auth(other.jwt) })).status).toBe(404);
    expect((await call(`/v1/webhooks/${created.webhook.id}`, { method: "DELETE", headers: auth(u.jwt) })).status).toBe(200);
    expect((await call(`/v1/webhooks/${created.webhook.id}`, { method: "DELETE", headers: auth(u.jwt) })).status).toBe(404);
    expect(((await (await call("/v1/webhooks", { headers: auth(u.jwt) })).json()) as any).webhooks).toEqual([]);
  });

  it("a description that is empty after trimming is refused, naming the field; descriptions are stored trimmed", async () => {
    const u = await userOn("starter");
    const { url } = hookUrl("blank-description");
    for (const description of [" ", "\t \n"]) {
      const res = await call("/v1/webhooks", { method: "POST", headers: auth(u.jwt), json: { url, events: ["key.created"], description } });
      expect(res.status, JSON.stringify(description)).toBe(400);
      const body = (await res.json()) as any;
      expect(body.error.code).toBe("validation_failed");
      expect(body.error.fields.map((f: any) => f.path)).toEqual(["description"]);
    }
    expect(((await (await call("/v1/webhooks", { headers: auth(u.jwt) })).json()) as any).webhooks).toEqual([]);
    const res = await call("/v1/webhooks", {
      method: "POST",
      headers: auth(u.jwt),
      json: { url, events: ["key.created"], description: "  ops  " },
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as any).webhook.description).toBe("ops");
  });

  it("URLs follow the audioUrl rules: https to a public host; loopback only because WEBHOOK_ALLOW_HOSTS lists it", async () => {
    const u = await userOn("starter");
    for (const url of [
      "http://hooks.example.com/x",
      "https://10.0.0.1/x",
      "https://[::1]/x",
      "https://localhost/x",
      "https://metadata.google.internal/x",
      "https://hooks.example.com:8443/x",
      "ftp://hooks.example.com/x",
      "https://user:pass@hooks.example.com/x",
      "not a url",
    ]) {
      const res = await call("/v1/webhooks", { method: "POST", headers: auth(u.jwt), json: { url, events: ["key.created"] } });
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as any).error.code, url).toBe("invalid_webhook_url");
    }
    // A public https URL is accepted (no event it takes fires in this test, and the guard refuses any fetch off loopback).
    const pub = await createHook(u.jwt, "https://hooks.example.com/voxgate", ["credits.low"]);
    expect(pub.webhook.url).toBe("https://hooks.example.com/voxgate");
    await call(`/v1/webhooks/${pub.webhook.id}`, { method: "DELETE", headers: auth(u.jwt) });
    // Events are validated: unknown names and an empty list are 400.
    for (const events of [[], ["usage.everything"], ["key.created", "key.created"]]) {
      const res = await call("/v1/webhooks", { method: "POST", headers: auth(u.jwt), json: { url: hookUrl().url, events } });
      expect(res.status, JSON.stringify(events)).toBe(400);
    }
  });

  it("at most 10 per user, also when 14 creates arrive at once", async () => {
    const u = await userOn("starter");
    const results = await Promise.all(
      Array.from({ length: 14 }, () =>
        call("/v1/webhooks", { method: "POST", headers: auth(u.jwt), json: { url: hookUrl("limit").url, events: ["key.revoked"] } }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(4);
    expect(((await refused[0]!.json()) as any).error.code).toBe("webhook_limit_reached");
    expect(((await (await call("/v1/webhooks", { headers: auth(u.jwt) })).json()) as any).webhooks).toHaveLength(10);
  });
});

describe("delivery through the Queue", () => {
  it("the test event arrives signed (verified by standardwebhooks) and the attempt is in the delivery log", async () => {
    const u = await userOn("starter");
    const { url, path } = hookUrl("test-event");
    const hook = await createHook(u.jwt, url, ["key.created"]);
    const res = await call(`/v1/webhooks/${hook.webhook.id}/test`, { method: "POST", headers: auth(u.jwt) });
    expect(res.status).toBe(202);
    const { event } = (await res.json()) as any;
    expect(event.id).toMatch(/^evt_[0-9a-f]{32}$/);
    const got = await until(
      () => received(path),
      (r) => r.length >= 1,
    );
    expect(got).toHaveLength(1);
    const [body] = verified(hook.secret, got);
    expect(body).toEqual(event);
    expect(got[0]!.headers["webhook-id"]).toBe(event.id);
    expect(Math.abs(Number(got[0]!.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(300);
    // Another secret does not verify it.
    expect(() => verified(`whsec_${btoa("x".repeat(32))}`, got)).toThrow();
    const log = await until(
      () => deliveries(u.jwt, hook.webhook.id),
      (d) => d.length >= 1,
    );
    expect(log).toMatchObject([{ eventId: event.id, type: "webhook.test", attempt: 1, status: 200, outcome: "delivered", error: null }]);
  });

  it("key.created, key.rotated and key.revoked each arrive once, only at webhooks that take them", async () => {
    const u = await userOn("starter");
    const a = hookUrl("keys-all");
    const b = hookUrl("keys-revoked");
    const all = await createHook(u.jwt, a.url, ["key.created", "key.rotated", "key.revoked"]);
    const onlyRevoked = await createHook(u.jwt, b.url, ["key.revoked"]);
    const key = await keyOf(u, { name: "events" });
    const rotated = (await (await call(`/v1/keys/${key.id}/rotate`, { method: "POST", headers: auth(u.jwt) })).json()) as any;
    expect((await call(`/v1/keys/${rotated.apiKey.id}`, { method: "DELETE", headers: auth(u.jwt) })).status).toBe(200);
    // Revoking again is still 200, but nothing changed: no second event.
    expect((await call(`/v1/keys/${rotated.apiKey.id}`, { method: "DELETE", headers: auth(u.jwt) })).status).toBe(200);
    const got = await until(
      async () => [...(await received(a.path)), ...(await received(b.path))],
      (r) => r.length >= 4,
    );
    await new Promise((r) => setTimeout(r, 1500)); // anything extra would have come by now
    const atA = verified(all.secret, await received(a.path));
    const atB = verified(onlyRevoked.secret, await received(b.path));
    expect(got.length).toBe(4);
    expect(atA.map((e) => e.type).sort()).toEqual(["key.created", "key.revoked", "key.rotated"]);
    expect(atB.map((e) => e.type)).toEqual(["key.revoked"]);
    const byType = Object.fromEntries(atA.map((e) => [e.type, e]));
    expect(byType["key.created"].data.apiKey).toMatchObject({ id: key.id, name: "events" });
    expect(byType["key.rotated"].data).toMatchObject({ revokedKeyId: key.id, apiKey: { id: rotated.apiKey.id, name: "events" } });
    expect(byType["key.revoked"].data).toEqual({ keyId: rotated.apiKey.id });
    expect(atB[0].id).toBe(byType["key.revoked"].id); // one event, the same id at both
    expect(JSON.stringify([atA, atB])).not.toContain(key.key); // never a plaintext key
  });

  it("a key event made while the webhook Queue is down is kept by the Account object and sent once it is back", async () => {
    const u = await userOn("starter");
    const a = hookUrl("keys-queue-down");
    const hook = await createHook(u.jwt, a.url, ["key.created"]);
    const down = { send: () => Promise.reject(new Error("queue down")), sendBatch: () => Promise.reject(new Error("queue down")) };
    // The Queue refuses everything, for the worker and for the user's Account object alike.
    const real = await inAccount(u.id, (instance) => {
      const queue = instance.outbox.queue;
      instance.outbox.queue = () => down;
      return queue;
    });
    try {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(`${BASE}/v1/keys`, { method: "POST", headers: { ...auth(u.jwt), "content-type": "application/json" }, body: "{}" }),
        { ...(testEnv as any), WEBHOOK_QUEUE: down },
        ctx,
      );
      expect(res.status).toBe(201);
      await waitOnExecutionContext(ctx); // every send tried (and retried) and failed
      expect(await inAccount(u.id, (instance) => instance.outbox.pending)).toBe(true);
    } finally {
      await inAccount(u.id, (instance) => {
        instance.outbox.queue = real;
      });
    }
    // The Queue is back: the object's alarm sends what it kept.
    await runDurableObjectAlarm(testEnv.ACCOUNT.getByName(u.id));
    const got = await until(
      () => received(a.path),
      (r) => r.length >= 1,
    );
    expect(verified(hook.secret, got).map((e) => e.type)).toEqual(["key.created"]);
  });

  it("an event is told only to webhooks that existed when it happened", async () => {
    const u = await userOn("starter");
    const { url, path } = hookUrl("existed");
    const hook = await createHook(u.jwt, url, ["key.created"]);
    const before = newEvent("key.created", { note: "before the webhook" }, Date.now() - 60_000);
    const after = newEvent("key.created", { note: "after" });
    for (const event of [before, after]) {
      const { message, calls } = queueMessage({ kind: "event" as const, userId: u.id, event });
      await handleWebhookMessages([message], env);
      expect(calls).toEqual({ ack: 1, retries: [] });
    }
    await until(
      () => received(path),
      (r) => r.length >= 1,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(verified(hook.secret, await received(path)).map((e) => e.id)).toEqual([after.id]);
  });

  it("usage.threshold: 50 concurrent charges cross 50 % and 80 % of the plan's credits, each event exactly once", async () => {
    const u = await userOn("starter"); // 50,000 credits, 60 requests a minute
    const { url, path } = hookUrl("thresholds");
    const hook = await createHook(u.jwt, url, ["usage.threshold"]);
    // 5,000 characters on ElevenLabs with a JWT: 830 credits each; 50 of them are 83 % of the plan.
    const text = "a".repeat(5000);
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        call("/v1/synthesize", { method: "POST", headers: auth(u.jwt), json: { provider: "elevenlabs", text } }),
      ),
    );
    for (const r of results) {
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    }
    const got = await until(
      () => received(path),
      (r) => r.length >= 2,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const events = verified(hook.secret, await received(path));
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(events.map((e) => e.data.threshold).sort()).toEqual([50, 80]);
    const period = new Date().toISOString().slice(0, 7);
    expect(events.find((e) => e.data.threshold === 80).data).toMatchObject({ threshold: 80, period, limit: 50_000 });
    expect(events.every((e) => e.data.used >= (e.data.threshold / 100) * 50_000)).toBe(true);
    // Once per period: more charges do not repeat them.
    const more = await call("/v1/synthesize", { method: "POST", headers: auth(u.jwt), json: { provider: "elevenlabs", text: "again" } });
    expect(more.status).toBe(200);
    await more.arrayBuffer();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await received(path)).toHaveLength(2);
  });
});

describe("the consumer's retries", () => {
  it("backs off exponentially from 10 s, capped, and keeps trying for 24 hours", () => {
    expect(FIRST_RETRY_DELAY_S).toBe(10);
    expect([1, 2, 3, 4, 5].map(retryDelaySeconds)).toEqual([10, 20, 40, 80, 160]);
    let elapsed = 0;
    let attempts = 1;
    while (elapsed + retryDelaySeconds(attempts) * 1000 < RETRY_WINDOW_MS) elapsed += retryDelaySeconds(attempts++) * 1000;
    expect(retryDelaySeconds(30)).toBe(4 * 3600);
    expect(attempts).toBeGreaterThan(12);
    expect(attempts).toBeLessThan(30); // well inside the Queue's max_retries (100)
  });

  it("a 500 is retried after 10 s, then 20 s; a 2xx ends it; each attempt is logged", async () => {
    const u = await userOn("starter");
    const { url, path } = hookUrl("retry");
    const hook = await createHook(u.jwt, url, ["key.created"]);
    await planAnswers(path, { statuses: [500, 503] });
    const event = newEvent("key.created", { apiKey: { id: "key_x" } });
    const body = { kind: "delivery" as const, userId: u.id, webhookId: hook.webhook.id, event };
    const outcomes = [];
    for (const attempts of [1, 2, 3]) {
      const { message, calls } = queueMessage(body, { attempts });
      await handleWebhookMessages([message], env);
      outcomes.push(calls);
    }
    expect(outcomes).toEqual([
      { ack: 0, retries: [10] },
      { ack: 0, retries: [20] },
      { ack: 1, retries: [] },
    ]);
    const got = await received(path);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((g) => g.headers["webhook-id"]))).toEqual(new Set([event.id])); // the same id on every retry
    expect(verified(hook.secret, got).every((e) => e.id === event.id)).toBe(true);
    const log = await deliveries(u.jwt, hook.webhook.id);
    expect(log.map((d: any) => [d.attempt, d.status, d.outcome])).toEqual([
      [3, 200, "delivered"],
      [2, 503, "retrying"],
      [1, 500, "retrying"],
    ]);
  });

  it("after 24 hours a failure is final: marked failed, not retried", async () => {
    const u = await userOn("starter");
    const { url, path } = hookUrl("give-up");
    const hook = await createHook(u.jwt, url, ["key.created"]);
    await planAnswers(path, { statuses: [500, 500] });
    const event = newEvent("key.created", {});
    const body = { kind: "delivery" as const, userId: u.id, webhookId: hook.webhook.id, event };
    // 23 h 59 min 55 s after the event: the last retry is due when the 24 hours end, not 4 hours later.
    const nearEnd = queueMessage(body, { attempts: 16, timestamp: new Date(Date.now() - RETRY_WINDOW_MS + 5_000) });
    await handleWebhookMessages([nearEnd.message], env);
    expect(nearEnd.calls.retries).toHaveLength(1);
    expect(nearEnd.calls.retries[0]).toBeLessThanOrEqual(5);
    const late = queueMessage(body, { attempts: 17, timestamp: new Date(Date.now() - RETRY_WINDOW_MS - 1) });
    await handleWebhookMessages([late.message], env);
    expect(late.calls).toEqual({ ack: 1, retries: [] });
    expect((await deliveries(u.jwt, hook.webhook.id))[0]).toMatchObject({ attempt: 17, status: 500, outcome: "failed" });
    expect(await received(path)).toHaveLength(2);
  });

  it("a redirect is a failed attempt and is not followed", async () => {
    const u = await userOn("starter");
    const { url, path } = hookUrl("redirect");
    const hook = await createHook(u.jwt, url, ["key.created"]);
    await planAnswers(path, { statuses: [307] });
    const { message, calls } = queueMessage({
      kind: "delivery" as const,
      userId: u.id,
      webhookId: hook.webhook.id,
      event: newEvent("key.created", {}),
    });
    await handleWebhookMessages([message], env);
    expect(calls.retries).toEqual([10]);
    expect((await deliveries(u.jwt, hook.webhook.id))[0]).toMatchObject({
      status: 307,
      outcome: "retrying",
      error: "redirect 307 not followed",
    });
  });

  it("a receiver that does not answer within 10 s fails the attempt (timeout)", { timeout: 30_000 }, async () => {
    const u = await userOn("starter");
    const { url, path } = hookUrl("hang");
    const hook = await createHook(u.jwt, url, ["key.created"]);
    await planAnswers(path, { hang: true });
    const { message, calls } = queueMessage({
      kind: "delivery" as const,
      userId: u.id,
      webhookId: hook.webhook.id,
      event: newEvent("key.created", {}),
    });
    await handleWebhookMessages([message], env);
    expect(calls.retries).toEqual([10]);
    const [attempt] = await deliveries(u.jwt, hook.webhook.id);
    expect(attempt).toMatchObject({ status: null, outcome: "retrying", error: "timeout after 10000 ms" });
    expect(attempt.durationMs).toBeGreaterThanOrEqual(10_000);
  });

  it("a deleted webhook gets nothing more, retries included", async () => {
    const u = await userOn("starter");
    const { url, path } = hookUrl("deleted");
    const hook = await createHook(u.jwt, url, ["key.created"]);
    await planAnswers(path, { statuses: [500] });
    const body = { kind: "delivery" as const, userId: u.id, webhookId: hook.webhook.id, event: newEvent("key.created", {}) };
    const first = queueMessage(body, { attempts: 1 });
    await handleWebhookMessages([first.message], env);
    expect(first.calls.retries).toEqual([10]);
    expect((await call(`/v1/webhooks/${hook.webhook.id}`, { method: "DELETE", headers: auth(u.jwt) })).status).toBe(200);
    const retry = queueMessage(body, { attempts: 2 });
    await handleWebhookMessages([retry.message], env);
    expect(retry.calls).toEqual({ ack: 1, retries: [] });
    // And through the real Queue: a new key's event reaches no one.
    await keyOf(u);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await received(path)).toHaveLength(1);
  });

  it("a URL no longer allowed at delivery time (the allow-list changed) is refused, not fetched", async () => {
    const u = await userOn("starter");
    const { url, path } = hookUrl("policy");
    const hook = await createHook(u.jwt, url, ["key.created"]);
    const narrowed = { ...env, WEBHOOK_ALLOW_HOSTS: "hooks.example.com" };
    const { message, calls } = queueMessage({
      kind: "delivery" as const,
      userId: u.id,
      webhookId: hook.webhook.id,
      event: newEvent("key.created", {}),
    });
    await handleWebhookMessages([message], narrowed);
    expect(calls.retries).toEqual([10]);
    expect((await deliveries(u.jwt, hook.webhook.id))[0]).toMatchObject({ status: null, error: "url_refused (loopback)" });
    expect(await received(path)).toEqual([]);
  });
});
