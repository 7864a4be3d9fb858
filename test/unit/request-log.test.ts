// The request log (API.md §7.1): every API request of a user, written after the response through the
// Queue, listed newest first with cursor paging, with its cost (streams: once they ended), kept 30 days —
// and never a body, a key or a header value. Plus the one structured log line per request.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { insertRequests, type RequestLogRow } from "../../src/db/request-log";
import worker from "../../src/index";
import { runQueue } from "../../src/queue";
import { env } from "../helpers/env";
import { call, keyOf, until, userOn } from "../helpers/reliability";

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function listAll(jwt: string, limit = 100): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const res = await call(`/v1/requests?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, { headers: auth(jwt) });
    expect(res.status).toBe(200);
    const page = (await res.json()) as any;
    out.push(...page.requests);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** The user's entries made with `keyId`, once `n` of them arrived. */
async function entriesOf(jwt: string, keyId: string, n: number): Promise<any[]> {
  return until(
    async () => (await listAll(jwt)).filter((e) => e.keyId === keyId),
    (rows) => rows.length >= n,
  );
}

afterEach(() => vi.restoreAllMocks());

describe("the request log", () => {
  it("lists exactly the requests made, newest first, with their status, provider, cost and attempts", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u, { name: "logged" });
    const scoped = await keyOf(u, { scopes: ["tts"] });
    const made: { res: Response; method: string; path: string }[] = [];
    const send = async (method: string, path: string, init: Record<string, unknown> = {}, key_ = key.key) => {
      const res = await call(path, { method, headers: auth(key_), ...init });
      made.push({ res, method, path: path.split("?")[0]! });
      await res.arrayBuffer();
      return res;
    };
    await send("GET", "/v1/me");
    await send("POST", "/v1/synthesize", { json: { provider: "elevenlabs", text: "Logged speech." } });
    await send("POST", "/v1/chat", { json: { provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: "hi" }] } });
    await send("POST", "/v1/chat", {
      json: { provider: "openai", model: "gpt-4.1-mini", stream: true, messages: [{ role: "user", content: "stream" }] },
    });
    await send("GET", "/v1/webhooks/whk_unknown/deliveries");
    await send("GET", "/v1/usage?detail=secret-looking-query");
    const ours = made.filter((m) => m.res.headers.get("x-request-id"));
    const rows = await entriesOf(u.jwt, key.id, ours.length);
    expect(rows.map((r) => r.id)).toEqual(ours.map((m) => m.res.headers.get("x-request-id")).reverse()); // exactly these, newest first
    for (const [i, m] of [...ours].reverse().entries()) {
      const row = rows[i];
      expect(row).toMatchObject({ method: m.method, path: m.path, keyId: key.id, status: m.res.status });
      expect(Object.keys(row).sort()).toEqual([
        "attempts",
        "cost",
        "createdAt",
        "durationMs",
        "gatewayMs",
        "id",
        "keyId",
        "method",
        "path",
        "provider",
        "status",
        "upstreamMs",
      ]);
    }
    const [streamed, chat, speech, me] = [rows[2], rows[3], rows[4], rows[5]];
    expect(me).toMatchObject({ provider: null, cost: 0, attempts: 0, status: 200 });
    expect(speech).toMatchObject({ provider: "elevenlabs", attempts: 1, cost: Number(made[1]!.res.headers.get("x-usage-cost")) });
    expect(chat).toMatchObject({ provider: "openai", attempts: 1, cost: Number(made[2]!.res.headers.get("x-usage-cost")) });
    expect(streamed.cost).toBeGreaterThan(0); // known only when the stream ended, and logged then
    // The answer's Server-Timing figures, as the caller saw them; none where no provider was called.
    for (const [row, m] of [
      [speech, made[1]!],
      [chat, made[2]!],
      [streamed, made[3]!],
    ] as const) {
      const header = Object.fromEntries(
        (m.res.headers.get("server-timing") ?? "").split(",").map((p) => p.trim().split(";dur=") as [string, string]),
      );
      expect({ gatewayMs: row.gatewayMs, upstreamMs: row.upstreamMs }).toEqual({
        gatewayMs: Number(header.gateway),
        upstreamMs: Number(header.upstream),
      });
    }
    expect(me).toMatchObject({ gatewayMs: null, upstreamMs: null });
    expect(rows[1]).toMatchObject({ status: 404, path: "/v1/webhooks/whk_unknown/deliveries" });
    expect(rows[0].path).toBe("/v1/usage"); // no query string
    // Refused requests are requests too: a scope denial is logged with its 403, under its key.
    const denied = await send("GET", "/v1/keys", {}, scoped.key);
    expect(denied.status).toBe(403);
    const [deniedRow] = await entriesOf(u.jwt, scoped.id, 1);
    expect(deniedRow).toMatchObject({ id: denied.headers.get("x-request-id"), status: 403, keyId: scoped.id });
    // Another user sees none of them.
    const other = await userOn("pro");
    expect((await listAll(other.jwt)).filter((r) => r.keyId === key.id)).toEqual([]);
  });

  it("150 requests at once (sent to the Queue in shared batches, more than one Queue batch holds): each logged once", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u); // pro: 300 a minute
    const responses = await Promise.all(Array.from({ length: 150 }, () => call("/v1/me", { headers: auth(key.key) })));
    const ids = responses.map((r) => r.headers.get("x-request-id"));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const rows = await until(
      async () => (await listAll(u.jwt)).filter((e) => e.keyId === key.id),
      (r) => r.length >= 150,
      20_000,
    );
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
  });

  it("pages with a cursor: no entry twice, none left out; a forged cursor is 400", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await call("/v1/me", { headers: auth(key.key) })).headers.get("x-request-id")!);
    await entriesOf(u.jwt, key.id, 7);
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page = (await (
        await call(`/v1/requests?limit=3${cursor ? `&cursor=${cursor}` : ""}`, { headers: auth(key.key) })
      ).json()) as any;
      pages.push(page.requests.filter((r: any) => r.keyId === key.id).map((r: any) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
    // (The listing's own requests are logged too, under no key: only this key's seven are compared.)
    expect(pages.flat()).toEqual([...ids].reverse());
    expect(pages.length).toBeGreaterThanOrEqual(3);
    for (const bad of ["nope", btoa("1.x"), "%%%"]) {
      const res = await call(`/v1/requests?cursor=${encodeURIComponent(bad)}`, { headers: auth(u.jwt) });
      expect(res.status, bad).toBe(400);
    }
    expect((await call("/v1/requests?limit=0", { headers: auth(u.jwt) })).status).toBe(400);
    expect((await call("/v1/requests?limit=101", { headers: auth(u.jwt) })).status).toBe(400);
  });

  it("never keeps a body, a key or a header value", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const secrets = {
      byok: "sk-byok-elevenlabs-7d1f0c9a2b",
      body: "the-body-text-9f8e7d6c",
      header: "custom-header-value-5a4b3c",
      query: "query-value-1b2c3d4e",
      webhook: "",
    };
    const res = await call("/v1/synthesize", {
      method: "POST",
      headers: { ...auth(key.key), "x-provider-key-elevenlabs": secrets.byok, "x-custom": secrets.header, "user-agent": secrets.header },
      json: { provider: "elevenlabs", text: `Say ${secrets.body}.` },
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const hook = await call(`/v1/webhooks?token=${secrets.query}`, {
      method: "POST",
      headers: { "x-api-key": key.key },
      json: { url: `${env.TEST_WEBHOOK_ORIGIN}/hooks/never-called`, events: ["credits.low"] },
    });
    expect(hook.status).toBe(201);
    secrets.webhook = ((await hook.json()) as any).secret;
    await entriesOf(u.jwt, key.id, 2);
    const stored = JSON.stringify((await env.DB.prepare("SELECT * FROM request_log WHERE user_id = ?").bind(u.id).all()).results);
    expect(stored).toContain(key.id);
    for (const s of [key.key, key.key.slice(6), ...Object.values(secrets)]) expect(stored, s).not.toContain(s);
  });

  it("a key pasted into the path (DELETE /v1/keys/<the key itself>, a provider key as the provider) is not kept", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const providerKey = "sk_4f1c9a7be2d05836a1c4f9e7b2d0a5c8e3f1b6d9a2c7e4f0";
    const sent: [string, string][] = [
      ["DELETE", `/v1/keys/${key.key}`],
      ["POST", `/v1/keys/${key.key}/rotate`],
      ["DELETE", `/api/v1/user/api-keys/${key.key}`],
      ["DELETE", `/v1/provider-keys/${providerKey}`],
      ["DELETE", `/v1/keys/${key.id}`],
    ];
    for (const [method, path] of sent) await (await call(path, { method, headers: auth(u.jwt) })).arrayBuffer();
    const rows = await until(
      async () => (await listAll(u.jwt)).filter((r) => r.method !== "GET"),
      (r) => r.length >= sent.length + 1, // and the POST that made the key
    );
    const text = JSON.stringify(rows);
    for (const s of [key.key.slice(6), providerKey]) expect(text, s).not.toContain(s);
    expect(rows.map((r) => r.path)).toEqual(
      expect.arrayContaining([
        "/v1/keys/[redacted]",
        "/v1/keys/[redacted]/rotate",
        "/api/v1/user/api-keys/[redacted]",
        "/v1/provider-keys/[redacted]",
        `/v1/keys/${key.id}`,
      ]),
    );
    const stored = JSON.stringify((await env.DB.prepare("SELECT * FROM request_log WHERE user_id = ?").bind(u.id).all()).results);
    expect(stored).not.toContain(key.key.slice(6));
  });

  it("shows the last 30 days; the cron deletes older entries", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const day = 24 * 3600_000;
    const insert = (rowId: string, age: number) =>
      env.DB.prepare(
        `INSERT INTO request_log (row_id, request_id, user_id, created_at, method, path, key_id, provider, status, cost_mc, duration_ms, attempts)
         VALUES (?, ?, ?, ?, 'GET', '/v1/me', ?, NULL, 200, 0, 5, 0)`,
      )
        .bind(rowId, `req_${rowId.slice(0, 8)}`, u.id, Date.now() - age, key.id)
        .run();
    const old = crypto.randomUUID();
    const recent = crypto.randomUUID();
    await insert(old, 31 * day);
    await insert(recent, 29 * day);
    const listed = (await listAll(u.jwt)).map((r) => r.id);
    expect(listed).toContain(`req_${recent.slice(0, 8)}`);
    expect(listed).not.toContain(`req_${old.slice(0, 8)}`);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env as any, ctx);
    await waitOnExecutionContext(ctx);
    const left = (await env.DB.prepare("SELECT row_id FROM request_log WHERE row_id IN (?, ?)").bind(old, recent).all()).results;
    expect(left.map((r: any) => r.row_id)).toEqual([recent]);
  });

  it("one structured JSON log line per request, with no secret in it", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    const res = await call("/v1/synthesize", {
      method: "POST",
      headers: { ...auth(key.key), "x-provider-key-elevenlabs": "sk-log-line-secret-3e2d1c" },
      json: { provider: "elevenlabs", text: "Log line text 8c7b6a." },
    });
    await res.arrayBuffer();
    const id = res.headers.get("x-request-id")!;
    const mine = await until(
      async () => lines.filter((l) => l.includes(id)),
      (l) => l.length >= 1,
    );
    expect(mine).toHaveLength(1);
    const line = JSON.parse(mine[0]!);
    expect(line).toMatchObject({
      type: "request",
      requestId: id,
      userId: u.id,
      keyId: key.id,
      route: "POST /v1/synthesize",
      provider: "elevenlabs",
      status: 200,
      cost: 0,
      attempts: 1,
    });
    expect(typeof line.durationMs).toBe("number");
    expect(`gateway;dur=${line.gatewayMs}, upstream;dur=${line.upstreamMs}`).toBe(res.headers.get("server-timing"));
    for (const s of [key.key, "sk-log-line-secret-3e2d1c", "8c7b6a"]) expect(mine[0]).not.toContain(s);
  });
  it("the consumer writes a batch of any size once, every field as sent, a redelivered entry not twice", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const row = (i: number): RequestLogRow => ({
      rowId: `row_${tag}_${i}`,
      requestId: `req_${tag}_${i}`,
      userId: `usr_${tag}`,
      createdAt: 1_700_000_000_000 + i,
      method: i % 2 ? "GET" : "POST",
      path: `/v1/path/${i}`,
      keyId: i % 3 ? `key_${i}` : null,
      provider: i % 4 ? "openai" : null,
      status: 200 + i,
      costMc: i * 7,
      durationMs: i,
      attempts: i % 3,
      gatewayMs: i % 5 ? i / 10 : null,
      upstreamMs: i % 5 ? i + 0.5 : null,
    });
    const first = Array.from({ length: 23 }, (_, i) => row(i)); // not a whole number of statements
    await insertRequests(env.DB, first);
    // A redelivered batch: 10 already written (changed, to show they are not overwritten) and 2 new.
    await insertRequests(env.DB, [...first.slice(5, 15).map((r) => ({ ...r, status: 599 })), row(23), row(24)]);
    await insertRequests(env.DB, []);
    const written = (
      await env.DB.prepare("SELECT * FROM request_log WHERE user_id = ? ORDER BY created_at").bind(`usr_${tag}`).all()
    ).results.map((r: any) => ({
      rowId: r.row_id,
      requestId: r.request_id,
      userId: r.user_id,
      createdAt: r.created_at,
      method: r.method,
      path: r.path,
      keyId: r.key_id,
      provider: r.provider,
      status: r.status,
      costMc: r.cost_mc,
      durationMs: r.duration_ms,
      attempts: r.attempts,
      gatewayMs: r.gateway_ms,
      upstreamMs: r.upstream_ms,
    }));
    expect(written).toEqual(Array.from({ length: 25 }, (_, i) => row(i)));
  });

  it("requests that end together go to the Queue as one message holding their entries (one Queue operation, not one each)", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const sent: { calls: string[]; entries: number } = { calls: [], entries: 0 };
    const real = env.REQUEST_LOG_QUEUE;
    const queue = {
      send: async (body: any, options?: QueueSendOptions) => {
        sent.calls.push("send");
        sent.entries += body.kind === "requests" ? body.entries.length : 1;
        return real.send(body, options);
      },
      sendBatch: async (messages: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) => {
        const list = [...messages];
        sent.calls.push(`sendBatch(${list.length})`);
        sent.entries += list.length;
        return real.sendBatch(list, options);
      },
    };
    const ctx = createExecutionContext();
    const own = { ...env, REQUEST_LOG_QUEUE: queue } as unknown as typeof env;
    const responses = await Promise.all(
      Array.from({ length: 12 }, () =>
        worker.fetch!(new Request("http://voxgate.test/v1/me", { headers: auth(key.key) }) as any, own, ctx),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
    await waitOnExecutionContext(ctx);
    expect(sent).toEqual({ calls: ["send", "send"], entries: 12 }); // at most 10 entries a message
    const rows = await entriesOf(u.jwt, key.id, 12);
    expect(rows.map((r) => r.id).sort()).toEqual(responses.map((r) => r.headers.get("x-request-id")).sort());
  });

  it("a message whose send fails is sent again: its entries are not lost", async () => {
    const u = await userOn("pro");
    const key = await keyOf(u);
    const real = env.REQUEST_LOG_QUEUE;
    let sends = 0;
    const queue = {
      send: async (body: any, options?: QueueSendOptions) => {
        sends++;
        if (sends === 1) throw new Error("Queue send failed: service unavailable");
        return real.send(body, options);
      },
    };
    const ctx = createExecutionContext();
    const own = { ...env, REQUEST_LOG_QUEUE: queue } as unknown as typeof env;
    const responses = await Promise.all(
      Array.from({ length: 3 }, () => worker.fetch!(new Request("http://voxgate.test/v1/me", { headers: auth(key.key) }) as any, own, ctx)),
    );
    await waitOnExecutionContext(ctx);
    expect(sends).toBe(2);
    const rows = await entriesOf(u.jwt, key.id, 3);
    expect(rows.map((r) => r.id).sort()).toEqual(responses.map((r) => r.headers.get("x-request-id")).sort());
  });

  it("the consumer writes grouped messages and single-entry ones (sent before entries were grouped) alike", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const entry = (i: number) => ({
      rowId: `row_${tag}_${i}`,
      requestId: `req_${tag}_${i}`,
      userId: `usr_${tag}`,
      createdAt: 1_700_000_100_000 + i,
      method: "GET",
      path: "/v1/me",
      keyId: null,
      provider: null,
      status: 200,
      costMc: 0,
      durationMs: 1,
      attempts: 0,
      gatewayMs: null,
      upstreamMs: null,
    });
    const acked: string[] = [];
    const message = (id: string, body: unknown) => ({ id, body, ack: () => acked.push(id), retry: () => {} });
    await runQueue(
      {
        messages: [
          message("grouped", { kind: "requests", entries: [entry(0), entry(1), entry(2)] }),
          message("single", { kind: "request", entry: entry(3) }),
        ],
      } as unknown as MessageBatch<unknown>,
      env as any,
    );
    const written = (await env.DB.prepare("SELECT row_id FROM request_log WHERE user_id = ? ORDER BY created_at").bind(`usr_${tag}`).all())
      .results;
    expect(written.map((r: any) => r.row_id)).toEqual([0, 1, 2, 3].map((i) => `row_${tag}_${i}`));
    expect(acked.sort()).toEqual(["grouped", "single"]);
  });
});

describe("loggedPath", () => {
  it("redacts a key made under an earlier API_KEY_PREFIX even when no long run of letters shows it", async () => {
    const { loggedPath } = await import("../../src/requestlog/record");
    const earlier = `sona_sk_${"Ab3-_x9Qz1".repeat(4)}k2Z`; // 43 secret characters, no 20-character alphanumeric run
    expect(loggedPath(`/v1/keys/${earlier}`, "plabs_")).toBe("/v1/keys/[redacted]");
    expect(loggedPath(`/v1/keys/key_${"0".repeat(32)}`, "plabs_")).toBe(`/v1/keys/key_${"0".repeat(32)}`);
  });
});
