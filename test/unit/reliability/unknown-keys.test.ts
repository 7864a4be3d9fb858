// Unknown API keys (issue 13): a key this isolate does not know costs a D1 read, so a caller spraying
// made-up keys could make the worker query D1 once per request, unauthenticated. Now: the same unknown
// key costs one read per isolate (the negative cache), and the reads one client address
// (CF-Connecting-IP) causes are bounded (src/auth/key-cache.ts); past the bound it gets 429 rate_limited
// with Retry-After and D1 is not asked. Revoked keys stay refused; known keys are unaffected.
// The addresses are only header values (documentation ranges): no traffic goes anywhere.

import { describe, expect, it } from "vitest";
import { forgetKey, UNKNOWN_KEY_LOOKUP_INTERVAL_MS, UNKNOWN_KEY_LOOKUPS_BURST } from "../../../src/auth/key-cache";
import { storageCounts } from "../../helpers/api";
import { call, keyOf, userOn } from "../../helpers/reliability";

let seq = 0;
/** A fresh client address for each test, so tests do not share a budget. */
const newAddress = () => `203.0.113.${(seq++ % 250) + 1}-${crypto.randomUUID().slice(0, 8)}`;

/** A well-formed key nobody has (43 base64url characters, like a real secret). */
function unknownKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `plabs_${btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replaceAll("=", "")}`;
}

/** Unknown keys from `address` until it is refused (at most twice the burst): the last status. */
async function throttle(address: string): Promise<number> {
  let status = 401;
  for (let i = 0; status === 401 && i < 2 * UNKNOWN_KEY_LOOKUPS_BURST; i++)
    status = (await call("/v1/me", from(address, unknownKey()))).status;
  return status;
}

const from = (address: string, key: string) => ({ headers: { authorization: `Bearer ${key}`, "cf-connecting-ip": address } });

describe("unknown API keys", () => {
  it("150 distinct wrong keys in a row from one address (a test suite's worth) each get the 401 API.md §8 promises", async () => {
    const address = newAddress();
    const statuses = new Set<number>();
    for (let i = 0; i < 150; i++) statuses.add((await call("/v1/me", from(address, unknownKey()))).status);
    expect([...statuses]).toEqual([401]);
  });

  it(`${3 * UNKNOWN_KEY_LOOKUPS_BURST} unknown keys from one address cost at most the burst of D1 reads (plus what refilled meanwhile); the rest get 429 without a query`, async () => {
    const address = newAddress();
    const total = 3 * UNKNOWN_KEY_LOOKUPS_BURST;
    const started = Date.now();
    let reads = 0;
    let refused = 0;
    for (let i = 0; i < total; i++) {
      const res = await call("/v1/me", from(address, unknownKey()));
      const d1 = storageCounts(res).d1 ?? 0;
      reads += d1;
      const body = (await res.json()) as any;
      if (res.status === 429) {
        refused++;
        expect(body.error.code).toBe("rate_limited");
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(d1, "a refused look-up asks D1 nothing").toBe(0);
      } else {
        expect(res.status).toBe(401);
        expect(body.error.code).toBe("unauthorized");
        expect(d1).toBe(1);
      }
    }
    // Tokens refill one per interval: the bound allows for the time the loop took.
    const refilled = Math.floor((Date.now() - started) / UNKNOWN_KEY_LOOKUP_INTERVAL_MS) + 1;
    console.log(`unknown keys: ${total} from one address → ${reads} D1 reads, ${refused} refused (429)`);
    expect(reads).toBeLessThanOrEqual(UNKNOWN_KEY_LOOKUPS_BURST + refilled);
    expect(refused).toBeGreaterThanOrEqual(total - UNKNOWN_KEY_LOOKUPS_BURST - refilled);

    // Another address is unaffected: its unknown key is looked up (and refused) as usual.
    const other = await call("/v1/me", from(newAddress(), unknownKey()));
    expect(other.status).toBe(401);
    expect(storageCounts(other).d1).toBe(1);
  });

  it("from a throttled address, a valid key this isolate knows still works (no D1 read); a revoked one stays refused", async () => {
    const user = await userOn("pro");
    const { key } = await keyOf(user); // created through this isolate: known from the start
    const { key: revoked, id: revokedId } = await keyOf(user);
    expect((await call("/v1/me", from(newAddress(), revoked))).status).toBe(200);
    const address = newAddress();
    expect(await throttle(address), "the address is throttled").toBe(429);

    const ok = await call("/v1/me", from(address, key));
    expect(ok.status).toBe(200);
    expect(storageCounts(ok).d1).toBe(0);

    const del = await call(`/v1/keys/${revokedId}`, { method: "DELETE", headers: { authorization: `Bearer ${user.jwt}` } });
    expect(del.status).toBe(200);
    const res = await call("/v1/me", from(address, revoked));
    expect(res.status).toBe(401);
  });

  it("a revoked key sent again and again costs one D1 read per isolate, and its look-up counts against the address like a miss", async () => {
    const user = await userOn("pro");
    const { key, id } = await keyOf(user);
    const del = await call(`/v1/keys/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${user.jwt}` } });
    expect(del.status).toBe(200);
    forgetKey(id); // as in another isolate, or once the Account object refused it here
    const address = newAddress();
    let reads = 0;
    for (let i = 0; i < 2 * UNKNOWN_KEY_LOOKUPS_BURST; i++) {
      const res = await call("/v1/me", from(address, key));
      expect(res.status).toBe(401);
      expect(((await res.json()) as any).error.message).toMatch(/revoked/);
      reads += storageCounts(res).d1 ?? 0;
    }
    expect(reads).toBe(1);
    // A look-up that found a revoked key found no usable key: it is taken from the address's budget
    // (ten revoked keys, then unknown ones up to the burst and what refilled meanwhile: the next is refused).
    const revoked: string[] = [];
    for (let i = 0; i < 10; i++) {
      const other = await keyOf(user);
      await call(`/v1/keys/${other.id}`, { method: "DELETE", headers: { authorization: `Bearer ${user.jwt}` } });
      forgetKey(other.id);
      revoked.push(other.key);
    }
    const fresh = newAddress();
    for (const k of revoked) expect((await call("/v1/me", from(fresh, k))).status).toBe(401);
    const started = Date.now();
    let unknown = 0;
    let status = 401;
    while (status === 401 && unknown < 2 * UNKNOWN_KEY_LOOKUPS_BURST) {
      status = (await call("/v1/me", from(fresh, unknownKey()))).status;
      if (status === 401) unknown++;
    }
    expect(status).toBe(429);
    const refilled = Math.floor((Date.now() - started) / UNKNOWN_KEY_LOOKUP_INTERVAL_MS) + 1;
    expect(unknown).toBeGreaterThanOrEqual(UNKNOWN_KEY_LOOKUPS_BURST - 10);
    expect(unknown).toBeLessThanOrEqual(UNKNOWN_KEY_LOOKUPS_BURST - 10 + refilled);
  });

  it("the same unknown key twice costs one D1 read", async () => {
    const address = newAddress();
    const key = unknownKey();
    const first = await call("/v1/me", from(address, key));
    const second = await call("/v1/me", from(address, key));
    expect([first.status, second.status]).toEqual([401, 401]);
    expect(storageCounts(first).d1).toBe(1);
    expect(storageCounts(second).d1).toBe(0);
  });

  it("a valid key found by a look-up does not count against its address", async () => {
    const user = await userOn("pro");
    const { key, id } = await keyOf(user);
    const address = newAddress();
    for (let i = 0; i < UNKNOWN_KEY_LOOKUPS_BURST + 5; i++) {
      forgetKey(id); // as in another isolate: the key must be looked up in D1
      const res = await call("/v1/me", from(address, key));
      expect(res.status).toBe(200);
      expect(storageCounts(res).d1).toBe(1);
    }
    // The address still has its whole burst for unknown keys.
    const res = await call("/v1/me", from(address, unknownKey()));
    expect(res.status).toBe(401);
  });

  it("a key created or rotated in through this isolate is known at once: no D1 read, even from a throttled address", async () => {
    // Keys are random, so a real key's hash is never in the negative cache; creation and rotation
    // through this isolate also drop it from there and remember the new key.
    const user = await userOn("pro");
    const { id } = await keyOf(user);
    const rotated = await call(`/v1/keys/${id}/rotate`, { method: "POST", headers: { authorization: `Bearer ${user.jwt}` } });
    expect(rotated.status).toBe(201);
    const next = ((await rotated.json()) as any).key as string;
    const address = newAddress();
    expect(await throttle(address)).toBe(429);
    const res = await call("/v1/me", from(address, next));
    expect(res.status).toBe(200);
    expect(storageCounts(res).d1).toBe(0);
  });
});
