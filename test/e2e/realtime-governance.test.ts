// Realtime sessions governed while they run, through a real `wrangler dev` (issue 16): credits running
// out (4402, at most one slice past the limit), a key revoked mid-session (4401 within 30 s), the plan's
// session cap (429), client tokens (once, only their operation, expiring, their caps: 4408), and provider
// failures (502 at the upgrade, 4502 mid-session). The harness sets REALTIME_CHECK_INTERVAL_SECONDS=1.
import { beforeEach, describe, expect, it } from "vitest";
import { sttCostMc, ttsCostMc } from "../../src/metering/prices";
import { SLICE_SPEAK_CHARACTERS } from "../../src/metering/realtime";
import { bearer, call, jwtFor, mock, payingUser, settled } from "./client";
import { connect, type RtClient, refused, upstreamSession, usage } from "./ws-client";

beforeEach(async () => {
  await mock("/reset", { method: "POST" });
});

async function freeUser() {
  const jwt = await jwtFor(`e2e-rt-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
  await call("/v1/me", { headers: bearer(jwt) });
  return { jwt };
}

const LISTEN = "/v1/realtime/listen?provider=deepgram&encoding=linear16&sampleRate=16000";
const HALF_SECOND = 16_000; // bytes of 16 kHz 16-bit audio

/** Waits for the close, failing if it takes longer than `ms` (the contract's bound, not a speed check). */
async function closedWithin(c: RtClient, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms);
  });
  return Promise.race([c.closed(), late]).finally(() => clearTimeout(timer));
}

async function token(credential: string, body: Record<string, unknown>) {
  const res = await call("/v1/realtime/tokens", { method: "POST", headers: bearer(credential), json: body });
  expect(res.status).toBe(201);
  return (await res.json()) as { success: true; token: string; expiresAt: string };
}

describe("credits", () => {
  it("credits running out end the session with 4402, the ledger at most one slice past the limit", async () => {
    const u = await freeUser(); // 2,500 credits; a JWT pays the full price (166 mc a character on ElevenLabs)
    const c = await connect("/v1/realtime/speak?provider=elevenlabs", { headers: bearer(u.jwt) });
    const piece = `${"a".repeat(999)} `;
    for (let i = 0; i < 20; i++) {
      c.send({ type: "text", text: piece });
      c.send({ type: "flush" });
    }
    expect((await c.closed()).code).toBe(4402);
    expect(c.all("error").at(-1)).toMatchObject({ code: "insufficient_credits" });

    const used = await settled(
      () => usage(u.jwt),
      (b) => b.requestCount === 1,
    );
    const sliceCredits = ttsCostMc("elevenlabs", SLICE_SPEAK_CHARACTERS, false)! / 1000;
    expect(used.credits.used).toBeLessThanOrEqual(used.credits.limit + sliceCredits);
    // Every character that reached the provider was charged, and nothing more.
    const rec = await upstreamSession("elevenlabs", "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/multi-stream-input");
    expect(rec.received.characters).toBe(15_000);
    expect(used.breakdown.tts).toBe(ttsCostMc("elevenlabs", 15_000, false)! / 1000);
    expect(c.all("usage").at(-1)).toMatchObject({ characters: 15_000, cost: used.breakdown.tts });
  });

  it("a client token's maxCredits ends the session with 4402 before it passes them", async () => {
    const u = await payingUser("pro");
    const { token: t } = await token(u.key, { operation: "speak", provider: "deepgram", maxCredits: 1 }); // 1 credit: 37 characters at 27 mc (30, less the API-key discount)
    const c = await connect(`/v1/realtime/speak?provider=deepgram&token=${t}`);
    for (let i = 0; i < 5; i++) c.send({ type: "text", text: "0123456789" });
    expect((await c.closed()).code).toBe(4402);
    const used = await settled(
      () => usage(u.jwt),
      (b) => b.requestCount === 1,
    );
    expect(used.breakdown.tts).toBe(ttsCostMc("deepgram", 30, true)! / 1000); // minted with an API key
  });
});

describe("revocation", () => {
  it("a key revoked mid-session closes it with 4401 (after an error event) within 30 s", async () => {
    const u = await payingUser("pro");
    const c = await connect(LISTEN, { headers: bearer(u.key) });
    c.send(Buffer.alloc(HALF_SECOND, 3));
    await c.json("transcript");
    const res = await call(`/v1/keys/${u.keyId}`, { method: "DELETE", headers: bearer(u.jwt) });
    expect(res.status).toBe(200);
    expect((await closedWithin(c, 30_000)).code).toBe(4401);
    expect(c.all("error").at(-1)).toMatchObject({ code: "unauthorized" });
    const used = await settled(
      () => usage(u.jwt),
      (b) => b.breakdown.stt > 0,
    );
    expect(used.breakdown.stt).toBe(sttCostMc("deepgram", 0.5)! / 1000);
  });

  it("revoking the key that minted a client token ends the token's session too", async () => {
    const u = await payingUser("pro");
    const { token: t } = await token(u.key, { operation: "listen" });
    const c = await connect(`${LISTEN}&token=${t}`);
    await call(`/v1/keys/${u.keyId}`, { method: "DELETE", headers: bearer(u.jwt) });
    expect((await closedWithin(c, 30_000)).code).toBe(4401);
  });
});

describe("the plan's session cap", () => {
  for (const [plan, cap] of [
    ["free", 1],
    ["starter", 2],
  ] as const) {
    it(`${plan}: ${cap} at once; one more is refused with 429 session_limit_reached; a slot frees when a session ends`, async () => {
      const u = plan === "free" ? await freeUser() : await payingUser(plan);
      const open: RtClient[] = [];
      for (let i = 0; i < cap; i++) open.push(await connect(LISTEN, { headers: bearer(u.jwt) }));
      const r = await refused(LISTEN, { headers: bearer(u.jwt) });
      expect(r.status).toBe(429);
      expect(r.json.error.code).toBe("session_limit_reached");
      const first = open.shift()!;
      first.send({ type: "close" });
      await first.closed();
      // The slot is given back when the session's close reaches the Account object (just after the socket closes).
      const again = await settled(
        () => connect(LISTEN, { headers: bearer(u.jwt) }).catch(() => undefined),
        (x) => x !== undefined,
      );
      open.push(again!);
      for (const c of open) c.ws.close();
    });
  }
});

describe("client tokens", () => {
  it("works once, only for its operation and provider, with no other credential; the subprotocol is echoed", async () => {
    const u = await payingUser("pro");
    const t = await token(u.key, { operation: "listen", provider: "deepgram" });
    expect(t.token).toMatch(/^vgt_/);
    expect(Date.parse(t.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
    expect((await refused(`/v1/realtime/speak?provider=deepgram&token=${t.token}`)).status).toBe(403);
    expect((await refused(`/v1/realtime/listen?provider=cartesia&token=${t.token}`)).status).toBe(403);

    const subprotocol = `voxgate-token.${t.token}`;
    const c = await connect(LISTEN, { protocols: [subprotocol] });
    expect(c.ws.protocol).toBe(subprotocol);
    c.send(Buffer.alloc(2 * HALF_SECOND, 5));
    c.send({ type: "close" });
    expect((await c.closed()).code).toBe(1000);
    const used = await settled(
      () => usage(u.jwt),
      (b) => b.breakdown.stt > 0,
    );
    expect(used.breakdown.stt).toBe(sttCostMc("deepgram", 1)! / 1000);

    expect((await refused(`${LISTEN}&token=${t.token}`)).status).toBe(401);
    expect((await refused(`${LISTEN}&token=vgt_${"x".repeat(20)}.${"y".repeat(43)}`)).status).toBe(401);
    expect((await refused(`${LISTEN}&token=not-a-token`)).status).toBe(401);
    expect((await call("/v1/realtime/tokens", { method: "POST", json: { operation: "listen" } })).status).toBe(401);
  });

  it("expires after its ttlSeconds", async () => {
    const u = await payingUser("pro");
    const t = await token(u.jwt, { operation: "listen", ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(t.expiresAt) - Date.now()) + 200));
    expect((await refused(`${LISTEN}&token=${t.token}`)).status).toBe(401);
  });

  it("its maxSeconds ends the session with 4408", async () => {
    const u = await payingUser("pro");
    const t = await token(u.jwt, { operation: "speak", maxSeconds: 1 });
    const c = await connect(`/v1/realtime/speak?token=${t.token}`);
    expect((await c.closed()).code).toBe(4408);
    expect(c.all("error").at(-1)).toMatchObject({ code: "session_time_limit" });
  });
});

describe("provider failures", () => {
  it("a provider refusing the upgrade is a 502 at the upgrade; nothing is charged and the slot is free", async () => {
    const u = await freeUser();
    await mock("/fault", { method: "POST", json: { provider: "deepgram", path: "/v1/listen", mode: "ws_refuse", status: 503 } });
    const r = await refused(LISTEN, { headers: bearer(u.jwt) });
    expect(r.status).toBe(502);
    expect(r.json.error).toMatchObject({ code: "provider_error", providerStatus: 503 });
    const c = await settled(
      () => connect(LISTEN, { headers: bearer(u.jwt) }).catch(() => undefined),
      (x) => x !== undefined,
    );
    c!.send({ type: "close" });
    await c!.closed();
    const used = await settled(
      () => usage(u.jwt),
      (b) => b.requestCount === 2,
    );
    expect(used.credits.used).toBe(0);
  });

  it("a provider dropping the connection mid-session ends it with 4502; what was streamed is charged", async () => {
    const u = await payingUser("pro");
    await mock("/fault", { method: "POST", json: { provider: "deepgram", path: "/v1/listen", mode: "ws_drop", afterFrames: 3 } });
    const c = await connect(LISTEN, { headers: bearer(u.key) });
    for (let i = 0; i < 3; i++) c.send(Buffer.alloc(3200, 1));
    expect((await c.closed()).code).toBe(4502);
    expect(c.all("error").at(-1)).toMatchObject({ code: "provider_error" });
    const final = c.all("usage").at(-1);
    expect(final.seconds).toBe(0.3);
    const used = await settled(
      () => usage(u.jwt),
      (b) => b.breakdown.stt > 0,
    );
    expect(used.breakdown.stt).toBe(sttCostMc("deepgram", 0.3)! / 1000);
  });
});
