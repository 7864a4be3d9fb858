// A cold Account object costs no D1 round trip (issue 17): the object keeps its copy of the catalog in
// its own storage, and keys are created through it, so neither a wake nor a new key's first use reads D1.
import { describe, expect, it } from "vitest";
import { ensureSchema } from "../../src/account/schema";
import { CreditLedger } from "../../src/metering/ledger";
import { storageCounts } from "../helpers/api";
import { call, inAccount, keyOf, userOn } from "../helpers/reliability";

/** What an evicted object forgets: everything in memory. Its storage stays. */
async function forgetMemory(userId: string) {
  await inAccount(userId, (instance) => {
    instance.copy = undefined;
    // Its rate-limit windows as a wake finds them: in storage only (src/account/rate-windows.ts).
    instance.rates = new instance.rates.constructor(instance.sql);
  });
}

describe("a cold Account object", () => {
  it("answers from its own storage: 0 D1 queries after a wake, and none for a key's first use", async () => {
    const user = await userOn("pro");
    const { key } = await keyOf(user); // created through the object
    const first = await call("/v1/me", { headers: { authorization: `Bearer ${key}` } });
    expect(first.status).toBe(200);
    // The key's first use: the isolate reads D1 once to learn whose hash it is; the object reads nothing.
    expect(storageCounts(first).do).toBe(1);
    await forgetMemory(user.id);
    const woken = await call("/v1/synthesize", {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      json: { provider: "cartesia", text: "cold" },
    });
    expect(woken.status).toBe(200);
    await woken.arrayBuffer();
    expect(storageCounts(woken)).toMatchObject({ d1: 0, do: 1 });
  });

  it("what it keeps follows every change: a revoke made before the wake still holds after it", async () => {
    const user = await userOn("pro");
    const { key, id } = await keyOf(user);
    expect((await call("/v1/me", { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    expect((await call(`/v1/keys/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${user.jwt}` } })).status).toBe(200);
    await forgetMemory(user.id);
    expect((await call("/v1/me", { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
    // A plan change made before the wake is what the woken object uses.
    const { adminJwt } = await import("../helpers/api");
    await call(`/api/admin/users/${user.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${await adminJwt()}` },
      json: { plan: "scale" },
    });
    await forgetMemory(user.id);
    const me = (await (await call("/v1/me", { headers: { authorization: `Bearer ${user.jwt}` } })).json()) as any;
    expect(me.user.plan).toBe("scale");
  });

  it("a wake reads one meta row instead of running the tables' DDL; a changed schema runs it once", async () => {
    const user = await userOn("pro");
    expect((await call("/v1/me", { headers: { authorization: `Bearer ${user.jwt}` } })).status).toBe(200);
    await inAccount(user.id, (_instance, state) => {
      const sql = state.storage.sql;
      const tables = () =>
        sql
          .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
          .toArray()
          .map((r) => r.name);
      const schema = () => sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'schema'").toArray()[0]?.v;
      expect(schema()).toMatch(/^[0-9a-f]+$/);
      expect(tables()).toContain("notices");
      // The schema this code knows is set up: a wake creates nothing (a table dropped behind its back stays gone).
      sql.exec("DROP TABLE notices");
      ensureSchema(sql);
      expect(tables()).not.toContain("notices");
      // Storage set up by other code (a deploy changed a table): the DDL runs, and records the schema.
      sql.exec("UPDATE meta SET v = 'older' WHERE k = 'schema'");
      ensureSchema(sql);
      expect(tables()).toContain("notices");
      expect(schema()).not.toBe("older");
    });
  });

  it("open reservations survive a wake: the woken ledger holds, settles and expires exactly what was open", async () => {
    const user = await userOn("pro");
    expect((await call("/v1/me", { headers: { authorization: `Bearer ${user.jwt}` } })).status).toBe(200);
    await inAccount(user.id, (_instance, state) => {
      const before = new CreditLedger(state.storage.sql);
      const reservedBefore = before.reservedMc;
      const a = before.reserve("llm", 700, 1_000, "idem-a", "key-a");
      const b = before.reserve("tts", 300, 2_000);
      const closed = before.reserve("llm", 50, 3_000);
      expect(before.release(closed)?.amountMc).toBe(50);
      // What a wake builds: a new ledger over the same storage, nothing carried in memory.
      const woken = new CreditLedger(state.storage.sql);
      expect(woken.reservedMc).toBe(reservedBefore + 1_000);
      expect(woken.stale(1_500)).toEqual([a]);
      expect(woken.oldestReservationAt()).toBe(1_000);
      expect(woken.release(closed)).toBeUndefined();
      expect(woken.release(a)).toEqual({ id: a, kind: "llm", amountMc: 700, createdAt: 1_000, idempotencyKey: "idem-a", keyId: "key-a" });
      expect(woken.release(a)).toBeUndefined(); // once
      expect(woken.release(b)?.amountMc).toBe(300);
      expect(woken.reservedMc).toBe(reservedBefore);
      // …and the table agrees with it: a second wake finds none of them.
      const again = new CreditLedger(state.storage.sql);
      expect(again.reservedMc).toBe(reservedBefore);
      expect(again.stale(10_000)).toEqual([]);
    });
  });
});
