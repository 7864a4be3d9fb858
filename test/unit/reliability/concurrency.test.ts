// Concurrency (issue 5 §4): concurrent key creation from several credentials of one user, rotation
// racing revocation (and rotation), concurrent metered requests near the credit limit, concurrent
// provider-key upserts and deletes. No lost update, no duplicate, no limit crossed — checked against D1,
// the Account object's own copy, and what each response said.
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { getConfig } from "../../../src/config";
import { open } from "../../../src/crypto/provider-key-vault";
import { usageKvKey } from "../../../src/metering/contract";
import { llmCostMc, sttCostMc, ttsCostMc } from "../../../src/metering/prices";
import { bearer } from "../../helpers/api";
import { env } from "../../helpers/env";
import { nth } from "../../helpers/items";
import { call, inAccount, keyOf, ledgerOf, sleep, type TestAccount, until, userOn } from "../../helpers/reliability";

const clients = { total: 0, largestBurst: 0 };
/** Fire all at once; counts the concurrent clients for docs/RELIABILITY.md. One answer per function, in order. */
async function burst<const F extends readonly (() => Promise<unknown>)[]>(fns: F): Promise<Answers<F>> {
  clients.total += fns.length;
  clients.largestBurst = Math.max(clients.largestBurst, fns.length);
  // Promise.all keeps a tuple's shape, but fns.map() does not: the mapped type restores it.
  return (await Promise.all(fns.map((f) => f()))) as Answers<F>;
}
type Answers<F extends readonly (() => Promise<unknown>)[]> = { -readonly [K in keyof F]: Awaited<ReturnType<F[K]>> };
afterAll(() => console.info(`concurrency: ${clients.total} concurrent requests in bursts of up to ${clients.largestBurst}`));

const activeKeys = async (userId: string) =>
  (await env.DB.prepare("SELECT id FROM api_keys WHERE user_id = ? AND revoked_at IS NULL").bind(userId).all<{ id: string }>()).results.map(
    (r) => r.id,
  );
const keyRow = (id: string) => env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(id).first<any>();
const works = async (key: string) => (await call("/v1/me", { headers: bearer(key) })).status;

describe("API keys", () => {
  it("creates from a JWT, an API key and the Sonna alias at once: exactly up to 10 active, no duplicates, all usable", async () => {
    const user = await userOn("pro");
    const first = await keyOf(user);
    const results = await burst(
      Array.from({ length: 24 }, (_, i) => () => {
        const [path, auth] = [
          ["/v1/keys", bearer(user.jwt)],
          ["/v1/keys", bearer(first.key)],
          ["/api/v1/user/api-keys", { "x-api-key": first.key }],
        ][i % 3] as [string, Record<string, string>];
        return call(path, { method: "POST", headers: auth, json: { name: `c${i}` } });
      }),
    );
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(9);
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(15);
    for (const r of refused) expect(((await r.json()) as any).error.code).toBe("key_limit_reached");
    const bodies = (await Promise.all(created.map((r) => r.json()))) as any[];
    expect(new Set(bodies.map((b) => b.apiKey.id)).size).toBe(9);
    expect(new Set(bodies.map((b) => b.key)).size).toBe(9);
    const active = await activeKeys(user.id);
    expect(active).toHaveLength(10);
    expect(active.sort()).toEqual([first.id, ...bodies.map((b) => b.apiKey.id)].sort());
    for (const b of bodies) expect(await works(b.key)).toBe(200);
  });

  it("creates racing revocations: the limit holds at every moment, and every slot freed is used at most once", async () => {
    const user = await userOn("scale");
    const keys = [];
    for (let i = 0; i < 10; i++) keys.push(await keyOf(user));
    const revoke = keys.slice(0, 3);
    const results = await burst([
      ...revoke.map((k) => () => call(`/v1/keys/${k.id}`, { method: "DELETE", headers: bearer(user.jwt) })),
      ...Array.from({ length: 8 }, () => () => call("/v1/keys", { method: "POST", headers: bearer(user.jwt), json: {} })),
    ]);
    expect(results.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
    const createdCount = results.slice(3).filter((r) => r.status === 201).length;
    expect(results.slice(3).every((r) => r.status === 201 || r.status === 409)).toBe(true);
    expect(createdCount).toBeLessThanOrEqual(3);
    expect(await activeKeys(user.id)).toHaveLength(7 + createdCount);
    for (const k of revoke) expect(await works(k.key)).toBe(401);
  });

  type Race = "rotate ‖ revoke" | "rotate ‖ rotate" | "rotate by the key itself ‖ revoke";
  const RACES: Race[] = ["rotate ‖ revoke", "rotate ‖ rotate", "rotate by the key itself ‖ revoke"];
  const ROUNDS = 10;

  it(`rotation racing revocation or another rotation (${RACES.length} × ${ROUNDS} rounds): the old key always dead, at most one successor, no lost update`, async () => {
    const user = await userOn("scale");
    const problems: string[] = [];
    for (const race of RACES) {
      for (let round = 0; round < ROUNDS; round++) {
        const old = await keyOf(user, { name: `race ${round}`, expiresInDays: 30 });
        expect(await works(old.key)).toBe(200); // remembered by this isolate as a good key
        const before = await activeKeys(user.id);
        const rotate = (auth: string) => () => call(`/v1/keys/${old.id}/rotate`, { method: "POST", headers: bearer(auth) });
        const revoke = () => call(`/v1/keys/${old.id}`, { method: "DELETE", headers: bearer(user.jwt) });
        const [a, b] = await burst(
          race === "rotate ‖ revoke"
            ? [rotate(user.jwt), revoke]
            : race === "rotate ‖ rotate"
              ? [rotate(user.jwt), rotate(user.jwt)]
              : [rotate(old.key), revoke],
        );
        const label = `${race} #${round}: ${a.status}/${b.status}`;
        const rotations = [a, b].filter((r, i) => (i === 0 || race === "rotate ‖ rotate") && r.status === 201);
        const rotationRefused = [a, b].filter((r, i) => (i === 0 || race === "rotate ‖ rotate") && r.status !== 201);
        for (const r of rotationRefused)
          if (![404, 401].includes(r.status)) problems.push(`${label}: a refused rotation answered ${r.status}`);
        if (race !== "rotate ‖ rotate" && b.status !== 200) problems.push(`${label}: revoke answered ${b.status}`);
        if (rotations.length > 1) problems.push(`${label}: two rotations of one key succeeded`);
        // The old key: dead, in D1 and for the Account object (its next request is a 401).
        const oldRow = await keyRow(old.id);
        if (oldRow.revoked_at === null) problems.push(`${label}: the old key is not revoked in D1`);
        if ((await works(old.key)) !== 401) problems.push(`${label}: the old key still works`);
        const after = await activeKeys(user.id);
        if (rotations.length === 1) {
          const body = (await rotations[0]!.json()) as any;
          if (oldRow.replaced_by !== body.apiKey.id)
            problems.push(`${label}: replaced_by ${oldRow.replaced_by} ≠ the successor ${body.apiKey.id}`);
          if (body.apiKey.name !== `race ${round}`) problems.push(`${label}: the successor lost the name`);
          const life = Date.parse(body.apiKey.expiresAt) - Date.parse(body.apiKey.createdAt);
          if (Math.abs(life - 30 * 86_400_000) > 1) problems.push(`${label}: the successor's lifetime is ${life} ms`);
          if ((await works(body.key)) !== 200) problems.push(`${label}: the successor does not work`);
          const expected = [...before.filter((id) => id !== old.id), body.apiKey.id].sort();
          if (JSON.stringify(after.sort()) !== JSON.stringify(expected)) problems.push(`${label}: active keys ${after} ≠ ${expected}`);
        } else {
          if (oldRow.replaced_by !== null) {
            // The rotation's revoke half landed without its insert: the key would be gone with no successor.
            const successor = await keyRow(oldRow.replaced_by);
            if (!successor) problems.push(`${label}: replaced_by points at a key that does not exist`);
          }
          const expected = before.filter((id) => id !== old.id).sort();
          if (JSON.stringify(after.sort()) !== JSON.stringify(expected)) problems.push(`${label}: active keys ${after} ≠ ${expected}`);
        }
        // Keep the user under the limit of 10 active keys for the next round.
        for (const id of await activeKeys(user.id)) await call(`/v1/keys/${id}`, { method: "DELETE", headers: bearer(user.jwt) });
      }
    }
    expect(problems).toEqual([]);
  }, 60_000);

  it("20 concurrent revocations of one key: all succeed, it is revoked once (the first time stands)", async () => {
    const user = await userOn("pro");
    const k = await keyOf(user);
    expect(await works(k.key)).toBe(200);
    const results = await burst(
      Array.from({ length: 20 }, () => () => call(`/v1/keys/${k.id}`, { method: "DELETE", headers: bearer(user.jwt) })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const row = await keyRow(k.id);
    expect(row.revoked_at).not.toBeNull();
    await sleep(50);
    expect((await keyRow(k.id)).revoked_at).toBe(row.revoked_at);
    expect(await works(k.key)).toBe(401);
  });
});

describe("credits near the limit", () => {
  it("60 concurrent metered requests of every kind: no overspend, the ledger is exactly the sum of what was served", async () => {
    // Free plan (2,500 credits) + 300 PAYG credits: 2,800 credits for ~6,600 credits of demand.
    const user = await userOn("free", { paygCredits: 300 });
    const keyA = await keyOf(user);
    const keyB = await keyOf(user);
    const before = await ledgerOf(user.id);
    const budget = before.remainingMc;
    expect(budget).toBe(2_800_000);

    type Req = { kind: "tts-key" | "tts-jwt" | "chat" | "stt"; estimate: number; send: () => Promise<Response> };
    const text = "a".repeat(1000);
    const chatMsg = "one two three four";
    const reqs: Req[] = [
      ...Array.from(
        { length: 20 },
        (): Req => ({
          kind: "tts-key",
          estimate: ttsCostMc("elevenlabs", 1000, true)!,
          send: () => call("/v1/synthesize", { method: "POST", headers: bearer(keyA.key), json: { provider: "elevenlabs", text } }),
        }),
      ),
      ...Array.from(
        { length: 20 },
        (): Req => ({
          kind: "tts-jwt",
          estimate: ttsCostMc("elevenlabs", 1000, false)!,
          send: () => call("/v1/synthesize", { method: "POST", headers: bearer(user.jwt), json: { provider: "elevenlabs", text } }),
        }),
      ),
      ...Array.from(
        { length: 10 },
        (): Req => ({
          kind: "chat",
          estimate: llmCostMc("gpt-4.1", chatMsg.length, 2000)!,
          send: () =>
            call("/v1/chat", {
              method: "POST",
              headers: bearer(keyB.key),
              json: { provider: "openai", model: "gpt-4.1", maxTokens: 2000, messages: [{ role: "user", content: chatMsg }] },
            }),
        }),
      ),
      ...Array.from(
        { length: 10 },
        (): Req => ({
          kind: "stt",
          estimate: sttCostMc("deepgram", 15)!, // 30,000 bytes at the assumed 2,000 bytes/s
          send: () => {
            const form = new FormData();
            form.append("file", new File([new Uint8Array(30_000)], "a.wav", { type: "audio/wav" }));
            form.append("provider", "deepgram");
            return call("/v1/transcribe", { method: "POST", headers: bearer(keyB.key), body: form });
          },
        }),
      ),
    ].sort(() => Math.random() - 0.5);

    const results = await burst(reqs.map((r) => r.send));
    let served = 0;
    let charged = 0;
    let overEstimate = 0;
    for (const [i, res] of results.entries()) {
      const r = nth(reqs, i, "request"); // burst answers one per request, in order
      if (res.status === 402) {
        expect(((await res.json()) as any).error.code).toBe("insufficient_credits");
        continue;
      }
      // On a loaded machine a provider call may pass PROVIDER_TIMEOUT_MS (2 s in tests): refunded, not served.
      if (res.status === 504) {
        await res.arrayBuffer();
        continue;
      }
      expect(
        res.status,
        `${r.kind}: ${await res
          .clone()
          .text()
          .catch(() => "")}`,
      ).toBe(200);
      served++;
      let actual: number;
      if (r.kind === "tts-key" || r.kind === "tts-jwt") {
        await res.arrayBuffer();
        actual = r.estimate; // speech is priced per character: the reservation is the charge
      } else if (r.kind === "chat") {
        const body = (await res.json()) as any;
        actual = llmCostMc("gpt-4.1", body.usage.inputTokens, body.usage.outputTokens)!;
      } else {
        actual = sttCostMc("deepgram", ((await res.json()) as any).durationSeconds)!;
      }
      charged += actual;
      overEstimate += Math.max(0, actual - r.estimate);
    }
    expect(results.filter((r) => r.status === 402).length, "the burst reached the limit").toBeGreaterThan(0);

    const after = await until(
      () => ledgerOf(user.id),
      (s) => s.requestCount === served && s.reservedMc === 0,
    );
    expect(after.reservedMc).toBe(0);
    expect(after.requestCount).toBe(served);
    expect(after.usedMc).toBe(charged); // exact: nothing lost, nothing counted twice
    // Never past the budget, except by what the reservations of admitted requests underestimated
    // (an upload's duration is estimated from its size).
    expect(after.usedMc).toBeLessThanOrEqual(budget + overEstimate);
    // PAYG is spent after the plan's credits.
    expect(after.paygMc).toBe(Math.max(0, 300_000 - Math.max(0, after.usedMc - 2_500_000)));
    expect(after.remainingMc).toBe(Math.max(0, budget - after.usedMc));
    // The KV mirror, once the alarm ran, says the same.
    await runDurableObjectAlarm(env.ACCOUNT.getByName(user.id));
    const kv = JSON.parse((await env.USAGE.get(usageKvKey(user.id, after.period)))!);
    expect(kv.usedMc).toBe(after.usedMc);
    expect(kv.requestCount).toBe(served);
  });

  it("plan + PAYG credits admit exactly as many concurrent requests as they pay for, wave after wave", async () => {
    // Free plan 2,500 + 10 PAYG = 2,510 credits; with an API key, 1,000 characters on ElevenLabs cost 149.4.
    const user = await userOn("free", { paygCredits: 10 });
    let left = 2_510_000;
    for (const [n, chars] of [
      [24, 1000],
      [12, 100],
      [6, 10],
    ] as const) {
      const each = ttsCostMc("elevenlabs", chars, true)!;
      const { key } = await keyOf(user); // a key per wave: each wave stays within the key's 30 requests a minute
      const fit = Math.min(n, Math.floor(left / each));
      const results = await burst(
        Array.from(
          { length: n },
          () => () =>
            call("/v1/synthesize", { method: "POST", headers: bearer(key), json: { provider: "elevenlabs", text: "b".repeat(chars) } }),
        ),
      );
      await Promise.all(results.map((r) => r.arrayBuffer()));
      expect(results.filter((r) => r.status === 200).length, `${n} × ${chars} characters with ${left} mc left`).toBe(fit);
      expect(results.filter((r) => r.status === 402)).toHaveLength(n - fit);
      left -= fit * each;
      const s = await until(
        () => ledgerOf(user.id),
        (x) => x.reservedMc === 0 && x.remainingMc === left,
      );
      expect(s.remainingMc).toBe(left);
      expect(s.usedMc).toBe(2_510_000 - left);
    }
    expect(left).toBeLessThan(ttsCostMc("elevenlabs", 10, true)!);
    const me = (await (await call("/v1/me", { headers: bearer(user.jwt) })).json()) as any;
    expect(me.user.paygCredits).toBe(left / 1000);
  });
});

describe("stored provider keys", () => {
  async function stateOf(user: TestAccount, provider: string) {
    const row = await env.DB.prepare("SELECT * FROM provider_keys WHERE user_id = ? AND provider = ?").bind(user.id, provider).first<any>();
    const rows = (await env.DB.prepare("SELECT COUNT(*) AS n FROM provider_keys WHERE user_id = ? AND provider = ?")
      .bind(user.id, provider)
      .first<{ n: number }>())!.n;
    const memory = (await inAccount(user.id, async (instance) => (await instance.copy).providerKeys.get(provider) ?? null)) as {
      ciphertext: string;
    } | null;
    return { row, rows, memory };
  }

  it("20 concurrent upserts of one provider: one row, it decrypts to one of the secrets sent, and the Account object holds that same one", async () => {
    const user = await userOn("pro");
    const secrets = Array.from({ length: 20 }, (_, i) => `secret-${i}-${crypto.randomUUID()}`);
    const results = await burst(
      secrets.map(
        (apiKey) => () => call("/v1/provider-keys", { method: "POST", headers: bearer(user.jwt), json: { provider: "cartesia", apiKey } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    const { row, rows, memory } = await stateOf(user, "cartesia");
    expect(rows).toBe(1);
    const plaintext = await open(getConfig(env as any), user.id, "cartesia", {
      ciphertext: row.ciphertext,
      iv: row.iv,
      keyVersion: row.key_version,
    });
    expect(secrets).toContain(plaintext);
    expect(row.last4).toBe(plaintext!.slice(-4));
    // The hot path uses the Account object's copy: it must be the row D1 kept (the last write).
    expect(memory?.ciphertext).toBe(row.ciphertext);
    const listed = (await (await call("/v1/provider-keys", { headers: bearer(user.jwt) })).json()) as any;
    expect(listed.providerKeys).toHaveLength(1);
    expect(listed.providerKeys[0].last4).toBe(row.last4);
  });

  it("upserts racing deletes (10 rounds): D1 and the Account object agree on whether a key is stored, and which", async () => {
    const user = await userOn("scale");
    const problems: string[] = [];
    for (let round = 0; round < 10; round++) {
      const results = await burst([
        ...Array.from(
          { length: 6 },
          (_, i) => () =>
            call("/v1/provider-keys", {
              method: "POST",
              headers: bearer(user.jwt),
              json: { provider: "deepgram", apiKey: `r${round}-k${i}-secret` },
            }),
        ),
        ...Array.from({ length: 3 }, () => () => call("/v1/provider-keys/deepgram", { method: "DELETE", headers: bearer(user.jwt) })),
      ]);
      for (const r of results) if (![200, 201, 404].includes(r.status)) problems.push(`round ${round}: ${r.status}`);
      const { row, rows, memory } = await stateOf(user, "deepgram");
      if (rows > 1) problems.push(`round ${round}: ${rows} rows`);
      if ((row === null) !== (memory === null))
        problems.push(`round ${round}: D1 ${row ? "has" : "has no"} key, the Account object ${memory ? "has" : "has none"}`);
      else if (row && row.ciphertext !== memory?.ciphertext) problems.push(`round ${round}: D1 and the Account object hold different keys`);
    }
    expect(problems).toEqual([]);
  });
});
