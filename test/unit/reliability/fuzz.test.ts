// Hostile input (issue 5 §2): a property-based fuzzer (fast-check) sending generated requests — only
// ones that cannot succeed — across every route of the OpenAPI document (plus unknown paths): malformed
// JSON, wrong types, huge strings, unicode edge cases, invalid UTF-8, oversized bodies, wrong content
// types, odd and duplicated headers, path traversal and SQL metacharacters in ids.
// Asserted for every request: no 5xx, every error is JSON in the API.md §8 shape (OpenAI's on the
// OpenAI-compatible paths), nothing a credential may not reach answers 2xx; and for the whole run:
// a snapshot of every D1 row and every KV entry is the same before and after.
//
// Default: 10,000 requests. Heavier: VOXGATE_FUZZ_RUNS=100000 npm run test:unit -- test/unit/reliability/fuzz.test.ts
import { runDurableObjectAlarm } from "cloudflare:test";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminJwt, api, bearer, jwtFor, newUser, uniqueSub } from "../../helpers/api";
import { env } from "../../helpers/env";
import { cycle, first, nth } from "../../helpers/items";
import { backgroundDone, call, errorShapeProblem, OPENAI_PATHS, type Snapshot, sleep, snapshot } from "../../helpers/reliability";

const TOTAL_REQUESTS = Number(env.VOXGATE_FUZZ_RUNS) || 10_000;
/** Requests sent at once per property run (the shrinker then narrows a failure down within a batch). */
const BATCH = 10;
const ORIGIN = "http://voxgate.test";
const JSON_MAX = 1024 * 1024;
const UPLOAD_PATHS = new Set(["/v1/transcribe", "/v1/audio/transcriptions"]);
/**
 * Better Auth counts every sign-in attempt per client address here, refused ones included (that is its
 * job); the request log records every request of a user, refused ones included (that is its job, API.md §7.1).
 */
const RATE_LIMIT_TABLES = ["auth_rate_limit", "request_log"];

// ---- what the fuzzer knows about the routes (from the served OpenAPI document) -------------------------

interface DocRoute {
  method: string;
  path: string;
  /** JSON body schema's properties and their allowed JSON types; undefined: no JSON body. */
  props?: Record<string, Set<string>>;
  required?: string[];
  multipart: boolean;
  optionalBody: boolean;
}

let routes: DocRoute[] = [];

function resolve(doc: any, s: any): any {
  while (s?.$ref)
    s = s.$ref
      .split("/")
      .slice(1)
      .reduce((o: any, k: string) => o?.[k], doc);
  return s;
}

/** The JSON types a schema admits ("any" when it does not say). */
function allowedTypes(doc: any, s: any): Set<string> {
  s = resolve(doc, s);
  const out = new Set<string>();
  if (!s || typeof s !== "object") return new Set(["any"]);
  for (const key of ["anyOf", "oneOf", "allOf"])
    if (Array.isArray(s[key])) for (const x of s[key]) for (const t of allowedTypes(doc, x)) out.add(t);
  if (typeof s.type === "string") out.add(s.type);
  if (Array.isArray(s.type)) for (const t of s.type as string[]) out.add(t);
  if (Array.isArray(s.enum)) for (const v of s.enum) out.add(v === null ? "null" : typeof v);
  if ("const" in s) out.add(s.const === null ? "null" : typeof s.const);
  if (s.nullable) out.add("null");
  if (out.has("integer")) out.add("number-integer");
  if (out.size === 0) out.add("any");
  return out;
}

async function loadRoutes() {
  const doc = (await (await call("/openapi.json")).json()) as any;
  const out: DocRoute[] = [];
  for (const [path, ops] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) {
      const content = op.requestBody?.content ?? {};
      const schema = resolve(doc, content["application/json"]?.schema);
      let props: DocRoute["props"];
      if (schema?.properties) {
        props = {};
        for (const [name, ps] of Object.entries<any>(schema.properties)) props[name] = allowedTypes(doc, ps);
      }
      out.push({
        method: method.toUpperCase(),
        path,
        props,
        required: schema?.required ?? [],
        multipart: "multipart/form-data" in content,
        optionalBody: op.requestBody !== undefined && op.requestBody.required !== true,
      });
    }
  }
  // Served outside the document.
  out.push(
    { method: "GET", path: "/docs", multipart: false, optionalBody: false },
    { method: "GET", path: "/portal", multipart: false, optionalBody: false },
  );
  return out;
}

// ---- generators -------------------------------------------------------------------------------------

const SQL = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '" OR ""="',
  "1; DELETE FROM api_keys",
  "%' UNION SELECT key_hash FROM api_keys --",
  "\\'; --",
  "`id`",
  "NULL",
  "0x27",
];
const UNICODE = [
  "\ud800", // lone high surrogate
  "\udfff", // lone low surrogate
  "a\ud83dz", // half an emoji
  "\u202eevil\u202c", // right-to-left override
  "\u200b\u200c\u200d\ufeff", // zero-width characters, BOM
  "\u0000", // NUL
  "nul\u0000in the middle",
  "\u0008\u001b[31m\u007f", // control characters, an ANSI escape
  "e\u0301\u0301\u0301", // combining marks
  "👩🏽‍🚀🏳️‍🌈",
  "\uffff\ufffe",
  "ß\u0130\u0131", // case-mapping oddities
  "مرحبا بالعالم",
  "𝕳𝖊𝖑𝖑𝖔",
];
const TRAVERSAL = [
  "..",
  "..%2F..%2Fapi%2Fadmin%2Fusers%2Fx",
  "%2e%2e%2f%2e%2e%2fv1%2fme",
  "..%5c..%5cwindows",
  "a%2Fb",
  "%252e%252e%252f",
  "%00",
  "%zz",
  "%",
  "%c0%ae%c0%ae%2f",
  "key_%0d%0aSet-Cookie:%20x=1",
  "%E2%80%AE",
  "%ED%A0%80",
  ".%2e",
  "~",
];

const hostileString = fc.oneof(
  fc.constantFrom(...SQL, ...UNICODE),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.integer({ min: 5_001, max: 300_000 }).map((n) => "x".repeat(n)), // past every string limit of the API
);

/** A path parameter: never an existing id (so a request can never act on a resource). */
const hostileId = fc.oneof(
  fc.constantFrom(...TRAVERSAL),
  fc.constantFrom(...SQL).map(encodeURIComponent),
  fc.constantFrom(...UNICODE).map((u) => encodeURIComponent(u.replace(/[\ud800-\udfff]/g, "\ufffd"))),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.integer({ min: 200, max: 10_000 }).map((n) => "k".repeat(n)),
  fc.constantFrom("key_00000000000000000000000000000000", "usr_00000000000000000000000000000000", "elevenlabs-ish", "CARTESIA%00"),
);

/** Values of every JSON type, each tagged with its type, to put where the schema wants another. */
const TYPED_VALUES: [string, unknown][] = [
  ["number-integer", 12345],
  ["number-integer", -1],
  ["number", -1.5],
  ["number", 1e308],
  ["boolean", true],
  ["null", null],
  ["object", {}],
  ["object", { $gt: "" }],
  ["object", { __proto__: { admin: true } }],
  ["array", []],
  ["array", ["' OR 1=1 --", null]],
  ["string", "not-what-was-asked"],
  ["string", "'; DROP TABLE users; --"],
];

function wrongValueFor(allowed: Set<string>): unknown[] {
  if (allowed.has("any")) return [];
  return TYPED_VALUES.filter(([t]) => {
    if (allowed.has(t)) return false;
    if (t === "number-integer" && allowed.has("number")) return false;
    return true;
  }).map(([, v]) => v);
}

type Body =
  | { kind: "none" }
  | { kind: "text"; text: string; why: string }
  | { kind: "bytes"; bytes: readonly number[]; why: string }
  | { kind: "oversized"; extra: number }
  | { kind: "multipart"; fields: [string, string][] }
  | { kind: "multipart-garbled"; text: string };

const extraFields = fc.dictionary(
  fc.oneof(fc.constantFrom("__proto__", "constructor", "prototype", ...SQL), fc.string({ maxLength: 12 })),
  hostileString,
  { maxKeys: 3 },
);

/** JSON that can never validate against the route's body schema. */
function invalidJson(route: DocRoute | undefined): fc.Arbitrary<Body> {
  const text = (why: string) => (t: string) => ({ kind: "text" as const, text: t, why });
  const malformed = fc
    .oneof(
      fc.constantFrom(
        '{"text":',
        "{",
        "[",
        '{"a":1,}',
        "{'a':1}",
        "NaN",
        "undefined",
        '{"text":"x"}garbage',
        '{"text":"x"',
        '\ufeff{"a":',
        '{"a":"\\ud800',
        '{"a":"\\u00"}',
        '{"a":01}',
        '{"a":1}{"b":2}',
      ),
      fc.string({ maxLength: 60 }),
    )
    .filter((t) => {
      try {
        JSON.parse(t);
        return false;
      } catch {
        return true;
      }
    })
    .map(text("malformed JSON"));
  const wrongTop = fc.constantFrom("[]", "[{}]", "1", '"text"', "null", "true", "-0", "1e999").map(text("not an object"));
  const options: fc.Arbitrary<Body>[] = [malformed, wrongTop];
  const props = route?.props ?? {};
  const violable = Object.entries(props).filter(([, allowed]) => wrongValueFor(allowed).length > 0);
  if (violable.length) {
    options.push(
      fc
        .record({
          field: fc.constantFrom(...violable),
          pick: fc.nat(),
          extra: extraFields,
          bom: fc.boolean(),
        })
        .map(({ field: [name, allowed], pick, extra, bom }) => {
          const wrong = wrongValueFor(allowed);
          const obj = Object.fromEntries([...Object.entries(extra), [name, wrong[pick % wrong.length]]]);
          return { kind: "text" as const, text: (bom ? "\ufeff" : "") + JSON.stringify(obj), why: `${name} of the wrong type` };
        }),
    );
  }
  if (route?.required?.length) {
    options.push(
      extraFields
        .filter((o) => !route.required!.some((r) => r in o))
        .map((o) => ({ kind: "text" as const, text: JSON.stringify(o), why: "required fields missing" })),
    );
  }
  // Not UTF-8: overlong encodings, lone continuation bytes, CESU-8 surrogates, 0xFF. (Decoded leniently,
  // {"a":"\xC0\xAF"} is the valid object {"a":"\uFFFD\uFFFD"}: invalid bytes alone do not make a body invalid.)
  options.push(
    fc
      .constantFrom(
        [0x5b, 0x22, 0xc0, 0xaf, 0x22, 0x5d],
        [0x7b, 0xff, 0xfe, 0x7d],
        [0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d],
        [0x80, 0x80],
        [0xef, 0xbb, 0xbf, 0x5b],
        [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf],
      )
      .map((bytes) => ({ kind: "bytes" as const, bytes, why: "invalid UTF-8" })),
  );
  return fc.oneof(...options);
}

const contentTypes = {
  json: fc.constantFrom("application/json", "application/json; charset=utf-8", "APPLICATION/JSON", 'application/json;charset="utf-16"'),
  wrong: fc.constantFrom(
    "text/plain",
    "application/xml",
    "application/x-www-form-urlencoded",
    "text/html",
    "application/jsonx",
    "application/vnd.api+json",
    "image/png",
    "json",
    "*/*",
    "application/json-patch+json",
  ),
};

type Cred = "none" | "key" | "key-header" | "free-jwt" | "admin-jwt" | "garbage" | "duplicate" | "conflicting";

interface FuzzRequest {
  method: string;
  path: string;
  /** The route template the path came from (undefined: a made-up path). */
  template?: string;
  cred: Cred;
  credIndex: number;
  contentType?: string;
  body: Body;
  headers: [string, string][];
}

const payingKeys: string[] = [];
let freeJwts: string[] = [];
let adminToken = "";

const extraHeaders = fc.array(
  fc.oneof(
    fc.tuple(fc.constant("x-request-id"), fc.oneof(hostileString, fc.constant("r".repeat(200)))),
    fc.tuple(fc.constant("idempotency-key"), hostileString),
    fc.tuple(fc.constantFrom("x-provider-key-elevenlabs", "x-provider-key-openai", "X-Provider-Key-HuggingFace"), hostileString),
    fc.tuple(
      fc.constant("cookie"),
      fc.constantFrom("better-auth.session_token=forged.sig", "__Secure-better-auth.session_token=x", "a=b; a=c", "="),
    ),
    fc.tuple(fc.constant("origin"), fc.constantFrom(ORIGIN, "https://evil.example", "null", "http://voxgate.test.evil.example")),
    fc.tuple(fc.constant("cf-connecting-ip"), fc.constantFrom("198.51.100.9", "::1", "not-an-ip", "1.1.1.1, 2.2.2.2")),
    fc.tuple(
      fc.constantFrom("x-padding", "accept", "user-agent"),
      fc.integer({ min: 8_000, max: 65_000 }).map((n) => "p".repeat(n)),
    ),
    fc.tuple(
      fc.constantFrom("accept-encoding", "x-forwarded-for", "x-original-url", "x-http-method-override"),
      fc.constantFrom("DELETE", "/api/admin/users/x", "gzip, br", "../../"),
    ),
  ),
  { maxLength: 3 },
);

function requestArb(): fc.Arbitrary<FuzzRequest> {
  const known = routes.map((r) => r);
  const fromRoute = fc.constantFrom(...known).chain((route) =>
    fc.record({
      route: fc.constant(route),
      ids: fc.array(hostileId, { minLength: 2, maxLength: 2 }),
      method: fc.oneof(
        { weight: 6, arbitrary: fc.constant(route.method) },
        { weight: 1, arbitrary: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD") },
      ),
      query: fc.oneof(
        { weight: 4, arbitrary: fc.constant("") },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            "?provider=%27%20OR%201%3D1",
            "?__proto__[admin]=1",
            `?model=${"m".repeat(3000)}`,
            "?a=%zz",
            "?provider=deepgram&provider=openai",
          ),
        },
      ),
      trailingSlash: fc.boolean().map((b) => b && Math.random() < 0.1),
    }),
  );
  const madeUp = fc
    .tuple(
      fc.constantFrom("/v1/", "/api/v1/", "/api/admin/", "/portal/api/", "/portal/auth/", "/", "//v1//", "/V1/", "/v1/./", "/v2/"),
      hostileId,
    )
    .map(([prefix, id]) => prefix + id);

  return fc
    .record({
      target: fc.oneof(
        { weight: 9, arbitrary: fromRoute.map((x) => ({ kind: "route" as const, ...x })) },
        { weight: 1, arbitrary: madeUp.map((p) => ({ kind: "path" as const, p })) },
      ),
      cred: fc.constantFrom<Cred>("none", "key", "key", "key-header", "free-jwt", "admin-jwt", "garbage", "duplicate", "conflicting"),
      credIndex: fc.nat(),
      headers: extraHeaders,
      ct: fc.nat(99),
      bodyPick: fc.nat(99),
      seed: fc.nat(),
    })
    .chain((r) => {
      let method = "GET";
      let path: string;
      let template: string | undefined;
      let route: DocRoute | undefined;
      if (r.target.kind === "route") {
        route = r.target.route;
        method = r.target.method;
        let i = 0;
        path =
          route.path.replace(/\{[^}]+\}/g, () => (r.target.kind === "route" ? nth(r.target.ids, i++, "id") : "x")) +
          (r.target.trailingSlash ? "/" : "") +
          r.target.query;
        template = route.path;
        // A switched method names another route of the same path when there is one: its body must fail too.
        route = routes.find((x) => x.path === route!.path && x.method === method) ?? route;
      } else {
        path = r.target.p;
        method = cycle(["GET", "POST", "DELETE"], r.seed);
      }
      const canHaveBody = method !== "GET" && method !== "HEAD";
      const upload = route && UPLOAD_PATHS.has(route.path) && template === route.path;
      let bodyArb: fc.Arbitrary<{ contentType?: string; body: Body }>;
      if (!canHaveBody) {
        bodyArb = fc.constant({ body: { kind: "none" } });
      } else if (r.bodyPick < 3) {
        bodyArb = fc.nat(64).map((extra) => ({ contentType: "application/json", body: { kind: "oversized", extra: extra + 1 } as Body }));
      } else if (r.bodyPick < 18) {
        // A wrong content type: never audio or octet-stream on an upload route (that is a real upload).
        bodyArb = fc.record({ contentType: contentTypes.wrong, body: invalidJson(route) });
      } else if (upload && r.bodyPick < 40) {
        bodyArb = fc.oneof(
          fc
            .array(fc.tuple(fc.constantFrom("provider", "model", "language", "response_format", "prompt", "notfile"), hostileString), {
              maxLength: 4,
            })
            .map((fields) => ({ contentType: "multipart/form-data", body: { kind: "multipart", fields } as Body })),
          fc
            .string({ maxLength: 80 })
            .map((text) => ({ contentType: "multipart/form-data; boundary=XyZ", body: { kind: "multipart-garbled", text } as Body })),
          fc
            .constantFrom("audio/wav", "audio/mpeg", "application/octet-stream")
            .map((contentType) => ({ contentType, body: { kind: "none" } as Body })),
        );
      } else if (r.bodyPick < 45 && !route?.optionalBody) {
        bodyArb = fc.constant({ contentType: r.ct % 2 ? "application/json" : undefined, body: { kind: "none" } as Body });
      } else {
        bodyArb = fc.record({ contentType: contentTypes.json, body: invalidJson(route) });
      }
      return bodyArb.map(({ contentType, body }) => ({
        method,
        path,
        template,
        cred: r.cred,
        credIndex: r.credIndex,
        contentType,
        body,
        headers: r.headers,
      }));
    });
}

// ---- sending and judging --------------------------------------------------------------------------------

function materialize(req: FuzzRequest): { headers: Headers; body?: BodyInit } {
  const headers = new Headers();
  for (const [k, v] of req.headers) {
    // A browser's fetch refuses values above U+00FF; workerd sends non-ASCII as UTF-8 with a warning each.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is "anything but ASCII", NUL included on purpose
    if (/[^\u0000-\u007f]/.test(v)) continue;
    try {
      headers.append(k, v);
    } catch {
      // Not a valid header value (fetch refuses CR, LF, NUL and anything above U+00FF): nothing to send.
    }
  }
  const key = cycle(payingKeys, req.credIndex);
  switch (req.cred) {
    case "key":
      headers.set("authorization", `Bearer ${key}`);
      break;
    case "key-header":
      headers.set("x-api-key", key);
      break;
    case "free-jwt":
      headers.set("authorization", `Bearer ${cycle(freeJwts, req.credIndex)}`);
      break;
    case "admin-jwt":
      headers.set("authorization", `Bearer ${adminToken}`);
      break;
    case "garbage":
      headers.set(
        "authorization",
        cycle(
          [
            `Bearer plabs_${"Q".repeat(43)}`,
            "Bearer eyJhbGciOiJub25lIn0.e30.",
            `Bearer ${"a.".repeat(3000)}`,
            "Digest x",
            "Bearer\tplabs_x",
          ],
          req.credIndex,
        ),
      );
      break;
    case "duplicate":
      headers.append("authorization", `Bearer ${key}`);
      headers.append("authorization", `Bearer ${key}`);
      headers.append("x-api-key", key);
      headers.append("x-api-key", key);
      break;
    case "conflicting":
      headers.set("authorization", `Bearer ${key}`);
      headers.set("x-api-key", cycle(payingKeys, req.credIndex + 1));
      break;
  }
  if (req.contentType !== undefined) headers.set("content-type", req.contentType);
  let body: BodyInit | undefined;
  const b = req.body;
  if (b.kind === "text") body = b.text;
  else if (b.kind === "bytes") body = new Uint8Array(b.bytes);
  else if (b.kind === "oversized") body = `{"text":"${"x".repeat(JSON_MAX + b.extra)}"}`;
  else if (b.kind === "multipart") {
    const form = new FormData();
    for (const [k, v] of b.fields) form.append(k, v);
    headers.delete("content-type"); // the boundary comes from FormData
    body = form;
  } else if (b.kind === "multipart-garbled") body = `--XyZ\r\nContent-Disposition: form-data; name="file"\r\n${b.text}`;
  return { headers, body };
}

const stats = { requests: 0, byStatus: new Map<number, number>(), byBody: new Map<string, number>() };

const PUBLIC_2XX = (path: string) => path === "/openapi.json" || path === "/docs" || path === "/portal" || path.startsWith("/portal/auth/");

async function judge(req: FuzzRequest): Promise<string | undefined> {
  const { headers, body } = materialize(req);
  let res: Response;
  try {
    res = await call(req.path, { method: req.method, headers, body });
  } catch (e) {
    return `threw: ${(e as Error).message}`;
  }
  stats.requests++;
  stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
  const bodyKind = req.body.kind === "text" ? req.body.why : req.body.kind;
  stats.byBody.set(bodyKind, (stats.byBody.get(bodyKind) ?? 0) + 1);
  const pathname = new URL(`${ORIGIN}${req.path}`).pathname;
  const problems: string[] = [];
  if (res.status >= 500) problems.push(`status ${res.status}`);
  if (res.status >= 400 && req.method === "HEAD") {
    // No body on a HEAD answer, but the same headers as the GET.
    if (!(res.headers.get("content-type") ?? "").startsWith("application/json"))
      problems.push(`HEAD error with content-type ${res.headers.get("content-type")}`);
  } else if (res.status >= 400) {
    // OpenAI's shape exactly on its paths; where only the decoded path is one of them, either shape.
    const shapePath = OPENAI_PATHS.has(pathname)
      ? pathname
      : safeDecode(pathname) !== pathname && OPENAI_PATHS.has(safeDecode(pathname))
        ? ""
        : pathname;
    const problem =
      shapePath === ""
        ? (await errorShapeProblem(res.clone(), "/v1/models")) && (await errorShapeProblem(res.clone(), "/"))
        : await errorShapeProblem(res.clone(), shapePath);
    if (problem) problems.push(problem);
    // The envelope (415, 413) comes after the credentials and the route (src/app.ts): a request refused
    // there first — 401, 403, 404, 429, or 400 for two credentials that differ — never reaches it.
    const refusedBefore = [401, 403, 404, 429].includes(res.status) || (req.cred === "conflicting" && res.status === 400);
    const envelopeApplies = !refusedBefore && !pathname.startsWith("/portal/auth/") && ["POST", "PUT", "PATCH"].includes(req.method);
    const upload = UPLOAD_PATHS.has(pathname);
    if (envelopeApplies && !upload && req.body.kind === "oversized" && res.status !== 413)
      problems.push(`oversized body answered ${res.status}, not 413`);
    if (
      envelopeApplies &&
      !upload &&
      req.contentType &&
      !/^application\/json\s*(;|$)/i.test(req.contentType) &&
      req.body.kind !== "none" &&
      req.body.kind !== "multipart" &&
      res.status !== 415
    ) {
      problems.push(`content type ${req.contentType} answered ${res.status}, not 415`);
    }
  } else if (res.status >= 200 && res.status < 300) {
    // Every request is invalid: the only 2xx are reads, and only where the credential may read.
    if (!["GET", "HEAD"].includes(req.method) && !pathname.endsWith("/sign-out")) problems.push(`${req.method} answered ${res.status}`);
    if (["none", "garbage", "duplicate", "conflicting"].includes(req.cred) && !PUBLIC_2XX(pathname))
      problems.push(`no valid credential, yet ${res.status}`);
    if (req.cred !== "none" && pathname.startsWith("/portal") && !pathname.startsWith("/portal/auth/"))
      problems.push(`API credential on the portal answered ${res.status}`);
    if (["key", "key-header", "free-jwt", "duplicate"].includes(req.cred) && pathname.startsWith("/api/admin/"))
      problems.push(`non-admin credential on an admin route answered ${res.status}`);
  }
  if (res.status === 401 && res.headers.get("set-cookie")) problems.push("a 401 sets a cookie");
  await res.arrayBuffer().catch(() => undefined);
  return problems.length
    ? `${req.method} ${req.path.slice(0, 200)} [${req.cred}, ${req.contentType ?? "no content-type"}, ${bodyKind}] → ${res.status}: ${problems.join("; ")}`
    : undefined;
}

function safeDecode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

// ---- the run ----------------------------------------------------------------------------------------------

let before: Snapshot;

beforeAll(async () => {
  routes = await loadRoutes();
  // Credentials warmed up before the first snapshot: a JWT's first sight creates its user, and an API
  // key's first use writes lastUsedAt (then at most once a minute per isolate).
  // Five keys each, below the limit of 10: a create that slipped through would show in the snapshot.
  const paying = await Promise.all([1, 2, 3, 4, 5, 6].map(() => newUser({ plan: "scale" })));
  for (const u of paying) {
    for (let i = 0; i < 5; i++) {
      const res = await call("/v1/keys", { method: "POST", headers: bearer(u.jwt), json: { name: `fuzz ${i}` } });
      expect(res.status).toBe(201);
      payingKeys.push(((await res.json()) as any).key);
    }
  }
  for (const key of payingKeys) expect((await call("/v1/me", { headers: bearer(key) })).status).toBe(200);
  freeJwts = await Promise.all(Array.from({ length: 10 }, () => jwtFor(uniqueSub("fuzz-free"))));
  for (const jwt of freeJwts) expect((await call("/v1/me", { headers: bearer(jwt) })).status).toBe(200);
  adminToken = await adminJwt();
  expect((await api("/v1/me", { headers: bearer(adminToken) })).status).toBe(200);
  // Plan changes mirror usage to KV from the Account object's alarm (~1 s later): let those land.
  await sleep(1_500);
  for (const u of paying) await runDurableObjectAlarm(env.ACCOUNT.getByName(u.id));
  await backgroundDone();
  before = await snapshot({ skipTables: RATE_LIMIT_TABLES });
}, 120_000);

afterAll(() => {
  const statuses = [...stats.byStatus]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}×${n}`)
    .join(" ");
  const bodies = [...stats.byBody]
    .sort(([, a], [, b]) => b - a)
    .map(([k, n]) => `${k}×${n}`)
    .join(", ");
  console.info(`fuzz: ${stats.requests} requests over ${routes.length} routes; statuses ${statuses}; bodies ${bodies}`);
});

describe("hostile input", () => {
  it(`${TOTAL_REQUESTS} generated invalid requests: never a 5xx, always the error shape, no 2xx past a credential`, {
    timeout: 15 * 60_000,
  }, async () => {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(requestArb(), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const failures = (await Promise.all(batch.map(judge))).filter((f): f is string => f !== undefined);
        expect(failures).toEqual([]);
      }),
      { numRuns: Math.ceil(TOTAL_REQUESTS / BATCH), endOnFailure: false, interruptAfterTimeLimit: 14 * 60_000 },
    );
    console.info(`fuzz: ${stats.requests} requests in ${Date.now() - started} ms`);
    expect(stats.requests).toBeGreaterThanOrEqual(TOTAL_REQUESTS);
  });

  it("changed nothing: every D1 row and every KV entry is as before", async () => {
    await backgroundDone();
    await sleep(200);
    const after = await snapshot({ skipTables: RATE_LIMIT_TABLES });
    expect(Object.keys(after.d1)).toEqual(Object.keys(before.d1));
    // Using a key is a use, valid body or not: lastUsedAt may move forward (at most once a minute per
    // isolate, so only in runs longer than a minute), and nothing else in the row may change.
    const keysOf = (snap: Snapshot) => {
      const rows = snap.d1.api_keys;
      if (!rows) throw new Error("the snapshot has no api_keys table");
      return rows.map((r) => JSON.parse(r));
    };
    const [keysBefore, keysAfter] = [keysOf(before), keysOf(after)];
    expect(
      keysAfter.map(({ last_used_at: _, ...r }) => r),
      "D1 table api_keys",
    ).toEqual(keysBefore.map(({ last_used_at: _, ...r }) => r));
    for (const [i, k] of keysAfter.entries()) expect(k.last_used_at ?? 0).toBeGreaterThanOrEqual(keysBefore[i].last_used_at ?? 0);
    for (const table of Object.keys(before.d1).filter((t) => t !== "api_keys"))
      expect(after.d1[table], `D1 table ${table}`).toEqual(before.d1[table]);
    expect(after.kv).toEqual(before.kv);
  });

  it("a 25 MiB upload and a 1 MiB JSON body are refused with 413 before anything reads them", async () => {
    const key = first(payingKeys, "paying key");
    const big = await call("/v1/transcribe", {
      method: "POST",
      headers: { ...bearer(key), "content-type": "audio/wav" },
      body: new Uint8Array(25 * 1024 * 1024 + 1),
    });
    expect(big.status).toBe(413);
    expect(await errorShapeProblem(big, "/v1/transcribe")).toBeUndefined();
    const json = await call("/v1/chat", {
      method: "POST",
      headers: { ...bearer(key), "content-type": "application/json" },
      body: `{"model":"${"m".repeat(JSON_MAX)}"}`,
    });
    expect(json.status).toBe(413);
    const oa = await call("/v1/chat/completions", {
      method: "POST",
      headers: { ...bearer(key), "content-type": "application/json" },
      body: `{"model":"${"m".repeat(JSON_MAX)}"}`,
    });
    expect(oa.status).toBe(413);
    expect(await errorShapeProblem(oa, "/v1/chat/completions")).toBeUndefined();
  });

  it("CR, LF and NUL cannot be put into a header value (the fetch API refuses them, so they never reach the worker)", () => {
    for (const v of ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\u0000b"]) expect(() => new Headers({ "x-api-key": v })).toThrow();
  });
});
