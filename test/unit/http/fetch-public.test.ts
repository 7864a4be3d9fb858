// fetchPublic: each hop checked before it is requested, a bounded redirect chain, a byte cap enforced
// while streaming, one opaque message for every failure.
//
// Network safety: every fetch here goes through a recording function that answers only for the
// allow-listed loopback origin below (a made-up port: nothing listens there, and nothing is sent —
// the answers are canned) and throws for anything else. Refused addresses only ever reach the
// policy. The last block uses workerd's real fetch, but only to this worker itself (SELF, no
// network) and to the mock-provider server on 127.0.0.1, behind the same kind of guard.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  type FetchFn,
  type FetchPublicOptions,
  fetchPublic,
  PUBLIC_URL_UNAVAILABLE_MESSAGE,
  PublicUrlTooLarge,
  PublicUrlUnavailable,
} from "../../../src/http/fetch-public";
import { parseAllowHosts } from "../../../src/http/public-url";
import { env } from "../../helpers/env";

const ORIGIN = "http://127.0.0.1:9";
const KiB = 1024;

/** A stream of `chunks` × `chunkBytes` that counts how far it was read and whether it was cancelled. */
function countedBody(chunks: number, chunkBytes: number) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (state.pulled === chunks) return controller.close();
        state.pulled++;
        controller.enqueue(new Uint8Array(chunkBytes).fill(state.pulled % 256));
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

type Route = (url: URL, init: RequestInit) => Response | Promise<Response>;

/** The canned origin: records every URL asked for; answers only on ORIGIN; throws for anything else. */
function cannedOrigin(routes: Record<string, Route>) {
  const calls: string[] = [];
  const fetch: FetchFn = async (input, init) => {
    calls.push(input);
    const url = new URL(input);
    if (url.origin !== ORIGIN) throw new TypeError(`test fetch refuses ${url.origin}: only ${ORIGIN} is canned`);
    if (init.redirect !== "manual") throw new Error("fetchPublic must not let fetch follow redirects");
    const route = routes[url.pathname];
    return route ? route(url, init) : new Response("no such file", { status: 404 });
  };
  return { calls, fetch };
}

const redirect = (status: number, location: string) => new Response(null, { status, headers: { location } });

const ROUTES: Record<string, Route> = {
  "/a.wav": () => new Response(new Uint8Array([82, 73, 70, 70, 1, 2, 3]), { headers: { "content-type": "audio/wav" } }),
  "/bare": () => new Response(new Uint8Array([1, 2])),
  "/r1": () => redirect(302, "/r2?x=1"), // relative Location
  "/r2": () => redirect(307, `${ORIGIN}/a.wav`),
  "/to": (url) => redirect(302, url.searchParams.get("target")!),
  "/loop": (url) => redirect(301, `/loop?n=${Number(url.searchParams.get("n") ?? 0) + 1}`),
  "/no-location": () => new Response(null, { status: 302 }),
  "/not-modified": () => new Response(null, { status: 304 }),
  "/network-error": () => {
    throw new TypeError("Network connection lost: ECONNREFUSED 127.0.0.1:9");
  },
  "/hang": (_url, init) =>
    new Promise<Response>((_, reject) => init.signal!.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")))),
  "/stall": () => new Response(new ReadableStream({ pull: () => new Promise(() => {}) })),
};

const options = (fetch: FetchFn, extra: Partial<FetchPublicOptions> = {}): FetchPublicOptions => ({
  allowHosts: parseAllowHosts("127.0.0.1:9"),
  maxBytes: 16 * KiB,
  timeoutMs: 10_000,
  fetch,
  ...extra,
});

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected fetchPublic to fail");
}

describe("fetchPublic: what it returns", () => {
  it("returns the bytes and content type of an allowed URL, in one request", async () => {
    const origin = cannedOrigin(ROUTES);
    const got = await fetchPublic(`${ORIGIN}/a.wav`, options(origin.fetch));
    expect([...got.bytes]).toEqual([82, 73, 70, 70, 1, 2, 3]);
    expect(got.contentType).toBe("audio/wav");
    expect(got.url).toBe(`${ORIGIN}/a.wav`);
    expect(origin.calls).toEqual([`${ORIGIN}/a.wav`]);
  });

  it("says application/octet-stream when the server names no type", async () => {
    const origin = cannedOrigin(ROUTES);
    expect((await fetchPublic(`${ORIGIN}/bare`, options(origin.fetch))).contentType).toBe("application/octet-stream");
  });

  it("follows allowed redirects hop by hop, relative ones included", async () => {
    const origin = cannedOrigin(ROUTES);
    const got = await fetchPublic(`${ORIGIN}/r1`, options(origin.fetch));
    expect(origin.calls).toEqual([`${ORIGIN}/r1`, `${ORIGIN}/r2?x=1`, `${ORIGIN}/a.wav`]);
    expect(got.url).toBe(`${ORIGIN}/a.wav`);
    expect(got.bytes.byteLength).toBe(7);
  });

  it("accepts a body of exactly maxBytes, streamed without a length", async () => {
    const body = countedBody(16, KiB);
    const origin = cannedOrigin({ "/exact": () => new Response(body.stream) });
    const got = await fetchPublic(`${ORIGIN}/exact`, options(origin.fetch, { maxBytes: 16 * KiB }));
    expect(got.bytes.byteLength).toBe(16 * KiB);
    expect(got.bytes[16 * KiB - 1]).toBe(16);
  });
});

describe("fetchPublic: refused before anything is fetched", () => {
  it.each([
    "http://example.com/a.wav",
    "https://127.0.0.1/a.wav",
    "http://127.0.0.1:10/a.wav", // loopback, but not the listed port
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/a.wav",
    "https://localhost/a.wav",
    "https://user:pass@example.com/a.wav",
    "file:///etc/passwd",
    "not a url",
  ])("%s", async (url) => {
    const origin = cannedOrigin(ROUTES);
    const err = await failure(fetchPublic(url, options(origin.fetch)));
    expect(err).toBeInstanceOf(PublicUrlUnavailable);
    expect(err).toMatchObject({ kind: "refused", message: PUBLIC_URL_UNAVAILABLE_MESSAGE });
    expect(origin.calls).toEqual([]);
  });
});

describe("fetchPublic: redirects are checked like the first URL", () => {
  it.each([
    ["http://10.0.0.1/a.wav", "private"],
    ["http://169.254.169.254/latest/meta-data/iam/security-credentials/", "link_local"],
    ["https://metadata.google.internal/computeMetadata/v1/", "special_use_name"],
    ["http://[::1]:9/a.wav", "loopback"],
    ["https://[::ffff:169.254.169.254]/", "link_local"],
    ["http://0x7f.1/a.wav", "loopback"], // 127.0.0.1 on port 80: not the listed port
    ["http://localhost:9/a.wav", "localhost"],
    ["http://user:pass@127.0.0.1:9/a.wav", "credentials"],
    ["http://example.com/a.wav", "insecure_scheme"], // a downgrade from https would land here
    ["file:///etc/passwd", "unsupported_scheme"],
  ])("a redirect to %s is refused (%s) and not requested", async (target, reason) => {
    const origin = cannedOrigin(ROUTES);
    const first = `${ORIGIN}/to?target=${encodeURIComponent(target)}`;
    const err = await failure(fetchPublic(first, options(origin.fetch)));
    expect(err).toMatchObject({ kind: "refused", message: PUBLIC_URL_UNAVAILABLE_MESSAGE });
    expect((err as PublicUrlUnavailable).reason).toContain(reason);
    expect(origin.calls).toEqual([first]);
  });

  it("a redirect to a public https host is followed (here the canned fetch refuses it: unreachable)", async () => {
    const origin = cannedOrigin(ROUTES);
    const first = `${ORIGIN}/to?target=${encodeURIComponent("https://cdn.example.com/a.wav")}`;
    const err = await failure(fetchPublic(first, options(origin.fetch)));
    expect(err).toMatchObject({ kind: "unreachable", message: PUBLIC_URL_UNAVAILABLE_MESSAGE });
    expect(origin.calls).toEqual([first, "https://cdn.example.com/a.wav"]);
  });

  it("stops a redirect chain after maxRedirects hops", async () => {
    const origin = cannedOrigin(ROUTES);
    const err = await failure(fetchPublic(`${ORIGIN}/loop`, options(origin.fetch)));
    expect(err).toMatchObject({ kind: "unreachable", message: PUBLIC_URL_UNAVAILABLE_MESSAGE });
    expect(origin.calls).toEqual([`${ORIGIN}/loop`, ...[1, 2, 3, 4, 5].map((n) => `${ORIGIN}/loop?n=${n}`)]);

    const strict = cannedOrigin(ROUTES);
    await failure(fetchPublic(`${ORIGIN}/loop`, options(strict.fetch, { maxRedirects: 0 })));
    expect(strict.calls).toEqual([`${ORIGIN}/loop`]);
  });
});

describe("fetchPublic: the byte cap", () => {
  it("cuts off a chunked body with no Content-Length while it streams, and cancels it", async () => {
    const body = countedBody(1000, KiB); // ~1 MiB on offer, 16 KiB allowed
    const origin = cannedOrigin({ "/big": () => new Response(body.stream) });
    const err = await failure(fetchPublic(`${ORIGIN}/big`, options(origin.fetch)));
    expect(err).toBeInstanceOf(PublicUrlTooLarge);
    expect(err.message).toMatch(/larger than 16384 bytes/);
    expect(body.state.cancelled).toBe(true);
    expect(body.state.pulled).toBeGreaterThan(16);
    expect(body.state.pulled).toBeLessThan(64); // read just past the cap, nowhere near the end
  });

  it("refuses an oversized Content-Length before reading the body", async () => {
    const body = countedBody(1000, KiB);
    const origin = cannedOrigin({
      "/declared": () => new Response(body.stream, { headers: { "content-length": String(1000 * KiB) } }),
    });
    const err = await failure(fetchPublic(`${ORIGIN}/declared`, options(origin.fetch)));
    expect(err).toBeInstanceOf(PublicUrlTooLarge);
    expect(body.state.pulled).toBeLessThanOrEqual(1); // a stream may be primed once; never read on
    expect(body.state.cancelled).toBe(true);
  });
});

describe("fetchPublic: one opaque message for every failure", () => {
  it("404, network error, no Location, 304, timeouts and refusals all read the same", async () => {
    const cases: [string, Partial<FetchPublicOptions>, string][] = [
      [`${ORIGIN}/missing`, {}, "HTTP 404"],
      [`${ORIGIN}/network-error`, {}, "fetch failed"],
      [`${ORIGIN}/no-location`, {}, "without Location"],
      [`${ORIGIN}/not-modified`, {}, "HTTP 304"],
      [`${ORIGIN}/hang`, { timeoutMs: 20 }, "timed out"],
      [`${ORIGIN}/stall`, { timeoutMs: 20 }, "timed out reading the body"],
      ["https://10.0.0.1/a.wav", {}, "private"],
    ];
    for (const [url, extra, reason] of cases) {
      const origin = cannedOrigin(ROUTES);
      const err = await failure(fetchPublic(url, options(origin.fetch, extra)));
      expect(err, url).toBeInstanceOf(PublicUrlUnavailable);
      expect(err.message, url).toBe(PUBLIC_URL_UNAVAILABLE_MESSAGE);
      expect((err as PublicUrlUnavailable).reason, url).toContain(reason);
      expect(JSON.stringify(err), url).not.toMatch(/ECONNREFUSED|no such file/);
    }
  });

  it("honours the caller's own signal", async () => {
    const origin = cannedOrigin(ROUTES);
    const caller = new AbortController();
    const pending = failure(fetchPublic(`${ORIGIN}/hang`, options(origin.fetch, { signal: caller.signal })));
    caller.abort();
    expect(await pending).toMatchObject({
      kind: "unreachable",
      reason: "127.0.0.1:9: cancelled by the caller",
      message: PUBLIC_URL_UNAVAILABLE_MESSAGE,
    });
  });
});

describe("fetchPublic with workerd's real fetch (no network: this worker, and loopback only)", () => {
  /** The real fetch, but only to the hosts named; anything else throws before a byte is sent. */
  function guarded(real: FetchFn, hosts: string[]) {
    const calls: string[] = [];
    const fetch: FetchFn = (input, init) => {
      calls.push(input);
      if (!hosts.includes(new URL(input).host)) throw new TypeError(`guard refuses ${input}`);
      return real(input, init);
    };
    return { calls, fetch };
  }

  it("gets the 3xx itself from redirect: manual and re-checks the next hop (this worker's /portal/ → /portal)", async () => {
    const self = guarded((input, init) => SELF.fetch(input, init), ["voxgate.test"]);
    const got = await fetchPublic(
      "http://voxgate.test/portal/",
      options(self.fetch, { allowHosts: parseAllowHosts("voxgate.test"), maxBytes: 1024 * KiB }),
    );
    expect(self.calls).toEqual(["http://voxgate.test/portal/", "http://voxgate.test/portal"]);
    expect(got.contentType).toMatch(/^text\/html/);
    expect(got.bytes.byteLength).toBeGreaterThan(0);
  });

  it("reads a real body over loopback and maps a real 404", async () => {
    const mock = new URL(env.TEST_MOCK_ORIGIN);
    expect(mock.hostname).toBe("127.0.0.1");
    const real = guarded((input, init) => fetch(input, init), [mock.host]);
    const opts = options(real.fetch, { allowHosts: parseAllowHosts(mock.host) });
    const got = await fetchPublic(`${mock.origin}/__control/health`, opts);
    expect(JSON.parse(new TextDecoder().decode(got.bytes))).toMatchObject({ ok: true });
    expect(got.contentType).toBe("application/json");
    const err = await failure(fetchPublic(`${mock.origin}/__control/no-such-route`, opts));
    expect(err).toMatchObject({ kind: "unreachable", reason: `${mock.host}: HTTP 404` });
  });
});
