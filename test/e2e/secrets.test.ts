// Secrets at rest and in logs (issue 5 §5), through a real `wrangler dev`: after a full scenario —
// keys created, rotated and revoked, provider keys stored and verified, BYOK, JWT and metered calls,
// provider errors that echo the key — every byte wrangler persisted (D1, KV and Durable Object SQLite
// files, -wal and -shm included) and everything the worker logged holds no API-key plaintext (nor its
// secret part), no provider-key plaintext (stored or BYOK, nor the platform's) and no JWT.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { bearer, call, jwtFor, mock, payingUser, settled } from "./client";

interface Secret {
  label: string;
  /** Byte sequences none of which may appear anywhere. */
  needles: string[];
}

const rand = () => randomBytes(12).toString("hex");
const secrets: Secret[] = [];
const PREFIX = "plabs_";

function apiKey(label: string, key: string) {
  expect(key.startsWith(PREFIX)).toBe(true);
  const secret = key.slice(PREFIX.length);
  // keyPrefix (prefix + 5 characters) is shown in listings and stored; anything longer is a leak.
  const windows: string[] = [];
  for (let i = 0; i + 12 <= secret.length; i += 4) windows.push(secret.slice(i, i + 12));
  secrets.push({ label, needles: [key, secret, secret.slice(5), ...windows] });
}
function jwt(label: string, token: string) {
  const [, payload, signature] = token.split(".");
  if (payload === undefined || signature === undefined) throw new Error(`${label} is not a JWT`);
  secrets.push({ label, needles: [token, signature, `${payload}.${signature}`] });
}
function providerKey(label: string, key: string, random: string) {
  secrets.push({ label, needles: [key, random] });
}

/**
 * Every file under `dir` with its bytes. SQLite's side files (-wal, -shm) come and go as an object closes its
 * database (its pages are then in the main file, which is read): one gone between listing and reading is skipped.
 */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    try {
      if (statSync(p).isDirectory()) out.push(...filesUnder(p));
      else out.push({ path: p, bytes: readFileSync(p) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  return out;
}

function find(haystacks: { name: string; bytes: Buffer }[], needle: string): string[] {
  const n = Buffer.from(needle, "utf8");
  return haystacks.filter((h) => h.bytes.includes(n)).map((h) => h.name);
}

describe("secrets at rest and in logs", () => {
  it("a full scenario leaves no API key, provider key or JWT in D1, KV, Durable Object storage or the log", async () => {
    await mock("/reset", { method: "POST" });
    const admin = await jwtFor(`e2e-secrets-admin-${rand()}`, "admin");
    jwt("admin JWT", admin);

    // Keys: created, used both ways, rotated, revoked.
    const u = await payingUser("pro");
    jwt("user JWT", u.jwt);
    apiKey("API key", u.key);
    expect((await call("/v1/me", { headers: { "x-api-key": u.key } })).status).toBe(200);
    const second = (await (
      await call("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: { name: "second", expiresInDays: 30 } })
    ).json()) as any;
    apiKey("second API key", second.key);
    expect((await call("/v1/me", { headers: bearer(second.key) })).status).toBe(200);
    const rotated = (await (
      await call(`/v1/keys/${second.apiKey.id}/rotate`, { method: "POST", headers: bearer(second.key) })
    ).json()) as any;
    apiKey("rotated API key", rotated.key);
    expect((await call("/v1/me", { headers: bearer(second.key) })).status).toBe(401);
    const sonna = (await (
      await call("/api/v1/user/api-keys", { method: "POST", headers: { "x-api-key": rotated.key }, json: { name: "sonna" } })
    ).json()) as any;
    apiKey("Sonna API key", sonna.key);
    expect((await call(`/api/v1/user/api-keys/${sonna.apiKey.id}`, { method: "DELETE", headers: bearer(u.jwt) })).status).toBe(200);
    expect((await call("/v1/me", { headers: bearer(sonna.key) })).status).toBe(401);

    // Stored provider keys: upserted twice, verified (valid and not), used by the gateway.
    const r1 = rand();
    const r2 = rand();
    const r3 = rand();
    const storedEleven = `stored-eleven-${r1}`;
    const storedEleven2 = `stored-eleven-${r2}`;
    const storedInvalid = `invalid-cartesia-${r3}`;
    providerKey("stored ElevenLabs key", storedEleven, r1);
    providerKey("stored ElevenLabs key (replaced)", storedEleven2, r2);
    providerKey("stored invalid Cartesia key", storedInvalid, r3);
    for (const [provider, apiKey] of [
      ["elevenlabs", storedEleven],
      ["elevenlabs", storedEleven2],
      ["cartesia", storedInvalid],
    ]) {
      expect((await call("/v1/provider-keys", { method: "POST", headers: bearer(u.key), json: { provider, apiKey } })).status).toBe(201);
    }
    expect(
      ((await (await call("/v1/provider-keys/elevenlabs/verify", { method: "POST", headers: bearer(u.key) })).json()) as any).valid,
    ).toBe(true);
    expect(
      ((await (await call("/v1/provider-keys/cartesia/verify", { method: "POST", headers: bearer(u.jwt) })).json()) as any).valid,
    ).toBe(false);
    const viaStored = await call("/v1/synthesize", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "elevenlabs", text: "stored key speaking" },
    });
    expect(viaStored.headers.get("x-usage-bypassed")).toBe("true");
    await viaStored.arrayBuffer();
    // The stored (invalid) Cartesia key fails upstream: the provider's error comes back as a 502.
    const cartesiaError = await call("/v1/synthesize", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "cartesia", text: "bad stored key" },
    });
    expect(cartesiaError.status).toBe(502);
    expect(await cartesiaError.text()).not.toContain(r3);

    // BYOK: good keys, and bad ones whose provider error quotes part of the key.
    const b1 = rand();
    const b2 = rand();
    const b3 = rand();
    const b4 = rand();
    const byokDeepgram = `byok-deepgram-${b1}`;
    const byokAnthropic = `byok-anthropic-${b2}`;
    const byokOpenAiBad = `invalid-openai-${b3}`;
    const byokElevenBad = `invalid-eleven-${b4}`;
    providerKey("BYOK Deepgram key", byokDeepgram, b1);
    providerKey("BYOK Anthropic key", byokAnthropic, b2);
    providerKey("BYOK OpenAI key (rejected)", byokOpenAiBad, b3);
    providerKey("BYOK ElevenLabs key (rejected)", byokElevenBad, b4);
    const dg = await call("/v1/synthesize", {
      method: "POST",
      headers: { ...bearer(u.key), "x-provider-key-deepgram": byokDeepgram },
      json: { provider: "deepgram", text: "bring your own key" },
    });
    expect(dg.status).toBe(200);
    await dg.arrayBuffer();
    const an = await call("/v1/chat", {
      method: "POST",
      headers: { ...bearer(u.jwt), "X-Provider-Key-Anthropic": byokAnthropic },
      json: {
        provider: "anthropic",
        model: "claude-sonnet-4-20250514",
        stream: true,
        messages: [{ role: "user", content: "byok stream" }],
      },
    });
    expect(await an.text()).toContain('"type":"done"');
    for (const [header, key, body] of [
      ["x-provider-key-openai", byokOpenAiBad, { provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: "x" }] }],
      ["x-provider-key-elevenlabs", byokElevenBad, { provider: "elevenlabs", text: "x" }],
    ] as const) {
      const res = await call(header.includes("openai") ? "/v1/chat" : "/v1/synthesize", {
        method: "POST",
        headers: { ...bearer(u.key), [header]: key },
        json: body,
      });
      expect(res.status).toBe(502);
      const text = await res.text();
      expect(text).not.toContain(key);
      expect(text).not.toContain(key.slice(-12));
    }

    // Metered calls with the platform keys, by API key and by JWT, and a platform-key failure.
    const metered = [
      call("/v1/synthesize", { method: "POST", headers: bearer(u.jwt), json: { provider: "fishaudio", text: "metered by jwt" } }),
      call("/v1/chat", {
        method: "POST",
        headers: { "x-api-key": u.key, "idempotency-key": `secrets-${rand()}` },
        json: { provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: "metered" }] },
      }),
      (() => {
        const form = new FormData();
        form.append("file", new File([new Uint8Array(3000)], "a.wav", { type: "audio/wav" }));
        form.append("provider", "groq");
        return call("/v1/transcribe", { method: "POST", headers: bearer(u.key), body: form });
      })(),
    ];
    for (const res of await Promise.all(metered)) {
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    await mock("/fault", { method: "POST", json: { provider: "deepgram", mode: "error", status: 401, bodyIncludes: "platform failure" } });
    const platformFail = await call("/v1/synthesize", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "deepgram", text: "platform failure" },
    });
    expect(platformFail.status).toBe(502);
    expect(await platformFail.text()).not.toContain("platform-deepgram-key");

    // Admin and account reads.
    expect((await call(`/api/admin/users/${u.id}`, { headers: bearer(admin) })).status).toBe(200);
    expect(
      (
        await call(`/api/admin/users/${u.id}/credits`, {
          method: "POST",
          headers: bearer(admin),
          json: { amount: 5, reason: "secrets test" },
        })
      ).status,
    ).toBe(200);
    expect((await call("/v1/usage", { headers: bearer(u.jwt) })).status).toBe(200);
    // Bad credentials are logged nowhere either.
    const badJwt = `${admin.split(".").slice(0, 2).join(".")}.${rand()}`;
    jwt("forged JWT", badJwt);
    expect((await call("/v1/me", { headers: bearer(badJwt) })).status).toBe(401);

    // Settled (waitUntil) and mirrored to KV (the Account object's alarm, ~1 s later).
    await settled(
      async () => ((await (await call("/v1/usage", { headers: bearer(u.jwt) })).json()) as any).requestCount,
      (n) => n >= 3,
    );
    await new Promise((r) => setTimeout(r, 2500));

    // The platform keys (from the worker's variables) must not be copied into storage or the log either.
    for (const p of ["elevenlabs", "openai", "anthropic", "cartesia", "deepgram", "fishaudio", "inworld", "resembleai", "groq"]) {
      secrets.push({ label: `platform ${p} key`, needles: [`platform-${p}-key`] });
    }

    const persistDir = inject("persistDir");
    const files = filesUnder(persistDir).map((f) => ({ name: relative(persistDir, f.path), bytes: f.bytes }));
    const log = { name: "worker log", bytes: readFileSync(inject("workerLog")) };
    const kinds = (re: RegExp) => files.filter((f) => re.test(f.name));
    // The scan reads what it must: D1, KV and the Account objects' SQLite, and each holds this user's data.
    expect(kinds(/d1/i).length, "D1 files").toBeGreaterThan(0);
    expect(kinds(/kv/i).length, "KV files").toBeGreaterThan(0);
    expect(kinds(/Account/).length, "Durable Object files").toBeGreaterThan(0);
    expect(find(kinds(/d1/i), u.id).length, "the user's row is found in D1").toBeGreaterThan(0);
    expect(find(kinds(/d1/i), second.apiKey.keyPrefix).length, "a keyPrefix is found in D1").toBeGreaterThan(0);
    expect(find(kinds(/kv/i), `usage:${u.id}`).length, "the usage mirror is found in KV").toBeGreaterThan(0);
    expect(find(kinds(/Account/), u.id).length, "the user's Account object is found").toBeGreaterThan(0);
    expect(log.bytes.length, "the worker log").toBeGreaterThan(0);

    const leaks: string[] = [];
    for (const s of secrets) {
      for (const needle of s.needles) {
        for (const where of [...find(files, needle), ...find([log], needle)]) leaks.push(`${s.label} (${needle.slice(0, 8)}…) in ${where}`);
      }
    }
    console.info(
      `secrets: ${secrets.length} secrets (${secrets.reduce((n, s) => n + s.needles.length, 0)} byte patterns) searched in ${files.length} files (${files.reduce((n, f) => n + f.bytes.length, 0)} bytes) and ${log.bytes.length} bytes of log`,
    );
    expect([...new Set(leaks)]).toEqual([]);
  });
});
