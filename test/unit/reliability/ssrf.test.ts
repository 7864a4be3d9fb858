// SSRF through `audioUrl` (issue 13, API.md §4.1), through the real routes: JSON and multipart on
// POST /v1/transcribe, multipart on POST /v1/audio/transcriptions. Every refused URL gets the one
// opaque 400 `invalid_audio_url`, an unreachable one the same, an oversize download 413, and nothing is
// charged or reserved.
//
// Where traffic may go (HELPERS.md): only loopback on this machine. Two guards make sure of it and make
// "nothing was fetched" observable:
// - every `fetch` of the worker in this isolate (the requests go through `call()`, the worker's fetch
//   handler in this isolate) passes a spy: 127.0.0.1 and [::1] go out; anything else is recorded and
//   failed without a network call. A private, link-local, CGNAT or multicast literal refused by the
//   policy leaves no record; had it been fetched, the record would fail the test (it cannot pass by
//   contacting them, nor can it contact them);
// - loopback targets carry a trap path on a server that records what it is sent: the mock providers
//   (127.0.0.1:<mock port>, the one host:port on AUDIO_URL_ALLOW_HOSTS in tests) and the webhook
//   receiver (127.0.0.1:<receiver port>, not on the list). The trap is shown to work (a positive control).
// Each refusal is also shown to come from the policy: the reason logged for the request names it.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { PUBLIC_URL_UNAVAILABLE_MESSAGE } from "../../../src/http/fetch-public";
import { bearer } from "../../helpers/api";
import { env } from "../../helpers/env";
import { backgroundDone, call, keyOf, ledgerOf, pool, userOn } from "../../helpers/reliability";

const MOCK = new URL(env.TEST_MOCK_ORIGIN); // on AUDIO_URL_ALLOW_HOSTS (test/helpers/test-config.ts)
const M = MOCK.port;
const H = new URL(env.TEST_WEBHOOK_ORIGIN).port; // loopback, not on AUDIO_URL_ALLOW_HOSTS
const MESSAGE = `audioUrl: ${PUBLIC_URL_UNAVAILABLE_MESSAGE}`;
const MAX_BYTES = 25 * 1024 * 1024; // AUDIO_URL_MAX_BYTES (default; not set in tests)

// ---- the guards -----------------------------------------------------------------------------------------

const realFetch = globalThis.fetch;
/** Every URL the worker (or this test) asked fetch for that is not 127.0.0.1 or [::1]: never sent. */
const blocked: string[] = [];
/** Every URL fetched at all, loopback included. */
const fetched: string[] = [];
const warnings: string[] = [];

beforeAll(() => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const href = input instanceof Request ? input.url : String(input);
    fetched.push(href);
    const host = new URL(href).hostname;
    if (host !== "127.0.0.1" && host !== "[::1]") {
      blocked.push(href);
      throw new TypeError("blocked by the SSRF test: only loopback may be contacted");
    }
    return realFetch(input, init);
  });
  vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => {
    warnings.push(args.map(String).join(" "));
  });
});
afterAll(() => vi.restoreAllMocks());
afterEach(() => backgroundDone());

const nonce = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;

/** Requests the mock providers recorded under `provider` whose path contains `path`. */
async function mockRecords(provider: string, path: string): Promise<any[]> {
  const res = await realFetch(`${env.TEST_MOCK_ORIGIN}/__control/requests?provider=${provider}&path=${encodeURIComponent(path)}`);
  return (await res.json()) as any[];
}
/** Requests the webhook receiver recorded at `path`. */
async function receiverRecords(path: string): Promise<any[]> {
  const res = await realFetch(`${env.TEST_WEBHOOK_ORIGIN}/__control/received?path=${encodeURIComponent(path)}`);
  return (await res.json()) as any[];
}

// ---- sending an audioUrl every way a route takes one ----------------------------------------------------

// (The OpenAI-compatible route takes multipart only, as OpenAI's does; Voxgate adds its audioUrl field.)
type Via = "json /v1/transcribe" | "multipart /v1/transcribe" | "multipart /v1/audio/transcriptions";
const VIAS: Via[] = ["json /v1/transcribe", "multipart /v1/transcribe", "multipart /v1/audio/transcriptions"];

function send(via: Via, auth: Record<string, string>, audioUrl: string): Promise<Response> {
  const [kind, path] = via.split(" ") as ["json" | "multipart", string];
  const openai = path === "/v1/audio/transcriptions";
  const fields: Record<string, string> = openai ? { model: "deepgram/nova-3", audioUrl } : { provider: "deepgram", audioUrl };
  if (kind === "json") return call(path, { method: "POST", headers: auth, json: fields });
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return call(path, { method: "POST", headers: auth, body: form });
}

/** The opaque refusal, in Voxgate's shape or OpenAI's; returns the reason logged for the request. */
async function expectRefused(res: Response, label: string, status = 400, code = "invalid_audio_url"): Promise<string> {
  const text = await res.text();
  expect(res.status, `${label}: ${text}`).toBe(status);
  const body = JSON.parse(text);
  const error = body.error;
  expect(error.code, label).toBe(code);
  if (code === "invalid_audio_url") expect(error.message, label).toBe(MESSAGE);
  const requestId = res.headers.get("x-request-id") ?? "";
  return warnings.find((w) => w.includes(`[${requestId}] audioUrl refused`)) ?? "";
}

let auth: Record<string, string>;
let userId: string;
beforeAll(async () => {
  const user = await userOn("scale");
  userId = user.id;
  auth = bearer((await keyOf(user)).key);
});

describe("audioUrl: refused before anything is fetched", () => {
  it("the traps record what they are sent (positive control): the allow-listed mock is fetched, the receiver records a GET", async () => {
    const n = nonce();
    const res = await send("json /v1/transcribe", auth, `http://127.0.0.1:${M}/deepgram/ssrf-trap-${n}`);
    // Fetched (the mock answers an error there): unreachable gets exactly the answer a refusal gets.
    const reason = await expectRefused(res, "allow-listed trap");
    expect(reason).toMatch(/: HTTP \d{3}$/);
    expect(await mockRecords("deepgram", `ssrf-trap-${n}`)).toHaveLength(1);
    await realFetch(`http://127.0.0.1:${H}/ssrf-trap-${n}`);
    expect(await receiverRecords(`/ssrf-trap-${n}`)).toHaveLength(1);
  });

  // Every spelling of loopback (and user@host, scheme and parser tricks), on the receiver's port (not
  // allow-listed: even 127.0.0.1 itself is refused there) and on the mock's port (allow-listed as
  // 127.0.0.1:<port> only: every other name for the machine is refused). A spelling the URL parser turns
  // into 127.0.0.1 on the mock's port *is* the allow-listed host:port and is not in this table.
  const onReceiver = (trap: string): [string, string][] => [
    [`http://127.0.0.1:${H}${trap}`, "loopback"],
    [`http://127.1:${H}${trap}`, "loopback"],
    [`http://127.0.1:${H}${trap}`, "loopback"],
    [`http://2130706433:${H}${trap}`, "loopback"],
    [`http://0x7f000001:${H}${trap}`, "loopback"],
    [`http://0x7f.1:${H}${trap}`, "loopback"],
    [`http://0177.0.0.1:${H}${trap}`, "loopback"],
    [`http://017700000001:${H}${trap}`, "loopback"],
    [`http://127.0.0.1.:${H}${trap}`, "loopback"],
    [`http://127.0.0.2:${H}${trap}`, "loopback"],
    [`http://127.255.255.254:${H}${trap}`, "loopback"],
    [`http://0.0.0.0:${H}${trap}`, "unspecified"],
    [`http://0:${H}${trap}`, "unspecified"],
    [`http://[::1]:${H}${trap}`, "loopback"],
    [`http://[0:0:0:0:0:0:0:1]:${H}${trap}`, "loopback"],
    [`http://[::]:${H}${trap}`, "unspecified"],
    [`http://[::ffff:127.0.0.1]:${H}${trap}`, "loopback"],
    [`http://[::ffff:7f00:1]:${H}${trap}`, "loopback"],
    [`http://[0:0:0:0:0:ffff:7f00:1]:${H}${trap}`, "loopback"],
    [`http://[::127.0.0.1]:${H}${trap}`, "loopback"],
    [`http://[64:ff9b::127.0.0.1]:${H}${trap}`, "loopback"],
    [`http://localhost:${H}${trap}`, "localhost"],
    [`http://localhost.:${H}${trap}`, "localhost"],
    [`http://LOCALHOST:${H}${trap}`, "localhost"],
    [`http://LocalHost.:${H}${trap}`, "localhost"],
    [`http://trap.localhost:${H}${trap}`, "localhost"],
    [`https://127.0.0.1:${H}${trap}`, "loopback"],
    [`https://localhost${trap}`, "localhost"],
    [`http://user@127.0.0.1:${H}${trap}`, "credentials"],
    [`http://user:pass@127.0.0.1:${H}${trap}`, "credentials"],
    [`http://127.0.0.1:${M}@127.0.0.1:${H}${trap}`, "credentials"],
    [`http://127.0.0.1:${H}#@127.0.0.1:${M}${trap}`, "loopback"],
    [`http://127.0.0.1:${H}\\@127.0.0.1:${M}${trap}`, "loopback"],
    [`http:\\\\127.0.0.1:${H}${trap}`, "loopback"],
    [`HTTP://127.0.0.1:${H}${trap}`, "loopback"],
    [`ftp://127.0.0.1:${H}${trap}`, "unsupported_scheme"],
    [`ws://127.0.0.1:${H}${trap}`, "unsupported_scheme"],
    [`gopher://127.0.0.1:${H}${trap}`, "unsupported_scheme"],
    [`file:///etc/passwd`, "unsupported_scheme"],
    [`data:audio/wav;base64,UklGRg==`, "unsupported_scheme"],
    [`javascript:fetch('http://127.0.0.1:${H}${trap}')`, "unsupported_scheme"],
    [`//127.0.0.1:${H}${trap}`, "malformed_url"],
    [`127.0.0.1:${H}${trap}`, "malformed_url"],
  ];
  const onMock = (trap: string): [string, string][] => [
    [`http://[::1]:${M}${trap}`, "loopback"],
    [`http://[::ffff:127.0.0.1]:${M}${trap}`, "loopback"],
    [`http://[::ffff:7f00:1]:${M}${trap}`, "loopback"],
    [`http://localhost:${M}${trap}`, "localhost"],
    [`http://localhost.:${M}${trap}`, "localhost"],
    [`http://LOCALHOST:${M}${trap}`, "localhost"],
    [`http://127.0.0.2:${M}${trap}`, "loopback"],
    [`http://0.0.0.0:${M}${trap}`, "unspecified"],
    [`http://user@127.0.0.1:${M}${trap}`, "credentials"],
    [`http://127.0.0.1:${M}:pass@localhost:${M}${trap}`, "credentials"],
    [`http://127.0.0.1:${M}.${trap}`, "malformed_url"],
  ];

  it("every spelling of loopback, user@host and scheme tricks: 400 invalid_audio_url, every route and body, the traps never hit", async () => {
    const n = nonce();
    const receiverTrap = `/ssrf-trap-${n}`;
    const mockTrap = `/deepgram/ssrf-trap-${n}`;
    const cases = [...onReceiver(receiverTrap), ...onMock(mockTrap)].flatMap(([url, reason]) => VIAS.map((via) => ({ url, reason, via })));
    const wrong: string[] = [];
    await pool(cases, 8, async ({ url, reason, via }) => {
      const logged = await expectRefused(await send(via, auth, url), `${via} ${url}`);
      if (!logged.includes(`refused or unreachable: ${reason}: `))
        wrong.push(`${via} ${url}: expected the policy's "${reason}", logged "${logged}"`);
    });
    expect(wrong).toEqual([]);
    expect(await receiverRecords(receiverTrap)).toEqual([]);
    expect(await mockRecords("deepgram", `ssrf-trap-${n}`)).toEqual([]);
    expect(fetched.filter((u) => u.includes(n))).toEqual([]);
    console.log(
      `ssrf: ${cases.length} loopback requests (${cases.length / VIAS.length} URLs × ${VIAS.length} ways), all refused unfetched`,
    );
  });

  it("private, link-local, CGNAT, multicast and metadata addresses in any spelling: refused by the policy, never contacted", async () => {
    const urls: [string, string][] = [
      ["http://10.0.0.1/audio.wav", "private"],
      ["https://10.255.255.254/audio.wav", "private"],
      ["http://0xa000001/audio.wav", "private"],
      ["http://012.0.0.1/audio.wav", "private"],
      ["http://167772161/audio.wav", "private"],
      ["http://172.16.0.1/audio.wav", "private"],
      ["http://172.31.255.255/audio.wav", "private"],
      ["http://192.168.0.1/audio.wav", "private"],
      ["http://192.168.1.1:8080/audio.wav", "private"],
      ["http://169.254.169.254/latest/meta-data/", "link_local"],
      ["http://169.254.169.254./latest/meta-data/", "link_local"],
      ["http://2852039166/latest/meta-data/", "link_local"],
      ["http://0xa9fea9fe/latest/meta-data/", "link_local"],
      ["http://0251.0376.0251.0376/latest/meta-data/", "link_local"],
      ["http://169.254.43518/latest/meta-data/", "link_local"],
      ["http://[::ffff:169.254.169.254]/latest/meta-data/", "link_local"],
      ["http://[::ffff:a9fe:a9fe]/latest/meta-data/", "link_local"],
      ["http://[fd00:ec2::254]/latest/meta-data/", "private"],
      ["http://100.64.0.1/audio.wav", "cgnat"],
      ["http://100.127.255.254/audio.wav", "cgnat"],
      ["http://224.0.0.1/audio.wav", "multicast"],
      ["http://239.255.255.250:1900/audio.wav", "multicast"],
      ["http://255.255.255.255/audio.wav", "broadcast"],
      ["http://[fc00::1]/audio.wav", "private"],
      ["http://[fd12:3456:789a::1]/audio.wav", "private"],
      ["http://[fe80::1]/audio.wav", "link_local"],
      ["http://[ff02::1]/audio.wav", "multicast"],
      ["http://[::ffff:10.0.0.1]/audio.wav", "private"],
      ["http://[::ffff:c0a8:101]/audio.wav", "private"],
      ["http://[2002:c0a8:101::]/audio.wav", "private"],
      ["http://[64:ff9b::a00:1]/audio.wav", "private"],
      ["https://user:pass@10.0.0.1/audio.wav", "credentials"],
      ["http://metadata.google.internal/computeMetadata/v1/", "special_use_name"],
      ["http://metadata/computeMetadata/v1/", "single_label_host"],
      ["http://router.lan/audio.wav", "special_use_name"],
    ];
    const cases = urls.flatMap(([url, reason]) => VIAS.map((via) => ({ url, reason, via })));
    const before = blocked.length;
    const wrong: string[] = [];
    await pool(cases, 8, async ({ url, reason, via }) => {
      const logged = await expectRefused(await send(via, auth, url), `${via} ${url}`);
      if (!logged.includes(`refused or unreachable: ${reason}: `))
        wrong.push(`${via} ${url}: expected the policy's "${reason}", logged "${logged}"`);
    });
    expect(wrong).toEqual([]);
    // Not one of them reached fetch (which would have refused to send it, and recorded it here).
    expect(blocked.slice(before)).toEqual([]);
    console.log(
      `ssrf: ${cases.length} private/link-local/CGNAT/multicast requests (${urls.length} URLs × ${VIAS.length} ways), none fetched`,
    );
  });
});

describe("audioUrl: redirects are checked hop by hop", () => {
  const redirect = (to: string, status = 302) => `http://127.0.0.1:${M}/__control/redirect?status=${status}&to=${encodeURIComponent(to)}`;

  it("from the allow-listed host to another name for loopback, a private or metadata address: refused, the target never fetched", async () => {
    const n = nonce();
    const targets: [string, string][] = [
      [`http://localhost:${M}/deepgram/ssrf-trap-${n}`, "localhost"],
      [`http://[::1]:${M}/deepgram/ssrf-trap-${n}`, "loopback"],
      [`http://[::ffff:127.0.0.1]:${M}/deepgram/ssrf-trap-${n}`, "loopback"],
      [`http://127.1:${H}/ssrf-trap-${n}`, "loopback"],
      [`http://2130706433:${H}/ssrf-trap-${n}`, "loopback"],
      [`http://user@127.0.0.1:${M}/deepgram/ssrf-trap-${n}`, "credentials"],
      [`//localhost:${M}/deepgram/ssrf-trap-${n}`, "localhost"], // scheme-relative
      ["http://169.254.169.254/latest/meta-data/", "link_local"],
      ["http://10.0.0.1/audio.wav", "private"],
      [`file:///etc/passwd`, "unsupported_scheme"],
    ];
    const cases = targets.flatMap(([to, reason]) =>
      [301, 302, 303, 307, 308].flatMap((status) => VIAS.map((via) => ({ url: redirect(to, status), to, reason, via }))),
    );
    const before = blocked.length;
    const wrong: string[] = [];
    await pool(cases, 8, async ({ url, to, reason, via }) => {
      const logged = await expectRefused(await send(via, auth, url), `${via} → ${to}`);
      if (!logged.includes(`refused or unreachable: redirect target ${reason}: `))
        wrong.push(`${via} → ${to}: expected the redirect target refused (${reason}), logged "${logged}"`);
    });
    expect(wrong).toEqual([]);
    // The first hop was fetched (the mock served every redirect), nothing after it.
    const served = (await mockRecords("control", "/redirect")).filter((r) => targets.some(([to]) => r.query.to === to));
    expect(served).toHaveLength(cases.length);
    expect(await receiverRecords(`/ssrf-trap-${n}`)).toEqual([]);
    expect(await mockRecords("deepgram", `ssrf-trap-${n}`)).toEqual([]);
    expect(blocked.slice(before)).toEqual([]);
    console.log(
      `ssrf: ${cases.length} redirects (${targets.length} targets × 5 statuses × ${VIAS.length} ways), all refused at the target`,
    );
  });

  it("a redirect loop ends in the same 400; a redirect to an allowed URL is followed (control)", async () => {
    const loop = `http://127.0.0.1:${M}/__control/redirect?loop=${nonce()}`; // redirects to itself
    const logged = await expectRefused(await send("json /v1/transcribe", auth, loop), "loop");
    expect(logged).toMatch(/more than 5 redirects/);

    const other = await userOn("scale");
    const ok = await send(
      "json /v1/transcribe",
      bearer((await keyOf(other)).key),
      redirect(`http://127.0.0.1:${M}/__control/bytes?size=5000&n=${nonce()}`),
    );
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(((await ok.json()) as any).text).toBe("mock transcript of 5000 bytes");
  });
});

describe("audioUrl: the download is capped", () => {
  it(`over AUDIO_URL_MAX_BYTES (chunked, or declared): 413, every route and body`, async () => {
    for (const declare of ["0", "1"]) {
      for (const via of VIAS) {
        const url = `http://127.0.0.1:${M}/__control/bytes?size=${MAX_BYTES + 1}&declare=${declare}&n=${nonce()}`;
        const res = await send(via, auth, url);
        await expectRefused(res, `${via} declare=${declare}`, 413, "payload_too_large");
      }
    }
  });
});

describe("audioUrl: what a refusal costs", () => {
  it("nothing: no credits used or reserved, no request counted, however many were refused", async () => {
    await backgroundDone();
    const ledger = await ledgerOf(userId);
    expect({ usedMc: ledger.usedMc, reservedMc: ledger.reservedMc, requestCount: ledger.requestCount }).toEqual({
      usedMc: 0,
      reservedMc: 0,
      requestCount: 0,
    });
  });
});
