// A key's monthly credit limit holds for the keys that stand in for it (API.md §7.1): its spend is its
// budget's — kept by rotation, shared with the keys a limited key makes — so neither rotating it nor minting
// children with the `keys` scope buys another month of credits. Found by a black-box audit: four rotations
// spent 3.6 credits under a 1-credit limit; three children of a key that had spent 0.9 spent 0.9 each.
import { describe, expect, it } from "vitest";
import { CatalogCopy } from "../../src/account/catalog-copy";
import { CreditLedger } from "../../src/metering/ledger";
import { billingPeriod } from "../../src/metering/plans";
import { ttsCostMc } from "../../src/metering/prices";
import { call, inAccount, type TestAccount, userOn } from "../helpers/reliability";

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
/** 100 characters on fishaudio with an API key: 0.9 credits, so one fits under a 1-credit limit, two do not. */
const PER = ttsCostMc("fishaudio", 100, true) ?? 0;
const TEXT = "x".repeat(100);

type Made = { key: string; id: string };

async function made(res: Response): Promise<Made> {
  const body = (await res.json()) as any;
  if (res.status !== 201) throw new Error(`${res.status} ${JSON.stringify(body)}`);
  return { key: body.key, id: body.apiKey.id };
}
const createBy = async (token: string, json: Record<string, unknown>) =>
  made(await call("/v1/keys", { method: "POST", headers: auth(token), json }));
const rotateBy = async (token: string, id: string) => made(await call(`/v1/keys/${id}/rotate`, { method: "POST", headers: auth(token) }));

/** A 0.9-credit speech request: its status, and its error code when refused. */
async function speak(key: string): Promise<[number, string?]> {
  const res = await call("/v1/synthesize", { method: "POST", headers: auth(key), json: { provider: "fishaudio", text: TEXT } });
  if (res.status === 200) {
    await res.arrayBuffer();
    return [200];
  }
  return [res.status, ((await res.json()) as any).error?.code];
}
const REFUSED: [number, string] = [402, "key_credit_limit_reached"];

const usedMc = (u: TestAccount, keyId: string) =>
  inAccount(u.id, (instance) => instance.ledger.keys.usedMc(keyId, billingPeriod(Date.now())) as number);

/** What an evicted object forgets: everything in memory. Its storage stays. */
async function forgetMemory(userId: string) {
  await inAccount(userId, (instance) => {
    instance.copy = undefined;
    // Its rate-limit windows as a wake finds them: in storage only (src/account/rate-windows.ts).
    instance.rates = new instance.rates.constructor(instance.sql);
  });
}

describe("rotation keeps the key's spend", () => {
  it("rotated by the key itself and by the owner's JWT, the new key finds the month's 0.9 spent: 402", async () => {
    const u = await userOn("pro");
    const first = await createBy(u.jwt, { scopes: ["tts", "keys"], monthlyCreditLimit: 1 });
    expect(await speak(first.key)).toEqual([200]);
    expect(await speak(first.key)).toEqual(REFUSED);
    const bySelf = await rotateBy(first.key, first.id);
    expect(await speak(bySelf.key)).toEqual(REFUSED); // was 200: a fresh month per rotation
    const byOwner = await rotateBy(u.jwt, bySelf.id);
    expect(await speak(byOwner.key)).toEqual(REFUSED);
    expect(await usedMc(u, byOwner.id)).toBe(PER);
  });

  it("a request still running when its key is rotated holds and settles in the same budget", async () => {
    const u = await userOn("pro");
    const old = await createBy(u.jwt, { monthlyCreditLimit: 1 });
    // An LLM call of the old key in flight: 0.6 credits reserved.
    const reservationId = await inAccount(u.id, (instance) => instance.ledger.reserve("llm", 600, Date.now(), undefined, old.id) as string);
    const next = await rotateBy(u.jwt, old.id);
    expect(await usedMc(u, next.id)).toBe(600);
    expect(await speak(next.key)).toEqual(REFUSED); // 0.6 held + 0.9 would pass 1
    // It settles at 0.1: charged to the budget both keys spend from.
    await inAccount(u.id, (instance) => instance.settle({ userId: u.id, reservationId, kind: "llm", actualMc: 100 }));
    expect([await usedMc(u, next.id), await usedMc(u, old.id)]).toEqual([100, 100]);
    expect(await speak(next.key)).toEqual([200]); // 0.1 + 0.9 = 1: not past the limit
    expect(await speak(next.key)).toEqual(REFUSED);
  });
});

describe("keys a limited key makes spend from its budget", () => {
  it("the parent spent 0.9 of 1: its children's and grandchildren's next 0.9 is 402; none may have a larger limit", async () => {
    const u = await userOn("pro");
    const parent = await createBy(u.jwt, { scopes: ["tts", "keys"], monthlyCreditLimit: 1 });
    expect(await speak(parent.key)).toEqual([200]);
    const children = [
      await createBy(parent.key, { monthlyCreditLimit: 1 }),
      await createBy(parent.key, { monthlyCreditLimit: 1 }),
      await createBy(parent.key, {}), // inherits the limit
    ];
    for (const child of children) expect(await speak(child.key)).toEqual(REFUSED); // was 200 each: 3.6 credits in all
    const grandchild = await createBy(children[0]!.key, { monthlyCreditLimit: 0.95 });
    expect(await speak(grandchild.key)).toEqual(REFUSED);
    const larger = await call("/v1/keys", { method: "POST", headers: auth(parent.key), json: { monthlyCreditLimit: 2 } });
    expect([larger.status, ((await larger.json()) as any).error.code]).toEqual([403, "scope_denied"]);
    expect(await usedMc(u, grandchild.id)).toBe(PER);
  });

  it("exact under concurrency: of 9 simultaneous 0.9-credit calls by a parent and two children, one passes", async () => {
    const u = await userOn("pro");
    const parent = await createBy(u.jwt, { scopes: ["tts", "keys"], monthlyCreditLimit: 1 });
    const family = [parent, await createBy(parent.key, {}), await createBy(parent.key, {})];
    const results = await Promise.all(family.flatMap((k) => [speak(k.key), speak(k.key), speak(k.key)]));
    expect(results.filter(([s]) => s === 200)).toHaveLength(1);
    expect(results.filter(([s]) => s !== 200)).toEqual(Array.from({ length: 8 }, () => REFUSED));
  });

  it("a limited key may rotate only keys of its own budget: another one's new plaintext would be more credits", async () => {
    const u = await userOn("pro");
    const parent = await createBy(u.jwt, { scopes: ["tts", "keys"], monthlyCreditLimit: 1 });
    const sibling = await createBy(u.jwt, { scopes: ["tts"], monthlyCreditLimit: 1 }); // within its rules, its own budget
    const refused = await call(`/v1/keys/${sibling.id}/rotate`, { method: "POST", headers: auth(parent.key) });
    const body = (await refused.json()) as any;
    expect([refused.status, body.error.code, body.error.fields[0].path]).toEqual([403, "scope_denied", "monthlyCreditLimit"]);
    expect(await speak(sibling.key)).toEqual([200]); // not rotated out
    // Its own children rotate as before.
    const child = await createBy(parent.key, { scopes: ["tts"] });
    await rotateBy(parent.key, child.id);
  });
});

describe("keys made by an unlimited key or the owner keep budgets of their own (unchanged)", () => {
  it("an unlimited key's child and a JWT's key each spend their own 0.9", async () => {
    const u = await userOn("pro");
    const unlimited = await createBy(u.jwt, { scopes: ["tts", "keys"] });
    expect(await speak(unlimited.key)).toEqual([200]);
    const child = await createBy(unlimited.key, { monthlyCreditLimit: 1 });
    const owners = await createBy(u.jwt, { monthlyCreditLimit: 1 });
    expect(await speak(child.key)).toEqual([200]);
    expect(await speak(owners.key)).toEqual([200]);
    expect(await speak(child.key)).toEqual(REFUSED);
    expect(await speak(owners.key)).toEqual(REFUSED);
    expect([await usedMc(u, child.id), await usedMc(u, owners.id)]).toEqual([PER, PER]);
  });
});

describe("a cold Account object", () => {
  it("knows each key's budget after a wake, from its own storage, with what was held", async () => {
    const u = await userOn("pro");
    const parent = await createBy(u.jwt, { scopes: ["tts", "keys"], monthlyCreditLimit: 1 });
    expect(await speak(parent.key)).toEqual([200]);
    const child = await createBy(parent.key, {});
    const rotated = await rotateBy(u.jwt, parent.id);
    await forgetMemory(u.id);
    expect(await speak(child.key)).toEqual(REFUSED);
    await forgetMemory(u.id);
    expect(await speak(rotated.key)).toEqual(REFUSED);
    // What a wake builds: the copy from storage, a ledger over the same tables — an open reservation included.
    await inAccount(u.id, (instance, state) => {
      instance.ledger.reserve("llm", 50, Date.now(), undefined, parent.id);
      const copy = CatalogCopy.restore(state.storage.sql);
      expect([child.id, rotated.id, parent.id].map((id) => copy?.budgetOf(id))).toEqual([parent.id, parent.id, parent.id]);
      const woken = new CreditLedger(state.storage.sql);
      woken.keys.useBudgets(copy!);
      expect(woken.keys.usedMc(child.id, billingPeriod(Date.now()))).toBe(PER + 50);
    });
    expect(await usedMc(u, rotated.id)).toBe(PER + 50);
  });
});
