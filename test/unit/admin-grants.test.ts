// The admin API's plan grants and PAYG top-ups (API.md §6, §7): a re-granted lapsed plan does not depend on
// whether the scheduled job has run, and the PAYG balance stays an exact count of millicredits.
import { describe, expect, it } from "vitest";
import { adminJwt, api, bearer, newUser, usageOf } from "../helpers/api";
import { env } from "../helpers/env";

const admin = async (path: string, method: string, json: unknown) => api(path, { method, headers: bearer(await adminJwt()), json });
const patchUser = async (id: string, json: unknown) => admin(`/api/admin/users/${id}`, "PATCH", json);
const topUp = async (id: string, amount: number, reason = "test") => admin(`/api/admin/users/${id}/credits`, "POST", { amount, reason });

const storedExpiry = async (id: string) =>
  (await env.DB.prepare("SELECT plan_expires_at AS e FROM users WHERE id = ?").bind(id).first<{ e: number | null }>())?.e;
const auditRows = async (id: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM credit_audit WHERE user_id = ?").bind(id).first<{ n: number }>())?.n;
const paygOf = async (id: string) => ((await (await admin(`/api/admin/users/${id}`, "GET", undefined)).json()) as any).user.paygCredits;
const pastIso = () => new Date(Date.now() - 60_000).toISOString();

describe("re-granting a plan", () => {
  it("a lapsed plan set again without planExpiresAt is granted with no expiry, as after the scheduled job", async () => {
    // Before the job ran: still "pro" in the catalog, but its expiry has passed (effectively free).
    const before = await newUser({ plan: "pro", planExpiresAt: pastIso() });
    expect((await usageOf(before.jwt)).credits.limit).toBe(2_500);
    const r = await patchUser(before.id, { plan: "pro" });
    const user = ((await r.json()) as any).user;
    expect([r.status, user.effectivePlan, user.planExpiresAt]).toEqual([200, "pro", null]);
    expect(await storedExpiry(before.id)).toBeNull(); // D1 agrees with the object's copy
    expect((await usageOf(before.jwt)).credits.limit).toBe(200_000);

    // After the job ran (it sets free with no expiry): the same PATCH gives the same answer.
    const after = await newUser({ plan: "pro", planExpiresAt: pastIso() });
    await patchUser(after.id, { plan: "free", planExpiresAt: null });
    const s = ((await (await patchUser(after.id, { plan: "pro" })).json()) as any).user;
    expect([s.effectivePlan, s.planExpiresAt]).toEqual([user.effectivePlan, user.planExpiresAt]);
  });

  it("an expiry still to come is kept when only the plan changes; an explicit planExpiresAt always wins", async () => {
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const u = await newUser({ plan: "pro", planExpiresAt: future });
    const up = ((await (await patchUser(u.id, { plan: "scale" })).json()) as any).user;
    expect([up.effectivePlan, Date.parse(up.planExpiresAt)]).toEqual(["scale", Date.parse(future)]);

    const lapsed = await newUser({ plan: "pro", planExpiresAt: pastIso() });
    const at = pastIso();
    const kept = ((await (await patchUser(lapsed.id, { plan: "pro", planExpiresAt: at })).json()) as any).user;
    expect([kept.effectivePlan, Date.parse(kept.planExpiresAt)]).toEqual(["free", Date.parse(at)]);
  });
});

describe("PAYG top-ups stay exact", () => {
  it("a top-up above 10^9 credits is refused with 400 validation_failed, nothing written", async () => {
    const u = await newUser();
    const res = await topUp(u.id, 1e9 + 1);
    const body = (await res.json()) as any;
    expect([res.status, body.error.code, body.error.fields?.[0]?.path]).toEqual([400, "validation_failed", "amount"]);
    expect(await auditRows(u.id)).toBe(0);
    expect((await topUp(u.id, 1e9)).status).toBe(200);
  });

  it("the balance stops at 10^12 credits: the top-up that would pass it is refused and changes nothing", async () => {
    const u = await newUser({ paygCredits: 999_999_999_999.998 });
    // Near the ceiling a millicredit still counts (past 2^53 millicredits it would be lost).
    expect(((await (await topUp(u.id, 0.001)).json()) as any).user.paygCredits).toBe(999_999_999_999.999);
    expect(((await (await topUp(u.id, 0.001)).json()) as any).user.paygCredits).toBe(1e12);
    const audited = await auditRows(u.id);
    const res = await topUp(u.id, 0.001, "one too many");
    const body = (await res.json()) as any;
    expect([res.status, body.error.code, body.error.message]).toEqual([400, "validation_failed", expect.stringContaining("1000000000000")]);
    expect(await auditRows(u.id)).toBe(audited);
    expect(await paygOf(u.id)).toBe(1e12);
    // PATCH sets the balance outright, to at most the same ceiling.
    expect((await patchUser(u.id, { paygCredits: 1e12 + 1 })).status).toBe(400);
  });

  it("concurrent top-ups near the ceiling: only those that fit are added", async () => {
    const u = await newUser({ paygCredits: 1e12 - 2.5e9 });
    const results = await Promise.all(Array.from({ length: 4 }, () => topUp(u.id, 1e9)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 400, 400]);
    expect(await paygOf(u.id)).toBe(1e12 - 0.5e9);
  });

  it("an amount with three decimals near 10^9 is taken exactly (a float tolerance refused some)", async () => {
    const u = await newUser();
    const res = await topUp(u.id, 543_610_791.57);
    expect([res.status, ((await res.json()) as any).user.paygCredits]).toEqual([200, 543_610_791.57]);
    expect((await topUp(u.id, 0.0001)).status).toBe(400);
  });
});

describe("a top-up's reason", () => {
  it("one of only whitespace is 400 validation_failed naming reason, and nothing is added; a reason is kept trimmed", async () => {
    const u = await newUser({ plan: "starter" });
    const [before, audited] = [await paygOf(u.id), await auditRows(u.id)];
    const blank = await topUp(u.id, 5, " \t ");
    expect([blank.status, ((await blank.json()) as any).error.code]).toEqual([400, "validation_failed"]);
    expect(await paygOf(u.id)).toBe(before);
    expect(await auditRows(u.id)).toBe(audited);
    expect((await topUp(u.id, 5, "  goodwill  ")).status).toBe(200);
    const row = await env.DB.prepare("SELECT reason FROM credit_audit WHERE user_id = ? ORDER BY rowid DESC LIMIT 1")
      .bind(u.id)
      .first<{ reason: string }>();
    expect(row?.reason).toBe("goodwill");
  });
});

describe("a top-up's fields", () => {
  it("an unknown field (a misspelt one) is 400 validation_failed naming it; nothing is added", async () => {
    const u = await newUser({ plan: "starter" });
    const [before, audited] = [await paygOf(u.id), await auditRows(u.id)];
    const res = await admin(`/api/admin/users/${u.id}/credits`, "POST", { amount: 10, reason: "ok", currency: "usd" });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("validation_failed");
    expect(JSON.stringify(body.error)).toContain("currency");
    expect(await paygOf(u.id)).toBe(before);
    expect(await auditRows(u.id)).toBe(audited);
  });
});
