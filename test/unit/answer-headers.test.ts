// What a gateway answer's headers say (API.md §4.2, §5, §6): X-Provider-Attempts lists providers that
// were called — not a retry's stored answer, not a refusal made before any provider ran — a replay costs
// 0, and a reserved request whose cost is known when it answers shows the credits as its charge leaves them.
import { describe, expect, it } from "vitest";
import { bearer } from "../helpers/api";
import { backgroundDone, call, fault, inAccount, ledgerOf, until, userOn } from "../helpers/reliability";

const nonce = () => `n${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
const chatBody = (text: string) => ({ provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: text }] });

describe("X-Provider-Attempts and X-Usage-Cost", () => {
  it("an idempotent replay lists no attempt and costs 0", async () => {
    const u = await userOn("scale");
    const key = nonce();
    const headers = { ...bearer(u.jwt), "idempotency-key": key };
    const first = await call("/v1/chat", { method: "POST", headers, json: chatBody(key) });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-provider-attempts")).toBe("openai=200");
    await first.text();
    await backgroundDone();
    const replay = await call("/v1/chat", { method: "POST", headers, json: chatBody(key) });
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("x-provider-attempts")).toBeNull();
    expect(replay.headers.get("x-usage-cost")).toBe("0");
  });

  it("a request refused before any provider was called (insufficient credits) lists no attempt", async () => {
    const u = await userOn("free");
    await inAccount(u.id, (i) => {
      i.ledger.charge("tts", 2_500_000, 2_500_000, Date.now());
    });
    const res = await call("/v1/synthesize", { method: "POST", headers: bearer(u.jwt), json: { provider: "elevenlabs", text: "Hello." } });
    expect(res.status).toBe(402);
    expect(res.headers.get("x-provider-attempts")).toBeNull();
  });
});

describe("X-Usage-* on a reserved request's answer", () => {
  it("a chat's answer shows the credits after its charge: the same as the next request's headers once it settled", async () => {
    const u = await userOn("pro");
    const res = await call("/v1/chat", { method: "POST", headers: bearer(u.jwt), json: chatBody(nonce()) });
    expect(res.status).toBe(200);
    await res.text();
    const cost = Number(res.headers.get("x-usage-cost"));
    expect(cost).toBeGreaterThan(0);
    expect(Number(res.headers.get("x-usage-current"))).toBe(cost);
    await until(
      () => ledgerOf(u.id),
      (l) => l.reservedMc === 0,
    );
    const next = await call("/v1/me", { headers: bearer(u.jwt) });
    expect(res.headers.get("x-usage-current")).toBe(next.headers.get("x-usage-current"));
    expect(res.headers.get("x-usage-remaining")).toBe(next.headers.get("x-usage-remaining"));
  });

  it("a request that failed and was refunded shows the credits as before it: speech (charged at admission) and chat (reserved)", async () => {
    const u = await userOn("pro");
    const before = await call("/v1/me", { headers: bearer(u.jwt) });
    for (const [path, provider, json] of [
      ["/v1/synthesize", "elevenlabs", (m: string) => ({ provider: "elevenlabs", text: `${m} hello there, a failing speech request.` })],
      ["/v1/chat", "openai", (m: string) => chatBody(m)],
    ] as const) {
      const m = nonce();
      await fault({ provider, bodyIncludes: m, mode: "error", status: 500 });
      const res = await call(path, { method: "POST", headers: bearer(u.jwt), json: json(m) });
      expect(res.status, path).toBe(502);
      expect(res.headers.get("x-usage-current"), path).toBe(before.headers.get("x-usage-current"));
      expect(res.headers.get("x-usage-remaining"), path).toBe(before.headers.get("x-usage-remaining"));
    }
  });

  it("speech with an Idempotency-Key (reserved, not charged at admission) shows its cost as charged, as without one", async () => {
    const u = await userOn("pro");
    const body = (m: string) => ({ provider: "elevenlabs", text: `${m} hello there, an idempotent speech request.` });
    const res = await call("/v1/synthesize", {
      method: "POST",
      headers: { ...bearer(u.jwt), "idempotency-key": nonce() },
      json: body(nonce()),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await until(
      () => ledgerOf(u.id),
      (l) => l.reservedMc === 0 && l.requestCount === 1,
    );
    const next = await call("/v1/me", { headers: bearer(u.jwt) });
    expect(res.headers.get("x-usage-current")).toBe(next.headers.get("x-usage-current"));
    expect(res.headers.get("x-usage-remaining")).toBe(next.headers.get("x-usage-remaining"));
  });
});
