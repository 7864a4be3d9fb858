// The events the Account object decides (API.md §7.1): usage.threshold at 50/80/100 % of the month's plan
// credits and credits.low below 10 % of the last top-up — each once, however many charges race — sent
// through its outbox, which keeps what it could not send for the alarm.
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newEvent } from "../../src/account/events";
import { Outbox } from "../../src/account/outbox";
import { adminJwt } from "../helpers/api";
import { env } from "../helpers/env";
import { call, inAccount, until, userOn } from "../helpers/reliability";
import { hookUrl, loopbackOnlyFetch, received, verified } from "../helpers/webhooks";

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
let guard: ReturnType<typeof loopbackOnlyFetch>;
beforeAll(() => {
  guard = loopbackOnlyFetch();
});
afterAll(() => guard.restore());

async function hookFor(jwt: string, events: string[]) {
  const { url, path } = hookUrl("notices");
  const res = await call("/v1/webhooks", { method: "POST", headers: auth(jwt), json: { url, events } });
  expect(res.status).toBe(201);
  return { path, secret: ((await res.json()) as any).secret as string };
}

/** Charge `credits` straight into the user's ledger, as a settled request would (the object's own code). */
async function spend(userId: string, credits: number) {
  await inAccount(userId, async (instance: any) => {
    const copy = await instance.catalog(userId);
    instance.ledger.charge("tts", credits * 1000, instance.limitMc(copy, Date.now()), Date.now());
  });
}

const settle = () => new Promise((r) => setTimeout(r, 2000)); // a duplicate would have arrived by now

describe("usage notices", () => {
  it("100 % of the plan and credits.low under 20 concurrent charges: each exactly once", async () => {
    const u = await userOn("starter", { paygCredits: 10_000 }); // 50,000 plan credits; the top-up reference is 10,000
    const hook = await hookFor(u.jwt, ["usage.threshold", "credits.low"]);
    await spend(u.id, 45_000); // 90 %: 50 % and 80 % fire here
    // 20 × 830 credits: the plan's last 5,000 go at the 7th, then PAYG until it is below 1,000 (10 % of 10,000).
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        call("/v1/synthesize", { method: "POST", headers: auth(u.jwt), json: { provider: "elevenlabs", text: "b".repeat(5000) } }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    for (const r of ok) await r.arrayBuffer();
    expect(ok).toHaveLength(18); // 5,000 + 10,000 credits hold 18 × 830
    expect(results.filter((r) => r.status === 402)).toHaveLength(2);
    await until(
      () => received(hook.path),
      (r) => r.length >= 4,
    );
    await settle();
    const events = verified(hook.secret, await received(hook.path));
    const thresholds = events.filter((e) => e.type === "usage.threshold").map((e) => e.data.threshold);
    expect(thresholds.sort((a, b) => a - b)).toEqual([50, 80, 100]);
    const low = events.filter((e) => e.type === "credits.low");
    expect(low).toHaveLength(1);
    expect(low[0].data).toEqual({ balance: 890, lastTopUp: 10_000, thresholdPercent: 10 }); // the first charge below 1,000 (the 17th)
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

    // A top-up re-arms credits.low against its own amount.
    const topUp = await call(`/api/admin/users/${u.id}/credits`, {
      method: "POST",
      headers: auth(await adminJwt()),
      json: { amount: 800, reason: "test top-up" },
    });
    expect(topUp.status).toBe(200);
    const more = await call("/v1/synthesize", {
      method: "POST",
      headers: auth(u.jwt),
      json: { provider: "elevenlabs", text: "c".repeat(5000) },
    });
    expect(more.status).toBe(200); // 860 → 30 credits: below 10 % of 800
    await more.arrayBuffer();
    const after = await until(
      async () => verified(hook.secret, await received(hook.path)).filter((e) => e.type === "credits.low"),
      (l) => l.length >= 2,
    );
    expect(after[1].data).toEqual({ balance: 30, lastTopUp: 800, thresholdPercent: 10 });
  });

  it("a refund that takes usage back below a threshold does not fire it again", async () => {
    const u = await userOn("starter");
    const hook = await hookFor(u.jwt, ["usage.threshold"]);
    await inAccount(u.id, async (instance: any) => {
      const copy = await instance.catalog(u.id);
      const limit = instance.limitMc(copy, Date.now());
      const first = instance.ledger.charge("tts", 26_000_000, limit, Date.now(), "charge-a"); // 52 %
      instance.ledger.reverse(first.id); // 0 %
      instance.ledger.charge("tts", 26_000_000, limit, Date.now()); // 52 % again
    });
    await until(
      () => received(hook.path),
      (r) => r.length >= 1,
    );
    await settle();
    expect(verified(hook.secret, await received(hook.path)).map((e) => e.data.threshold)).toEqual([50]);
  });
});

describe("the outbox", () => {
  it("keeps events a failed send could not deliver, and the alarm sends them", async () => {
    const u = await userOn("starter");
    const hook = await hookFor(u.jwt, ["usage.threshold"]);
    const message = { kind: "event" as const, userId: u.id, event: newEvent("usage.threshold", { threshold: 80, note: "outbox" }) };
    const sent = await inAccount(u.id, async (_instance: any, state: DurableObjectState) => {
      const down = new Outbox(state.storage.sql, () => ({ sendBatch: () => Promise.reject(new Error("queue down")) }) as unknown as Queue);
      down.add(message, Date.now());
      return { flushed: await down.flush(), pending: down.pending };
    });
    expect(sent).toEqual({ flushed: false, pending: true });
    await runDurableObjectAlarm(env.ACCOUNT.getByName(u.id));
    const got = await until(
      () => received(hook.path),
      (r) => r.length >= 1,
    );
    expect(verified(hook.secret, got).map((e) => e.id)).toEqual([message.event.id]);
    expect(await inAccount(u.id, (instance: any) => instance.outbox.pending)).toBe(false);
  });
});
