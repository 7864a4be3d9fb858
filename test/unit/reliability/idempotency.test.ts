// Idempotency-Key for webhook-style callers (issue 5 §6, API.md §6): a retry with the same key and the
// same body within 24 hours is never charged twice. JSON answers (chat, transcription) and audio up to
// 1 MiB are replayed byte for byte (Idempotent-Replayed: true); a retry while the first is still running
// gets 409; the same key with another body gets 422; a first attempt that failed (refunded) may be retried.

import { describe, expect, it } from "vitest";
import { firstAudio, IDEMPOTENT_AUDIO_MAX_BYTES } from "../../../src/gateway/first-audio";
import { ttsCostMc } from "../../../src/metering/prices";
import { bearer } from "../../helpers/api";
import { env } from "../../helpers/env";
import {
  ageReservation,
  call,
  fault,
  inAccount,
  keyOf,
  ledgerOf,
  pendingFaults,
  sleep,
  type TestAccount,
  until,
  userOn,
} from "../../helpers/reliability";

const nonce = () => `n${crypto.randomUUID().replaceAll("-", "")}`;

/** The fingerprint the gateway records for a JSON POST (src/metering/idempotency.ts): method, path, sorted fields. */
async function fingerprintOf(path: string, body: Record<string, unknown>): Promise<string> {
  const { requestFingerprint } = await import("../../../src/gateway/idempotency");
  return requestFingerprint("POST", path, body);
}
const idem = (key: string, auth: Record<string, string>) => ({ ...auth, "idempotency-key": key });

/** Wait until the Account object has settled `n` charged requests (settling runs after the response). */
async function settled(user: TestAccount, n: number) {
  const s = await until(
    () => ledgerOf(user.id),
    (x) => x.requestCount === n && x.reservedMc === 0,
  );
  expect(s.requestCount, "settled requests").toBe(n);
  expect(s.reservedMc).toBe(0);
  return s;
}

/** The idempotency record's state, once the first request has settled. */
async function recordState(user: TestAccount, key: string): Promise<string | undefined> {
  return inAccount(user.id, async (_i, state) => {
    return state.storage.sql.exec<{ state: string }>("SELECT state FROM idempotency WHERE k = ?", key).toArray()[0]?.state;
  });
}

async function doneOrFailed(user: TestAccount, key: string) {
  const s = await until(
    () => recordState(user, key),
    (v) => v === "done" || v === "failed",
  );
  expect(["done", "failed"]).toContain(s);
  return s;
}

const chatBody = (text: string) => ({ provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: text }] });

function uploadForm(tag: string) {
  const form = new FormData();
  form.append("file", new File([new TextEncoder().encode(`RIFF${tag}${"\u0000".repeat(3000)}`)], "clip.wav", { type: "audio/wav" }));
  form.append("provider", "deepgram");
  return form;
}

describe("Idempotency-Key: a retry is never charged twice", () => {
  it("POST /v1/chat: the retry replays the stored answer, charged once", async () => {
    const user = await userOn("pro");
    const { key } = await keyOf(user);
    const k = nonce();
    const first = await call("/v1/chat", { method: "POST", headers: idem(k, bearer(key)), json: chatBody(`hello ${k}`) });
    expect(first.status).toBe(200);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const firstBody = await first.text();
    const charged = await settled(user, 1);
    await doneOrFailed(user, k);

    for (let i = 0; i < 3; i++) {
      const retry = await call("/v1/chat", { method: "POST", headers: idem(k, bearer(key)), json: chatBody(`hello ${k}`) });
      expect(retry.status).toBe(200);
      expect(retry.headers.get("idempotent-replayed")).toBe("true");
      expect(retry.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await retry.text()).toBe(firstBody);
    }
    await sleep(100);
    const after = await ledgerOf(user.id);
    expect(after.usedMc).toBe(charged.usedMc);
    expect(after.usedMc).toBeGreaterThan(0);
    expect(after.requestCount).toBe(1);
  });

  it("POST /v1/transcribe (multipart upload): the retry replays the transcript, charged once", async () => {
    const user = await userOn("pro");
    const k = nonce();
    const first = await call("/v1/transcribe", { method: "POST", headers: idem(k, bearer(user.jwt)), body: uploadForm(k) });
    expect(first.status).toBe(200);
    const firstBody = await first.text();
    const charged = await settled(user, 1);
    await doneOrFailed(user, k);
    const retry = await call("/v1/transcribe", { method: "POST", headers: idem(k, bearer(user.jwt)), body: uploadForm(k) });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await retry.text()).toBe(firstBody);
    expect((await ledgerOf(user.id)).usedMc).toBe(charged.usedMc);
    // Another file under the same key is another request: 422.
    const other = await call("/v1/transcribe", { method: "POST", headers: idem(k, bearer(user.jwt)), body: uploadForm(`${k}-other`) });
    expect(other.status).toBe(422);
  });

  it("POST /v1/synthesize: the retry replays the same audio bytes, charged once", async () => {
    const user = await userOn("pro");
    const { key } = await keyOf(user);
    const k = nonce();
    const body = { provider: "elevenlabs", text: `Speak ${k} once, replay it after.` };
    const first = await call("/v1/synthesize", { method: "POST", headers: idem(k, bearer(key)), json: body });
    expect(first.status).toBe(200);
    const audio = new Uint8Array(await first.arrayBuffer());
    expect(audio.byteLength).toBeGreaterThan(4000);
    const charged = await settled(user, 1);
    expect(await doneOrFailed(user, k)).toBe("done");

    const retry = await call("/v1/synthesize", { method: "POST", headers: idem(k, bearer(key)), json: body });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.headers.get("content-type")).toBe("audio/mpeg");
    expect(retry.headers.get("x-provider-used")).toBe("elevenlabs");
    const replayed = new Uint8Array(await retry.arrayBuffer());
    expect(replayed.byteLength).toBe(audio.byteLength);
    expect(Buffer.from(replayed).equals(Buffer.from(audio))).toBe(true);
    await sleep(100);
    const after = await ledgerOf(user.id);
    expect(after.usedMc).toBe(charged.usedMc);
    expect(after.requestCount).toBe(1);
  });

  it("409 while the first is still running (a slow provider), then the stored result", async () => {
    const user = await userOn("pro");
    const k = nonce();
    await fault({ provider: "openai", bodyIncludes: k, mode: "slow", delayMs: 1500 });
    const first = call("/v1/chat", { method: "POST", headers: idem(k, bearer(user.jwt)), json: chatBody(`slow ${k}`) });
    // The provider has the first request (the fault is used) and holds back the second half of its answer.
    await until(pendingFaults, (f) => !f.some((x) => x.bodyIncludes === k), 3000);
    const during = await call("/v1/chat", { method: "POST", headers: idem(k, bearer(user.jwt)), json: chatBody(`slow ${k}`) });
    expect(during.status).toBe(409);
    expect(((await during.json()) as any).error.code).toBe("idempotency_in_progress");
    const done = await first;
    expect(done.status).toBe(200);
    const body = await done.text();
    await settled(user, 1);
    await doneOrFailed(user, k);
    const after = await call("/v1/chat", { method: "POST", headers: idem(k, bearer(user.jwt)), json: chatBody(`slow ${k}`) });
    expect(after.status).toBe(200);
    expect(await after.text()).toBe(body);
    expect((await ledgerOf(user.id)).requestCount).toBe(1);
  });

  it("409 while a synthesis is still streaming", async () => {
    const user = await userOn("pro");
    const k = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: k, mode: "slow", delayMs: 1000 });
    const body = { provider: "elevenlabs", text: `slow ${k}` };
    const first = await call("/v1/synthesize", { method: "POST", headers: idem(k, bearer(user.jwt)), json: body });
    expect(first.status).toBe(200);
    const during = await call("/v1/synthesize", { method: "POST", headers: idem(k, bearer(user.jwt)), json: body });
    expect(during.status).toBe(409);
    const audio = new Uint8Array(await first.arrayBuffer());
    await settled(user, 1);
    await doneOrFailed(user, k);
    const replay = await call("/v1/synthesize", { method: "POST", headers: idem(k, bearer(user.jwt)), json: body });
    expect(replay.status).toBe(200);
    expect(Buffer.from(new Uint8Array(await replay.arrayBuffer())).equals(Buffer.from(audio))).toBe(true);
  });

  it("the same key with another body (or on another route) → 422, nothing charged", async () => {
    const user = await userOn("pro");
    const k = nonce();
    expect((await call("/v1/chat", { method: "POST", headers: idem(k, bearer(user.jwt)), json: chatBody("first") })).status).toBe(200);
    const charged = await settled(user, 1);
    const other = await call("/v1/chat", { method: "POST", headers: idem(k, bearer(user.jwt)), json: chatBody("second") });
    expect(other.status).toBe(422);
    expect(((await other.json()) as any).error.code).toBe("idempotency_key_reused");
    const elsewhere = await call("/v1/synthesize", {
      method: "POST",
      headers: idem(k, bearer(user.jwt)),
      json: { provider: "elevenlabs", text: "first" },
    });
    expect(elsewhere.status).toBe(422);
    await sleep(100);
    const after = await ledgerOf(user.id);
    expect(after.usedMc).toBe(charged.usedMc);
    expect(after.requestCount).toBe(1);
  });

  it("a first attempt that failed is refunded; the retry runs and is charged once", async () => {
    const user = await userOn("pro");
    const k = nonce();
    await fault({ provider: "openai", bodyIncludes: k, mode: "error", status: 500 });
    const failed = await call("/v1/chat", { method: "POST", headers: idem(k, bearer(user.jwt)), json: chatBody(`retry ${k}`) });
    expect(failed.status).toBe(502);
    expect(await doneOrFailed(user, k)).toBe("failed");
    expect((await ledgerOf(user.id)).usedMc).toBe(0);
    const retry = await call("/v1/chat", { method: "POST", headers: idem(k, bearer(user.jwt)), json: chatBody(`retry ${k}`) });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    const body = await retry.text();
    const charged = await settled(user, 1);
    expect(charged.usedMc).toBeGreaterThan(0);
    await doneOrFailed(user, k);
    const again = await call("/v1/chat", { method: "POST", headers: idem(k, bearer(user.jwt)), json: chatBody(`retry ${k}`) });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(body);
    expect((await ledgerOf(user.id)).usedMc).toBe(charged.usedMc);
  });

  // The refund is sent to the Account object before the error is answered (settlement.ts: never held for a
  // later admission), so it reaches the object ahead of any retry the answer prompts.
  it("a retry sent the moment the failure is answered runs: the refund is on its way before the error goes out", async () => {
    const user = await userOn("pro");
    const k = nonce();
    for (const provider of ["openai", "anthropic"]) await fault({ provider, bodyIncludes: k, mode: "error", status: 503 });
    const failed = await call("/v1/chat", {
      method: "POST",
      headers: idem(k, bearer(user.jwt)),
      json: { ...chatBody(`at once ${k}`), fallback: ["anthropic"] },
    });
    expect(failed.status).toBe(502);
    // Nothing held by then: the credits are back and the key is free.
    expect((await ledgerOf(user.id)).reservedMc).toBe(0);
    expect(await recordState(user, k)).toBe("failed");
    const retry = await call("/v1/chat", {
      method: "POST",
      headers: idem(k, bearer(user.jwt)),
      json: { ...chatBody(`at once ${k}`), fallback: ["anthropic"] },
    });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    await retry.text();
  });

  it("20 concurrent deliveries of one webhook: one runs and is charged, the others get 409", async () => {
    const user = await userOn("pro");
    const { key } = await keyOf(user);
    const k = nonce();
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        call("/v1/synthesize", { method: "POST", headers: idem(k, bearer(key)), json: { provider: "elevenlabs", text: `Once ${k}` } }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(19);
    await ok[0]!.arrayBuffer();
    await Promise.all(results.filter((r) => r.status !== 200).map((r) => r.arrayBuffer()));
    const s = await settled(user, 1);
    expect(s.usedMc).toBe(ttsCostMc("elevenlabs", `Once ${k}`.length, true));
  });

  it("a streamed chat is not kept: its retry gets 409 conflict and is not charged again", async () => {
    const user = await userOn("pro");
    const k = nonce();
    const body = { ...chatBody(`stream ${k}`), stream: true };
    const first = await call("/v1/chat", { method: "POST", headers: idem(k, bearer(user.jwt)), json: body });
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('"type":"done"');
    const charged = await settled(user, 1);
    await doneOrFailed(user, k);
    const retry = await call("/v1/chat", { method: "POST", headers: idem(k, bearer(user.jwt)), json: body });
    expect(retry.status).toBe(409);
    expect(((await retry.json()) as any).error.code).toBe("conflict");
    expect((await ledgerOf(user.id)).usedMc).toBe(charged.usedMc);
  });

  it("a synthesis the client abandoned is charged but not kept: its retry gets 409, not a second charge", async () => {
    const user = await userOn("pro");
    const k = nonce();
    await fault({ provider: "elevenlabs", bodyIncludes: k, mode: "slow", delayMs: 500 });
    const body = { provider: "elevenlabs", text: `abandon ${k}` };
    const first = await call("/v1/synthesize", { method: "POST", headers: idem(k, bearer(user.jwt)), json: body });
    const reader = first.body!.getReader();
    await reader.read();
    await reader.cancel();
    const charged = await settled(user, 1);
    expect(await doneOrFailed(user, k)).toBe("done");
    const retry = await call("/v1/synthesize", { method: "POST", headers: idem(k, bearer(user.jwt)), json: body });
    expect(retry.status).toBe(409);
    expect((await ledgerOf(user.id)).usedMc).toBe(charged.usedMc);
  });

  it("keys are per user: another user's request with the same key runs on its own", async () => {
    const a = await userOn("pro");
    const b = await userOn("pro");
    const k = nonce();
    for (const u of [a, b]) {
      const res = await call("/v1/chat", { method: "POST", headers: idem(k, bearer(u.jwt)), json: chatBody("same") });
      expect(res.status).toBe(200);
      expect(res.headers.get("idempotent-replayed")).toBeNull();
      await res.arrayBuffer();
      await settled(u, 1);
    }
  });

  it("after 24 hours the key is forgotten: the same request runs (and is charged) again", async () => {
    const user = await userOn("pro");
    const k = nonce();
    expect((await call("/v1/chat", { method: "POST", headers: idem(k, bearer(user.jwt)), json: chatBody("day") })).status).toBe(200);
    await settled(user, 1);
    await doneOrFailed(user, k);
    await inAccount(user.id, async (_i, state) => {
      state.storage.sql.exec("UPDATE idempotency SET created_at = ? WHERE k = ?", Date.now() - 24 * 3600_000 - 1000, k);
    });
    const again = await call("/v1/chat", { method: "POST", headers: idem(k, bearer(user.jwt)), json: chatBody("day") });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    await settled(user, 2);
  });

  it("the agent and OpenAI-compatible routes: one charge per key, the retry replayed", async () => {
    const user = await userOn("pro");
    const agent = (await (
      await call("/v1/agents", {
        method: "POST",
        headers: bearer(user.jwt),
        json: { name: "idem", llmProvider: "openai", llmModel: "gpt-4.1-mini", ttsProvider: "elevenlabs" },
      })
    ).json()) as any;
    const transcription = () => {
      const form = new FormData();
      form.append("file", new File([new Uint8Array(2500).fill(3)], "clip.wav", { type: "audio/wav" }));
      form.append("model", "deepgram/nova-3");
      return form;
    };
    const cases: [string, unknown][] = [
      ["/v1/audio/transcriptions", transcription],
      [`/v1/agents/${agent.agent.id}/chat`, { messages: [{ role: "user", content: "hi agent" }] }],
      [`/v1/agents/${agent.agent.id}/speak`, { text: "hello from the agent" }],
      ["/v1/chat/completions", { model: "openai/gpt-4.1-mini", messages: [{ role: "user", content: "hi compat" }] }],
      ["/v1/audio/speech", { model: "elevenlabs/eleven_flash_v2_5", input: "hello compat", voice: "alloy" }],
    ];
    let n = 0;
    for (const [path, body] of cases) {
      const k = nonce();
      const send = () =>
        typeof body === "function"
          ? call(path, { method: "POST", headers: idem(k, bearer(user.jwt)), body: body() })
          : call(path, { method: "POST", headers: idem(k, bearer(user.jwt)), json: body });
      const first = await send();
      expect(
        first.status,
        `${path}: ${await first
          .clone()
          .text()
          .catch(() => "")}`,
      ).toBe(200);
      const bytes = Buffer.from(await first.arrayBuffer());
      const charged = await settled(user, ++n);
      await doneOrFailed(user, k);
      const retry = await send();
      expect(retry.status, path).toBe(200);
      expect(retry.headers.get("idempotent-replayed"), path).toBe("true");
      expect(Buffer.from(await retry.arrayBuffer()).equals(bytes), path).toBe(true);
      await sleep(50);
      expect((await ledgerOf(user.id)).usedMc, path).toBe(charged.usedMc);
    }
  });

  it("a first attempt whose worker died before settling: the alarm closes it at its bound (30 min), and the retry is not charged again", async () => {
    const user = await userOn("pro");
    const k = nonce();
    const stub = env.ACCOUNT.getByName(user.id);
    // What a request that never settled leaves behind: a reservation and a running idempotency record.
    const meter = { provider: "openai", kind: "llm" as const, byok: false, platformKeyAvailable: true, estimateMc: 5_000 };
    const fingerprint = await fingerprintOf("/v1/chat", chatBody(`died ${k}`));
    const admitted = await stub.admit({ userId: user.id, rateKey: "user", meter, idempotency: { key: k, fingerprint } });
    expect(admitted.ok).toBe(true);
    const during = await call("/v1/chat", { method: "POST", headers: idem(k, bearer(user.jwt)), json: chatBody(`died ${k}`) });
    expect(during.status).toBe(409);
    // 31 minutes later the alarm closes the reservation: what the provider did is unknown, so it is charged
    // its bound (issue 12: never a blind refund), and the idempotency record follows it.
    const t = Date.now() - 31 * 60_000;
    await ageReservation(user.id, (admitted as { reservationId: string }).reservationId, () => t);
    await inAccount(user.id, async (_i, state) => {
      state.storage.sql.exec("UPDATE idempotency SET created_at = ? WHERE k = ?", t, k);
    });
    const { runDurableObjectAlarm } = await import("cloudflare:test");
    await runDurableObjectAlarm(stub);
    const closed = await ledgerOf(user.id);
    expect(closed.reservedMc).toBe(0);
    expect(closed.usedMc).toBe(5_000);
    const retry = await call("/v1/chat", { method: "POST", headers: idem(k, bearer(user.jwt)), json: chatBody(`died ${k}`) });
    expect(retry.status, await retry.clone().text()).toBe(409);
    expect(((await retry.json()) as any).error.code).toBe("conflict");
    await sleep(50);
    expect((await ledgerOf(user.id)).usedMc).toBe(5_000);
  });

  it("a stored provider key that no longer decrypts: the refused attempt leaves the key free for a retry", async () => {
    const user = await userOn("pro");
    expect(
      (
        await call("/v1/provider-keys", {
          method: "POST",
          headers: bearer(user.jwt),
          json: { provider: "cartesia", apiKey: "stored-cartesia-1" },
        })
      ).status,
    ).toBe(201);
    await inAccount(user.id, async (instance) => {
      const state = await instance.copy;
      state.providerKeys.set("cartesia", {
        ...state.providerKeys.get("cartesia"),
        ciphertext: `AAAA${state.providerKeys.get("cartesia").ciphertext.slice(4)}`,
      });
    });
    const k = nonce();
    const body = { provider: "cartesia", text: `stored ${k}` };
    const refused = await call("/v1/synthesize", { method: "POST", headers: idem(k, bearer(user.jwt)), json: body });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).error.code).toBe("provider_key_missing");
    // Stored again: the same request under the same key now runs.
    expect(
      (
        await call("/v1/provider-keys", {
          method: "POST",
          headers: bearer(user.jwt),
          json: { provider: "cartesia", apiKey: "stored-cartesia-2" },
        })
      ).status,
    ).toBe(201);
    await doneOrFailed(user, k);
    const retry = await call("/v1/synthesize", { method: "POST", headers: idem(k, bearer(user.jwt)), json: body });
    expect(retry.status, await retry.clone().text()).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    await retry.arrayBuffer();
  });

  it("a replay answers with the first answer's X-Provider-Used and X-Usage-Bypassed (API.md §5), charged 0, on every route", async () => {
    const user = await userOn("pro");
    const agent = (await (
      await call("/v1/agents", {
        method: "POST",
        headers: bearer(user.jwt),
        json: { name: "hdrs", llmProvider: "openai", llmModel: "gpt-4.1-mini" },
      })
    ).json()) as any;
    const upload =
      (field: "provider" | "model", value: string, extra: Record<string, string> = {}) =>
      () => {
        const form = new FormData();
        form.append("file", new File([new Uint8Array(2500).fill(5)], "clip.wav", { type: "audio/wav" }));
        form.append(field, value);
        for (const [k, v] of Object.entries(extra)) form.append(k, v);
        return form;
      };
    const byokOpenai = { "x-provider-key-openai": "byok-openai-key" };
    const cases: [string, unknown, Record<string, string>][] = [
      ["/v1/chat", chatBody("headers"), {}],
      ["/v1/chat", chatBody("headers byok"), byokOpenai],
      ["/v1/transcribe", upload("provider", "deepgram"), {}],
      [`/v1/agents/${agent.agent.id}/chat`, { messages: [{ role: "user", content: "headers agent" }] }, {}],
      ["/v1/chat/completions", { model: "openai/gpt-4.1-mini", messages: [{ role: "user", content: "headers compat" }] }, byokOpenai],
      ["/v1/audio/transcriptions", upload("model", "deepgram/nova-3", { response_format: "text" }), {}],
      ["/v1/synthesize", { provider: "elevenlabs", text: "headers byok speech" }, { "x-provider-key-elevenlabs": "byok-eleven-key" }],
    ];
    let charged = 0;
    for (const [path, body, extra] of cases) {
      const k = nonce();
      const headers = { ...idem(k, bearer(user.jwt)), ...extra };
      const send = () =>
        typeof body === "function"
          ? call(path, { method: "POST", headers, body: body() })
          : call(path, { method: "POST", headers, json: body });
      const first = await send();
      expect(first.status, path).toBe(200);
      const bytes = Buffer.from(await first.arrayBuffer());
      if (first.headers.get("x-usage-bypassed") === "false") charged++;
      const before = await settled(user, charged);
      expect(await doneOrFailed(user, k), path).toBe("done");
      const retry = await send();
      expect(retry.status, path).toBe(200);
      expect(retry.headers.get("idempotent-replayed"), path).toBe("true");
      expect(Buffer.from(await retry.arrayBuffer()).equals(bytes), path).toBe(true);
      for (const h of ["content-type", "x-provider-used", "x-usage-bypassed"]) {
        expect(retry.headers.get(h), `${path} ${h}`).toBe(first.headers.get(h));
      }
      expect(retry.headers.get("x-usage-cost"), path).toBe("0");
      await sleep(50);
      const after = await ledgerOf(user.id);
      expect([after.usedMc, after.requestCount], path).toEqual([before.usedMc, before.requestCount]);
    }
  });

  it("an invalid Idempotency-Key is refused (400) before anything runs", async () => {
    const user = await userOn("pro");
    for (const k of ["x".repeat(256), "with space", "tab\tinside"]) {
      const res = await call("/v1/chat", { method: "POST", headers: { ...bearer(user.jwt), "idempotency-key": k }, json: chatBody("x") });
      expect(res.status, k).toBe(400);
    }
    await sleep(100);
    expect((await ledgerOf(user.id)).requestCount).toBe(0);
  });
});

describe("how much audio is kept", () => {
  function chunks(sizes: number[]) {
    return new ReadableStream<Uint8Array>({
      start(c) {
        for (const n of sizes) c.enqueue(new Uint8Array(n).fill(7));
        c.close();
      },
    });
  }

  it(`keeps audio up to ${IDEMPOTENT_AUDIO_MAX_BYTES} bytes once the client got all of it; longer audio is not kept`, async () => {
    const exact = await firstAudio(chunks([IDEMPOTENT_AUDIO_MAX_BYTES - 10, 10]), 1000, IDEMPOTENT_AUDIO_MAX_BYTES);
    expect(exact.kept()).toBeUndefined(); // not read to the end yet
    expect((await new Response(exact.stream).arrayBuffer()).byteLength).toBe(IDEMPOTENT_AUDIO_MAX_BYTES);
    expect(await exact.ended).toBe("complete");
    expect(exact.kept()?.byteLength).toBe(IDEMPOTENT_AUDIO_MAX_BYTES);

    const over = await firstAudio(chunks([IDEMPOTENT_AUDIO_MAX_BYTES, 1]), 1000, IDEMPOTENT_AUDIO_MAX_BYTES);
    expect((await new Response(over.stream).arrayBuffer()).byteLength).toBe(IDEMPOTENT_AUDIO_MAX_BYTES + 1);
    expect(over.kept()).toBeUndefined();
  });

  it("1 MiB of audio fits the Account object's storage and comes back byte for byte", async () => {
    const user = await userOn("pro");
    const stub = env.ACCOUNT.getByName(user.id);
    const k = nonce();
    const meter = { provider: "elevenlabs", kind: "tts" as const, byok: true, platformKeyAvailable: true, estimateMc: 0 };
    const admitted = await stub.admit({ userId: user.id, rateKey: "user", meter, idempotency: { key: k, fingerprint: "f" } });
    expect(admitted.ok).toBe(true);
    const audio = new Uint8Array(IDEMPOTENT_AUDIO_MAX_BYTES).map((_, i) => (i * 31) & 0xff);
    const { bytesToBase64 } = await import("../../../src/encoding/base64");
    await stub.settle({
      userId: user.id,
      reservationId: undefined,
      kind: "tts",
      actualMc: 0,
      idempotency: { key: k, result: { status: 200, contentType: "audio/mpeg", headers: {}, bodyBase64: bytesToBase64(audio) } },
    });
    const again = await stub.admit({ userId: user.id, rateKey: "user", meter, idempotency: { key: k, fingerprint: "f" } });
    expect(again.ok).toBe(false);
    const replay = (again as any).replay;
    expect(replay.status).toBe(200);
    const { base64ToBytes } = await import("../../../src/encoding/base64");
    expect(Buffer.from(base64ToBytes(replay.bodyBase64)).equals(Buffer.from(audio))).toBe(true);
  });
});
