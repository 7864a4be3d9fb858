// A reserved operation's charge rides along with the user's next admission from the same isolate
// (src/gateway/settle-batch.ts), or goes alone after SETTLE_BATCH_MS — never lost, never applied twice.
import { afterEach, describe, expect, it, vi } from "vitest";
import { Account } from "../../../src/account/account";
import { holdSettle, SETTLE_BATCH_MS, takeSettles } from "../../../src/gateway/settle-batch";
import type { SettleRequest } from "../../../src/metering/contract";
import { env } from "../../helpers/env";
import { call, inAccount, keyOf, ledgerOf, sleep, userOn } from "../../helpers/reliability";

const settle = (userId: string, actualMc: number): SettleRequest => ({ userId, reservationId: crypto.randomUUID(), kind: "llm", actualMc });

afterEach(() => vi.restoreAllMocks());

describe("held settles in one isolate", () => {
  it("an admission that takes them: the lone call never happens, and the opener's wait ends", async () => {
    const ns = {};
    const sendAlone = vi.fn(async () => {});
    const opener = holdSettle(ns, settle("u1", 10), sendAlone);
    expect(opener).toBeInstanceOf(Promise);
    expect(holdSettle(ns, settle("u1", 20), sendAlone)).toBeUndefined(); // joined the open batch
    expect(takeSettles(ns, "u1")?.map((s) => s.actualMc)).toEqual([10, 20]);
    expect(takeSettles(ns, "u1")).toBeUndefined(); // taken once
    await opener;
    expect(sendAlone).not.toHaveBeenCalled();
  });

  it("none taken: after the window each user's settles go alone, in one call per user", async () => {
    const ns = {};
    const sent: number[][] = [];
    const sendAlone = vi.fn(async (s: SettleRequest[]) => void sent.push(s.map((x) => x.actualMc as number)));
    const openers = [holdSettle(ns, settle("u1", 1), sendAlone), holdSettle(ns, settle("u2", 2), sendAlone)];
    expect(holdSettle(ns, settle("u1", 3), sendAlone)).toBeUndefined();
    await sleep(SETTLE_BATCH_MS / 4);
    expect(sendAlone).not.toHaveBeenCalled();
    await Promise.all(openers);
    expect(sent.sort()).toEqual([[1, 3], [2]]);
    expect(takeSettles(ns, "u1")).toBeUndefined();
  });

  it("the opener's wait lasts until the lone call ended", async () => {
    const ns = {};
    let done = false;
    await holdSettle(ns, settle("u1", 5), async () => {
      await sleep(30);
      done = true;
    });
    expect(done).toBe(true);
  });
});

describe("the Account object applies carried settles", () => {
  it("before deciding, even when it refuses the admission; a repeat charges nothing more", async () => {
    const u = await userOn("pro");
    const id = await inAccount(u.id, (o) => o.ledger.reserve("llm", 50_000, Date.now()) as string);
    const before = await ledgerOf(u.id);
    expect(before.reservedMc).toBe(50_000);
    const carried: SettleRequest = { userId: u.id, reservationId: id, kind: "llm", actualMc: 1_234 };
    const stub = env.ACCOUNT.getByName(u.id);
    // An unknown API key: refused, but the settle it carried is applied all the same.
    const refused = await stub.admit({ userId: u.id, keyId: "no-such-key", rateKey: "no-such-key", settles: [carried] });
    expect(refused.ok).toBe(false);
    expect(refused.settlesApplied).toBe(true);
    const after = await ledgerOf(u.id);
    expect(after.reservedMc).toBe(0);
    expect(after.usedMc - before.usedMc).toBe(1_234);
    // The same settle again (a lone resend after a lost answer): nothing more.
    await stub.settleMany(u.id, [carried]);
    expect((await ledgerOf(u.id)).usedMc - before.usedMc).toBe(1_234);
  });

  it("an unknown user's carried settles are reported as not applied", async () => {
    const userId = `nobody-${crypto.randomUUID()}`;
    const res = await env.ACCOUNT.getByName(userId).admit({ userId, rateKey: "user", settles: [settle(userId, 1)] });
    expect(res.ok).toBe(false);
    expect(res.settlesApplied).toBeUndefined();
  });
});

describe("a chat's charge through the worker", () => {
  const chat = (key: string, content: string) =>
    call("/v1/chat", {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      json: { provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content }], maxTokens: 32 },
    });

  it("goes with the user's next request: exact at once, without a settle call of its own", async () => {
    const u = await userOn("pro");
    const { key } = await keyOf(u);
    const lone = vi.spyOn(Account.prototype, "settleMany");
    const single = vi.spyOn(Account.prototype, "settle");
    const first = await chat(key, "hello");
    expect(first.status).toBe(200);
    const costMc = Math.round(Number(first.headers.get("x-usage-cost")) * 1000);
    expect(costMc).toBeGreaterThan(0);
    await first.arrayBuffer();
    // The next request admits with the held charge: its usage headers already count it exactly.
    const next = await call("/v1/usage", { headers: { authorization: `Bearer ${key}` } });
    const usage = (await next.json()) as any;
    expect(usage.credits.used * 1000).toBe(costMc);
    expect((await ledgerOf(u.id)).reservedMc).toBe(0);
    await sleep(SETTLE_BATCH_MS + 100);
    expect(lone).not.toHaveBeenCalled();
    expect(single).not.toHaveBeenCalled();
  });

  it("with no next request, goes alone within the window", async () => {
    const u = await userOn("pro");
    const { key } = await keyOf(u);
    const lone = vi.spyOn(Account.prototype, "settleMany");
    const res = await chat(key, "hello again");
    const costMc = Math.round(Number(res.headers.get("x-usage-cost")) * 1000);
    await res.arrayBuffer();
    await sleep(SETTLE_BATCH_MS + 300);
    expect(lone).toHaveBeenCalledTimes(1);
    const snap = await ledgerOf(u.id);
    expect(snap.reservedMc).toBe(0);
    expect(snap.usedMc).toBe(costMc);
  });
});
