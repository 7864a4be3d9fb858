// Money that cannot leak (issue 12, API.md §6): every metered request is bounded by what it reserved,
// charged exactly once, in the period it was made in; the excess a provider reports anyway is debt.
import { describe, expect, it } from "vitest";
import { chatBound, LLM_DEFAULT_RESERVE_OUTPUT_TOKENS } from "../../src/metering/estimates";
import { llmCostMc, sttCostMc, ttsCostMc } from "../../src/metering/prices";
import { env } from "../helpers/env";
import { ageReservation, call, fault, inAccount, ledgerOf, until, userOn } from "../helpers/reliability";
// @ts-expect-error plain JS module shared with the mock server
import { mockDurationSeconds } from "../mocks/audio.mjs";

const auth = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const nonce = () => `n${crypto.randomUUID().replaceAll("-", "")}`;
/** The JSON events of a /v1/chat SSE answer, in order. */
const sseEvents = async (res: Response): Promise<any[]> =>
  (await res.text())
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => JSON.parse(e.slice(6)));

async function upstream(provider: string, marker: string): Promise<any[]> {
  const res = await fetch(`${env.TEST_MOCK_ORIGIN}/__control/requests?provider=${provider}`);
  const all = (await res.json()) as any[];
  return all.filter((r) => JSON.stringify(r.body ?? "").includes(marker));
}

/** A real WAV file: 8 kHz 8-bit µ-law (8,000 bytes a second) of `seconds` seconds. */
function ulawWav(seconds: number): Uint8Array {
  const data = Math.round(seconds * 8000);
  const out = new Uint8Array(58 + data).fill(0xff);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  };
  ascii(0, "RIFF");
  v.setUint32(4, 50 + data, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 18, true);
  v.setUint16(20, 7, true); // µ-law
  v.setUint16(22, 1, true);
  v.setUint32(24, 8000, true);
  v.setUint32(28, 8000, true);
  v.setUint16(32, 1, true);
  v.setUint16(34, 8, true);
  v.setUint16(36, 0, true);
  ascii(38, "fact");
  v.setUint32(42, 4, true);
  v.setUint32(46, data, true);
  ascii(50, "data");
  v.setUint32(54, data, true);
  return out;
}

function upload(bytes: Uint8Array, fields: Record<string, string>): FormData {
  const form = new FormData();
  form.append("file", new File([bytes], "clip.wav", { type: "audio/wav" }));
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

describe("a reservation bounds the work", () => {
  it("20 concurrent 2 MB uploads by a free user never spend past the plan: used ≤ limit, no debt", async () => {
    const user = await userOn("free");
    // Not a container Voxgate can read: it reserves the size bound, which the provider's duration never exceeds.
    const junk = new Uint8Array(2_000_000).map((_, i) => (i * 7919) % 251);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        call("/v1/transcribe", { method: "POST", headers: auth(user.jwt), body: upload(junk, { provider: "deepgram" }) }),
      ),
    );
    const ok = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 402).length;
    expect(ok + refused).toBe(20);
    const ledger = await until(
      () => ledgerOf(user.id),
      (l) => l.reservedMc === 0 && l.requestCount === ok,
    );
    const perRequest = sttCostMc("deepgram", mockDurationSeconds(junk.length)) ?? 0;
    expect(ledger.usedMc).toBe(ok * perRequest);
    expect(ledger.usedMc).toBeLessThanOrEqual(ledger.limitMc);
    expect(ledger.paygMc).toBeGreaterThanOrEqual(0);
    expect(ok).toBeLessThanOrEqual(Math.floor(ledger.limitMc / perRequest));
  });

  it("a real recording reserves its measured duration and is charged what the provider reports", async () => {
    const user = await userOn("free");
    const res = await call("/v1/transcribe", {
      method: "POST",
      headers: auth(user.jwt),
      body: upload(ulawWav(90), { provider: "deepgram" }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.durationSeconds).toBe(90);
    expect(Number(res.headers.get("x-usage-cost"))).toBe((sttCostMc("deepgram", 90) ?? 0) / 1000);
    const ledger = await until(
      () => ledgerOf(user.id),
      (l) => l.reservedMc === 0 && l.usedMc > 0,
    );
    expect(ledger.usedMc).toBe(sttCostMc("deepgram", 90));
  });

  it("a recording longer than the credits left is refused before the provider is called", async () => {
    const user = await userOn("free");
    const marker = nonce().slice(0, 24); // a language: at most 32 characters
    // One credit left; a minute on deepgram costs 9.
    await inAccount(user.id, (instance) => {
      instance.ledger.charge("tts", 2_499_000, 2_500_000, Date.now());
    });
    const res = await call("/v1/transcribe", {
      method: "POST",
      headers: auth(user.jwt),
      body: upload(ulawWav(60), { provider: "deepgram", language: marker }),
    });
    expect(res.status).toBe(402);
    expect(await upstream("deepgram", marker)).toHaveLength(0);
  });

  it("a chat without maxTokens tells every provider the output cap it reserved", async () => {
    const user = await userOn("scale");
    const cases = [
      { provider: "openai", model: "gpt-4.1-mini", field: "max_completion_tokens" },
      { provider: "groq", model: "meta-llama/llama-4-scout-17b-16e-instruct", field: "max_completion_tokens" },
      { provider: "anthropic", model: "claude-sonnet-4-20250514", field: "max_tokens" },
    ];
    for (const c of cases) {
      const marker = nonce();
      const res = await call("/v1/chat", {
        method: "POST",
        headers: auth(user.jwt),
        json: { provider: c.provider, model: c.model, messages: [{ role: "user", content: marker }] },
      });
      expect(res.status, c.provider).toBe(200);
      const [req] = await upstream(c.provider, marker);
      expect(req?.body?.[c.field], c.provider).toBe(LLM_DEFAULT_RESERVE_OUTPUT_TOKENS);
    }
    // …and the OpenAI-compatible surface, with its own max_tokens honoured as the cap.
    const marker = nonce();
    const res = await call("/v1/chat/completions", {
      method: "POST",
      headers: auth(user.jwt),
      json: { model: "openai/gpt-4.1-mini", max_tokens: 77, messages: [{ role: "user", content: marker }] },
    });
    expect(res.status).toBe(200);
    const [req] = await upstream("openai", marker);
    expect(req?.body?.max_completion_tokens).toBe(77);
  });

  it("input is reserved as the prompt's UTF-8 bytes (plus the chat format's overhead), not its characters", () => {
    const ascii = chatBound("gpt-4.1", [{ role: "user", content: "abcd" }], undefined, 10);
    const emoji = chatBound("gpt-4.1", [{ role: "user", content: "😀😀😀😀" }], undefined, 10);
    expect(emoji.inputTokens - ascii.inputTokens).toBe(16 - 4);
    expect(ascii.estimateMc).toBe(llmCostMc("gpt-4.1", ascii.inputTokens, 10));
  });
});

describe("no zero charges", () => {
  it("gpt-4o-transcribe is priced by the tokens OpenAI reports", async () => {
    const user = await userOn("free");
    const res = await call("/v1/transcribe", {
      method: "POST",
      headers: auth(user.jwt),
      body: upload(ulawWav(30), { provider: "openai", model: "gpt-4o-transcribe" }),
    });
    expect(res.status).toBe(200);
    const cost = Number(res.headers.get("x-usage-cost"));
    expect(cost).toBeGreaterThan(0);
    const ledger = await until(
      () => ledgerOf(user.id),
      (l) => l.reservedMc === 0 && l.usedMc > 0,
    );
    expect(ledger.usedMc / 1000).toBe(cost);
  });
});

describe("debt", () => {
  it("a provider reporting more than was reserved leaves debt, shown everywhere, and 402 until topped up", async () => {
    const user = await userOn("free");
    // The plan is spent down to 2 credits; a request reserves 1 credit and the provider then reports 5.
    await inAccount(user.id, (instance) => {
      instance.ledger.charge("tts", 2_498_000, 2_500_000, Date.now());
    });
    const stub = env.ACCOUNT.getByName(user.id);
    const admitted = await stub.admit({
      userId: user.id,
      rateKey: "user",
      meter: { provider: "deepgram", kind: "stt", byok: false, platformKeyAvailable: true, estimateMc: 1_000 },
    });
    expect(admitted.ok).toBe(true);
    const reservationId = (admitted as { reservationId: string }).reservationId;
    await stub.settle({ userId: user.id, reservationId, kind: "stt", actualMc: 5_000 });

    const meRes = await call("/v1/me", { headers: auth(user.jwt) });
    const me = (await meRes.json()) as any;
    expect(me.user.paygCredits).toBe(-3); // 2 credits of plan, then 3 of debt
    expect(Number(meRes.headers.get("x-usage-remaining"))).toBe(-3);
    const usage = (await (await call("/v1/usage", { headers: auth(user.jwt) })).json()) as any;
    expect(usage.credits.used).toBe(2_503);
    expect(usage.credits.remaining).toBe(-3);
    const refused = await call("/v1/chat", {
      method: "POST",
      headers: auth(user.jwt),
      json: { provider: "openai", model: "gpt-4.1-nano", messages: [{ role: "user", content: "hi" }], maxTokens: 1 },
    });
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as any).error.code).toBe("insufficient_credits");

    const { adminJwt } = await import("../helpers/api");
    const topUp = await call(`/api/admin/users/${user.id}/credits`, {
      method: "POST",
      headers: auth(await adminJwt()),
      json: { amount: 5, reason: "pay off" },
    });
    expect(topUp.status).toBe(200);
    expect(((await topUp.json()) as any).user.paygCredits).toBe(2); // the debt was paid off first
    const served = await call("/v1/chat", {
      method: "POST",
      headers: auth(user.jwt),
      json: { provider: "openai", model: "gpt-4.1-nano", messages: [{ role: "user", content: "hi" }], maxTokens: 1 },
    });
    expect(served.status).toBe(200);
  });
});

describe("the Account object never loses an update", () => {
  it("concurrent top-ups, plan changes and charges all count", async () => {
    const user = await userOn("free");
    const { adminJwt } = await import("../helpers/api");
    const admin = auth(await adminJwt());
    const text = "x".repeat(1000);
    const before = await ledgerOf(user.id);
    const topUps = Array.from({ length: 8 }, () =>
      call(`/api/admin/users/${user.id}/credits`, { method: "POST", headers: admin, json: { amount: 1, reason: "race" } }),
    );
    const plans = ["starter", "pro", "starter", "pro"].map((plan) =>
      call(`/api/admin/users/${user.id}`, { method: "PATCH", headers: admin, json: { plan } }),
    );
    const charges = Array.from({ length: 10 }, () =>
      call("/v1/synthesize", { method: "POST", headers: auth(user.jwt), json: { provider: "cartesia", text } }),
    );
    const [t, p, s] = await Promise.all([Promise.all(topUps), Promise.all(plans), Promise.all(charges)]);
    expect(t.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(p.map((r) => r.status)).toEqual(Array(4).fill(200));
    for (const r of s) await r.arrayBuffer();
    const spoken = s.filter((r) => r.status === 200).length;
    expect(spoken).toBe(10);
    const after = await until(
      () => ledgerOf(user.id),
      (l) => l.requestCount === before.requestCount + spoken,
    );
    const perRequest = ttsCostMc("cartesia", 1000, false) ?? 0;
    expect(after.usedMc - before.usedMc).toBe(spoken * perRequest);
    // Charges came from plan credits (pro/starter have plenty), so the balance is exactly the top-ups.
    expect(after.paygMc).toBe(before.paygMc + 8_000);
    const row = await env.DB.prepare("SELECT plan FROM users WHERE id = ?").bind(user.id).first<{ plan: string }>();
    expect(after.plan).toBe(row?.plan);
  });
});

describe("partial delivery", () => {
  it("a stream cut after 3 deltas is charged what was delivered, and reports the error in-band", async () => {
    const user = await userOn("free");
    const marker = nonce();
    // The mock's stream: role chunk, one chunk per word, usage, [DONE]. Cut after the role chunk and 3 words.
    await fault({ provider: "openai", path: "/v1/chat/completions", bodyIncludes: marker, mode: "truncate", afterChunks: 4 });
    const res = await call("/v1/chat", {
      method: "POST",
      headers: auth(user.jwt),
      json: {
        provider: "openai",
        model: "gpt-4.1",
        stream: true,
        messages: [{ role: "user", content: `${marker} tell me a long story please` }],
      },
    });
    expect(res.status).toBe(200);
    const events = await sseEvents(res);
    const deltas = events.filter((e) => e.type === "delta");
    expect(deltas).toHaveLength(3);
    expect(events.at(-1)?.type).toBe("error");
    const ledger = await until(
      () => ledgerOf(user.id),
      (l) => l.reservedMc === 0 && l.requestCount === 1,
    );
    const bound = chatBound("gpt-4.1", [{ role: "user", content: `${marker} tell me a long story please` }], undefined, undefined);
    const outputSeen = Math.max(3, Math.ceil(new TextEncoder().encode(deltas.map((d) => d.text).join("")).byteLength / 4));
    expect(ledger.usedMc).toBe(llmCostMc("gpt-4.1", bound.inputTokens, outputSeen));
    expect(ledger.usedMc).toBeGreaterThan(0);
    expect(ledger.usedMc).toBeLessThan(bound.estimateMc ?? 0);
  });

  it("an Anthropic stream cut after 20 deltas is charged at least those 20 tokens, not the running count its message_start reported", async () => {
    const user = await userOn("free");
    const marker = nonce();
    const model = "claude-sonnet-4-20250514";
    const content = `${marker} ${Array.from({ length: 30 }, (_, i) => `word${i}`).join(" ")}`;
    // message_start (output_tokens: 1), content_block_start, ping, then one delta per word: cut after 20 of them.
    await fault({ provider: "anthropic", bodyIncludes: marker, mode: "truncate", afterChunks: 3 + 20 });
    const res = await call("/v1/chat", {
      method: "POST",
      headers: auth(user.jwt),
      json: { provider: "anthropic", model, stream: true, messages: [{ role: "user", content }] },
    });
    expect(res.status).toBe(200);
    const events = await sseEvents(res);
    const deltas = events.filter((e) => e.type === "delta");
    expect(deltas.length).toBeGreaterThanOrEqual(15);
    expect(events.at(-1)?.type).toBe("error");
    const ledger = await until(
      () => ledgerOf(user.id),
      (l) => l.reservedMc === 0 && l.requestCount === 1,
    );
    // Whatever the input was (at least a token), the output delivered is charged.
    expect(ledger.usedMc).toBeGreaterThanOrEqual(llmCostMc(model, 1, deltas.length) ?? Number.POSITIVE_INFINITY);
    expect(ledger.usedMc).toBeLessThan(chatBound(model, [{ role: "user", content }], undefined, undefined).estimateMc ?? 0);
  });

  it("a stream that fails before any delta is refunded in full", async () => {
    const user = await userOn("free");
    const marker = nonce();
    await fault({ provider: "openai", path: "/v1/chat/completions", bodyIncludes: marker, mode: "truncate", afterChunks: 1 });
    const res = await call("/v1/chat", {
      method: "POST",
      headers: auth(user.jwt),
      json: { provider: "openai", model: "gpt-4.1", stream: true, messages: [{ role: "user", content: marker }] },
    });
    await res.text();
    const ledger = await until(
      () => ledgerOf(user.id),
      (l) => l.reservedMc === 0,
    );
    expect(ledger.usedMc).toBe(0);
  });

  it("the streamed chat's done event carries the cost it is charged", async () => {
    const user = await userOn("free");
    const res = await call("/v1/chat", {
      method: "POST",
      headers: auth(user.jwt),
      json: {
        provider: "anthropic",
        model: "claude-sonnet-4-20250514",
        stream: true,
        messages: [{ role: "user", content: "hello there" }],
      },
    });
    const events = await sseEvents(res);
    const done = events.find((e) => e.type === "done");
    expect(done.cost).toBe((llmCostMc("claude-sonnet-4-20250514", done.usage.inputTokens, done.usage.outputTokens) ?? 0) / 1000);
    const ledger = await until(
      () => ledgerOf(user.id),
      (l) => l.reservedMc === 0 && l.usedMc > 0,
    );
    expect(ledger.usedMc / 1000).toBe(done.cost);
  });
});

describe("settlement that does not land", () => {
  it("is retried; a reservation never settled is closed by the alarm at its bound, and a late settle corrects it", async () => {
    const user = await userOn("free");
    const stub = env.ACCOUNT.getByName(user.id);
    const idemKey = nonce();
    const admitted = await stub.admit({
      userId: user.id,
      rateKey: "user",
      meter: { provider: "deepgram", kind: "stt", byok: false, platformKeyAvailable: true, estimateMc: 9_000 },
      idempotency: { key: idemKey, fingerprint: "f" },
    });
    expect(admitted.ok).toBe(true);
    const reservationId = (admitted as { reservationId: string }).reservationId;
    // Age the reservation past its time to live and run the alarm.
    await ageReservation(user.id, reservationId, (at) => at - 31 * 60_000);
    await inAccount(user.id, (instance) => instance.alarm());
    let ledger = await ledgerOf(user.id);
    expect(ledger.reservedMc).toBe(0);
    expect(ledger.usedMc).toBe(9_000); // charged at its bound, not refunded blindly
    const record = await inAccount(
      user.id,
      (_i, state) => state.storage.sql.exec<{ state: string }>("SELECT state FROM idempotency WHERE k = ?", idemKey).one().state,
    );
    expect(record).toBe("done"); // a retry is not charged again
    // The worker's settle arrives after all: the bound is corrected to the real cost, once.
    await stub.settle({ userId: user.id, reservationId, kind: "stt", actualMc: 3_000 });
    await stub.settle({ userId: user.id, reservationId, kind: "stt", actualMc: 3_000 });
    ledger = await ledgerOf(user.id);
    expect(ledger.usedMc).toBe(3_000);
    expect(ledger.requestCount).toBe(1);
  });

  it("a retry with the same Idempotency-Key after the reservation's time to live, before the alarm ran, is not charged again", async () => {
    const user = await userOn("free");
    const stub = env.ACCOUNT.getByName(user.id);
    const idempotency = { key: nonce(), fingerprint: "f" };
    const meter = { provider: "deepgram", kind: "stt" as const, byok: false, platformKeyAvailable: true, estimateMc: 9_000 };
    const first = (await stub.admit({ userId: user.id, rateKey: "user", meter, idempotency })) as { reservationId: string };
    // Its worker died: 31 minutes later the reservation and its record are stale, and the alarm has not run yet.
    await ageReservation(user.id, first.reservationId, (at) => at - 31 * 60_000);
    await inAccount(user.id, (_instance, state) => {
      state.storage.sql.exec("UPDATE idempotency SET created_at = created_at - 31 * 60000 WHERE k = ?", idempotency.key);
    });
    // Was: admitted afresh (a second reservation), and the alarm then charged the first at its bound as well.
    const retry = await stub.admit({ userId: user.id, rateKey: "user", meter, idempotency });
    expect(retry.ok).toBe(false);
    expect((retry as { error: string }).error).toBe("idempotency_completed");
    await inAccount(user.id, (instance) => instance.alarm());
    const ledger = await ledgerOf(user.id);
    expect(ledger.usedMc).toBe(9_000); // the first, at its bound, once
    expect(ledger.requestCount).toBe(1);
    expect(ledger.reservedMc).toBe(0);
  });

  it("a refund retried after it landed reverses the charge once", async () => {
    const user = await userOn("free");
    const stub = env.ACCOUNT.getByName(user.id);
    const admitted = await stub.admit({
      userId: user.id,
      rateKey: "user",
      meter: { provider: "cartesia", kind: "tts", byok: false, platformKeyAvailable: true, estimateMc: 7_800, exact: true },
    });
    const charge = (admitted as { charge: { id: string } }).charge;
    expect((await ledgerOf(user.id)).usedMc).toBe(7_800);
    await stub.refund(user.id, charge.id);
    await stub.refund(user.id, charge.id);
    const ledger = await ledgerOf(user.id);
    expect(ledger.usedMc).toBe(0);
    expect(ledger.requestCount).toBe(0);
  });

  it("a reservation is settled in the billing period it was made in", async () => {
    const user = await userOn("free");
    const stub = env.ACCOUNT.getByName(user.id);
    const admitted = await stub.admit({
      userId: user.id,
      rateKey: "user",
      meter: { provider: "deepgram", kind: "stt", byok: false, platformKeyAvailable: true, estimateMc: 4_000 },
    });
    const reservationId = (admitted as { reservationId: string }).reservationId;
    const lastMonth = new Date();
    lastMonth.setUTCDate(1);
    lastMonth.setUTCMonth(lastMonth.getUTCMonth() - 1);
    lastMonth.setUTCHours(23, 59, 59, 0);
    await ageReservation(user.id, reservationId, () => lastMonth.getTime());
    await stub.settle({ userId: user.id, reservationId, kind: "stt", actualMc: 2_000 });
    const period = lastMonth.toISOString().slice(0, 7);
    const row = await inAccount(
      user.id,
      (_i, state) =>
        state.storage.sql.exec<{ plan_used_mc: number }>("SELECT plan_used_mc FROM ledger WHERE period = ?", period).toArray()[0],
    );
    expect(row?.plan_used_mc).toBe(2_000);
    expect((await ledgerOf(user.id)).usedMc).toBe(0); // this month: nothing
  });
});
