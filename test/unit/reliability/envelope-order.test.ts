// The body's envelope (content type 415, size 413) is checked after the credentials and only on routes
// that exist (src/app.ts): a revoked key gets 401 on its very next request whatever that request's body
// (API.md §1), a caller without credentials gets 401 however big its body, an unknown route is 404 for
// everyone, and a valid key's refused body is admitted like any bad input — rate-limited, with the §5
// headers.
import { describe, expect, it } from "vitest";
import { bearer } from "../../helpers/api";
import { call, keyOf, ledgerOf, userOn } from "../../helpers/reliability";

const textBody = (auth: Record<string, string>) => ({
  method: "POST",
  headers: { ...auth, "content-type": "text/plain" },
  body: "hello",
});

describe("the envelope comes after the credentials", () => {
  it("a revoked key's next request gets 401 even with a content type the route refuses", async () => {
    const u = await userOn("scale");
    const { key, id } = await keyOf(u);
    expect((await call(`/v1/keys/${id}`, { method: "DELETE", headers: bearer(u.jwt) })).status).toBe(200);
    for (const path of ["/v1/synthesize", "/v1/keys", "/v1/transcribe", "/v1/chat/completions"]) {
      const res = await call(path, textBody(bearer(key)));
      expect(res.status, path).toBe(401);
    }
  });

  it("no credentials and a body over the limit: 401, not 413", async () => {
    const res = await call("/v1/synthesize", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "x".repeat(2 * 1024 * 1024) }),
    });
    expect(res.status).toBe(401);
  });

  it("a valid key's refused content type is 415 with the rate-limit and usage headers, and counts against the rate limit", async () => {
    const u = await userOn("scale");
    const { key } = await keyOf(u);
    const first = await call("/v1/synthesize", textBody(bearer(key)));
    expect(first.status).toBe(415);
    expect(((await first.json()) as any).error.code).toBe("unsupported_media_type");
    const limit = Number(first.headers.get("x-ratelimit-limit"));
    const left = Number(first.headers.get("x-ratelimit-remaining"));
    expect(limit).toBeGreaterThan(0);
    expect(first.headers.get("x-usage-remaining")).not.toBeNull();
    const second = await call("/v1/me", { headers: bearer(key) });
    expect(Number(second.headers.get("x-ratelimit-remaining"))).toBe(left - 1);
  });

  it("an unknown route is 404 whatever its body's content type or size", async () => {
    const u = await userOn("scale");
    const { key } = await keyOf(u);
    expect((await call("/v1/nope", textBody(bearer(key)))).status).toBe(404);
    expect((await call("/v1/nope", textBody({}))).status).toBe(404);
    const big = await call("/v1/nope", { method: "POST", json: { text: "x".repeat(2 * 1024 * 1024) } });
    expect(big.status).toBe(404);
  });

  it("a trailing slash is another path: 404 for everyone, no credential looked at, no rate-limit token taken", async () => {
    const u = await userOn("scale");
    const { key } = await keyOf(u);
    const before = Number((await call("/v1/me", { headers: bearer(key) })).headers.get("x-ratelimit-remaining"));
    for (const [method, path] of [
      ["GET", "/v1/me/"],
      ["POST", "/v1/chat/"],
      ["GET", "/v1/keys/"],
    ] as const) {
      expect((await call(path, { method, headers: bearer(key), json: method === "POST" ? {} : undefined })).status, path).toBe(404);
      expect((await call(path, { method, json: method === "POST" ? {} : undefined })).status, path).toBe(404);
    }
    const after = Number((await call("/v1/me", { headers: bearer(key) })).headers.get("x-ratelimit-remaining"));
    expect(after).toBe(before - 1);
  });

  it("a compressed body (Content-Encoding other than identity) is 415: nothing reaches the provider, nothing is charged", async () => {
    const u = await userOn("scale");
    const before = await ledgerOf(u.id);
    for (const coding of ["gzip", "br", "deflate"]) {
      const res = await call("/v1/transcribe?provider=deepgram", {
        method: "POST",
        headers: { ...bearer(u.jwt), "content-type": "audio/wav", "content-encoding": coding },
        body: new Uint8Array(3000).fill(1),
      });
      expect(res.status, coding).toBe(415);
      expect(((await res.json()) as any).error.code).toBe("unsupported_media_type");
    }
    const ok = await call("/v1/me", { headers: bearer(u.jwt) });
    expect(ok.status).toBe(200);
    expect((await ledgerOf(u.id)).usedMc).toBe(before.usedMc);
  });
});
