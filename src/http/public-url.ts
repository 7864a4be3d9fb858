// Which URLs Voxgate may fetch on a caller's behalf (API.md §4.1 `audioUrl`, §7.1 webhook URLs):
// `https:` to a public host name on the default port, never an IP literal, `localhost` or a
// special-use name — unless the host (or host:port) is on an allow-list, which also permits `http:`.
//
// Why a static check is all we can do: a Worker cannot resolve DNS itself and gets no say in which
// address `fetch()` connects to, so a public name that resolves to a private address cannot be
// caught here (nor can DNS rebinding). In production that is acceptable because Cloudflare sends
// Worker subrequests out to the public internet only; it does not route them into private networks
// (reaching those takes an explicit binding such as Workers VPC / a Tunnel) — Cloudflare's documented
// model, not something verifiable from this machine. Locally it is NOT so:
// miniflare's outbound network allows "public", "private" and 240.0.0.0/4, so under `wrangler dev`
// and in tests a URL naming a private address would really be fetched — this check is what stops it.
//
// IP literals are refused whatever their range (API.md §4.1 lists "IP literals in any spelling"): no
// spelling can slip through a range table, and an `https:` URL to a bare IP rarely has a valid
// certificate anyway. The range is still classified, for the reason logged.
//
// Ports: a non-allow-listed URL must use the scheme's default port. With the compatibility date
// this project uses (≥ 2024-09-02, `allow_custom_ports`) a Worker connects to any port it is given,
// which would let a caller use Voxgate to probe arbitrary TCP services on public hosts; a host that
// really serves audio or webhooks on another port can be listed as `host:port`.

/** Normalized allow-list entries: `host` (any port) or `host:port`; IPv6 as `[addr]`. */
export type AllowHosts = ReadonlySet<string>;

export type RefusalReason =
  | "malformed_url"
  | "unsupported_scheme" // not http(s)
  | "insecure_scheme" // http: to a host not on the allow-list
  | "credentials" // user:pass@ in the URL
  | "non_default_port"
  | "malformed_host" // empty labels, e.g. "a..b" or "host.."
  | "localhost" // localhost, *.localhost
  | "special_use_name" // .local, .internal, .home.arpa, .test … (never public DNS names)
  | "single_label_host" // "intranet", "metadata": resolved through search domains, never public
  | IpRangeReason;

export type IpRangeReason =
  | "unspecified"
  | "loopback"
  | "private"
  | "cgnat"
  | "link_local"
  | "multicast"
  | "broadcast"
  | "documentation"
  | "benchmarking"
  | "reserved"
  | "public_ip_literal";

export type PublicUrlVerdict =
  | { allowed: true; url: URL; viaAllowList: boolean }
  /** `detail` is for logs only: never show it to the caller (it would say what the host is). */
  | { allowed: false; reason: RefusalReason; detail: string };

const MAX_URL_LENGTH = 8192; // generous for pre-signed URLs; bounds the work on hostile input
const DEFAULT_PORT: Record<string, string> = { "http:": "80", "https:": "443" };
// Names public DNS never answers with a public host: RFC 6761/6762/9476 (.test, .invalid, .local,
// .onion, .alt), ICANN's .internal (metadata.google.internal), .arpa (incl. home.arpa), and the
// undelegated .localdomain/.lan that home routers and /etc/hosts use.
const SPECIAL_USE_SUFFIXES = ["local", "internal", "arpa", "localdomain", "lan", "test", "invalid", "onion", "alt"];

/**
 * Parse an allow-list variable ("media.example.com, 127.0.0.1:8787, [::1]"). Entries are normalized
 * exactly as the URL parser normalizes a URL's host, so `0x7f.1` lists 127.0.0.1. Throws on an entry
 * that is not a bare host or host:port (no scheme, path, credentials or wildcard).
 */
export function parseAllowHosts(list: string | undefined): AllowHosts {
  const hosts = new Set<string>();
  for (const raw of (list ?? "").split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const m = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
    const hostText = m?.[1]; // group 1 is not optional: defined exactly when the entry matched
    const port = m?.[2] === undefined ? undefined : Number(m[2]);
    if (hostText === undefined || /[/?#@\\*\s%]/.test(hostText) || (port !== undefined && (port < 1 || port > 65535))) {
      throw new Error(`not a host or host:port: "${entry}"`);
    }
    let host: string;
    try {
      host = hostKey(new URL(`http://${hostText}/`).hostname);
    } catch {
      throw new Error(`not a host or host:port: "${entry}"`);
    }
    hosts.add(port === undefined ? host : `${host}:${port}`);
  }
  return hosts;
}

/** Decide whether `input` may be fetched. Pure: no DNS, no network. */
export function checkPublicUrl(input: string | URL, allowHosts: AllowHosts = new Set()): PublicUrlVerdict {
  const text = String(input);
  if (text.length > MAX_URL_LENGTH) return refuse("malformed_url", `longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse("malformed_url", "does not parse as a URL");
  }
  const defaultPort = DEFAULT_PORT[url.protocol];
  if (defaultPort === undefined) return refuse("unsupported_scheme", url.protocol);
  if (url.username !== "" || url.password !== "") return refuse("credentials", url.hostname);

  const host = hostKey(url.hostname);
  if (host === "" || host.startsWith(".") || host.endsWith(".") || host.includes("..")) {
    return refuse("malformed_host", url.hostname);
  }
  if (allowHosts.has(host) || allowHosts.has(`${host}:${url.port || defaultPort}`)) {
    return { allowed: true, url, viaAllowList: true };
  }
  // The host first, so the reason logged for http://10.0.0.1:8080/ says "private", not "insecure_scheme".
  const range = ipLiteralRange(host);
  if (range) return refuse(range.reason, `${host} is an IP literal (${range.range})`);
  if (host === "localhost" || host.endsWith(".localhost")) return refuse("localhost", host);
  const suffix = SPECIAL_USE_SUFFIXES.find((s) => host === s || host.endsWith(`.${s}`));
  if (suffix) return refuse("special_use_name", `${host} (.${suffix})`);
  if (!host.includes(".")) return refuse("single_label_host", host);
  if (url.protocol !== "https:") return refuse("insecure_scheme", host);
  if (url.port !== "") return refuse("non_default_port", `${host}:${url.port}`);
  return { allowed: true, url, viaAllowList: false };
}

function refuse(reason: RefusalReason, detail: string): PublicUrlVerdict {
  return { allowed: false, reason, detail };
}

/** Lower case (the parser already did) and one trailing dot dropped: "Example.COM." ≡ "example.com". */
function hostKey(hostname: string): string {
  const lower = hostname.toLowerCase();
  return lower.endsWith(".") && !lower.endsWith("..") ? lower.slice(0, -1) : lower;
}

// ---- IP literals -----------------------------------------------------------------------------------

export interface IpLiteralRange {
  reason: IpRangeReason;
  /** The range matched, e.g. "10.0.0.0/8" or "64:ff9b::/96 carrying 10.0.0.1 (10.0.0.0/8)". */
  range: string;
}

/**
 * The range of a host that is an IP literal, or null for a name. Takes the host as written, not
 * only as a parser normalized it: IPv4 in every WHATWG spelling (decimal, 0x hex, 0-prefixed octal,
 * 1–4 parts, one trailing dot) and IPv6 in brackets. workerd's WHATWG parser (compat flag
 * `url_standard`, the default since 2022-10-31) already rewrites IPv4 to dotted decimal, but the
 * older parser a Worker gets with `url_original` does not, so this does not rely on it.
 */
export function ipLiteralRange(host: string): IpLiteralRange | null {
  if (host.startsWith("[") && host.endsWith("]")) return ipv6Range(host.slice(1, -1));
  const address = parseIPv4(host.endsWith(".") ? host.slice(0, -1) : host);
  return address === null ? null : ipv4Range(address);
}

function parseIPv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    const m = /^(?:0[xX]([0-9a-fA-F]*)|(0[0-7]*)|([1-9][0-9]*))$/.exec(part);
    if (!m) return null;
    const n = m[1] !== undefined ? (m[1] === "" ? 0 : parseInt(m[1], 16)) : m[2] !== undefined ? parseInt(m[2], 8) : Number(m[3]);
    if (!Number.isSafeInteger(n)) return null;
    numbers.push(n);
  }
  const last = numbers.length - 1; // the last part fills all the bytes the others leave
  if (numbers.some((n, i) => (i < last ? n > 255 : n >= 256 ** (4 - last)))) return null;
  return numbers.reduce((acc, n, i) => acc + (i < last ? n * 256 ** (3 - i) : n), 0);
}

// IANA IPv4 Special-Purpose Address Registry (the ranges not globally reachable), plus multicast and
// 240/4. First match wins: 255.255.255.255 comes before 240/4.
const IPV4_RANGES: [string, IpRangeReason][] = [
  ["0.0.0.0/8", "unspecified"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "cgnat"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link_local"], // cloud metadata services live at 169.254.169.254
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "reserved"], // IETF protocol assignments
  ["192.0.2.0/24", "documentation"],
  ["192.88.99.0/24", "reserved"], // deprecated 6to4 relay anycast
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "benchmarking"],
  ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"],
  ["224.0.0.0/4", "multicast"],
  ["255.255.255.255/32", "broadcast"],
  ["240.0.0.0/4", "reserved"],
];
const IPV4_TABLE = IPV4_RANGES.map(([cidr, reason]) => {
  const { base, bits } = cidrParts(cidr);
  return { cidr, reason, base: constant(parseIPv4(base)), size: 2 ** (32 - bits) };
});

function ipv4Range(address: number): IpLiteralRange {
  const hit = IPV4_TABLE.find((r) => address >= r.base && address < r.base + r.size);
  return hit ? { reason: hit.reason, range: hit.cidr } : { reason: "public_ip_literal", range: "global" };
}

function constant<T>(value: T | null): T {
  if (value === null) throw new Error("bad address in a range table");
  return value;
}

function cidrParts(cidr: string): { base: string; bits: number } {
  const [base, bits] = cidr.split("/");
  if (base === undefined || bits === undefined) throw new Error("bad address in a range table");
  return { base, bits: Number(bits) };
}

const formatIPv4 = (a: number) => [24, 16, 8, 0].map((s) => Math.floor(a / 2 ** s) % 256).join(".");

/** Where an IPv6 range carries an IPv4 address, the bit offset of those 32 bits (from the top). */
type V6Rule = { cidr: string; reason?: IpRangeReason; embeddedV4At?: number };
const IPV6_RULES: V6Rule[] = [
  { cidr: "::/128", reason: "unspecified" },
  { cidr: "::1/128", reason: "loopback" },
  { cidr: "::ffff:0:0/96", embeddedV4At: 96 }, // IPv4-mapped
  { cidr: "::ffff:0:0:0/96", embeddedV4At: 96 }, // IPv4-translated (SIIT)
  { cidr: "::/96", embeddedV4At: 96 }, // IPv4-compatible (deprecated)
  { cidr: "64:ff9b::/96", embeddedV4At: 96 }, // NAT64 well-known prefix
  { cidr: "64:ff9b:1::/48", reason: "private" }, // local-use NAT64
  { cidr: "100::/64", reason: "reserved" }, // discard-only
  { cidr: "2001:db8::/32", reason: "documentation" },
  { cidr: "2001::/23", reason: "reserved" }, // IETF protocol assignments, incl. Teredo 2001::/32
  { cidr: "2002::/16", embeddedV4At: 16 }, // 6to4
  { cidr: "3fff::/20", reason: "documentation" },
  { cidr: "5f00::/16", reason: "reserved" }, // SRv6 SIDs
  { cidr: "fc00::/7", reason: "private" }, // unique local
  { cidr: "fe80::/10", reason: "link_local" },
  { cidr: "fec0::/10", reason: "private" }, // site-local (deprecated)
  { cidr: "ff00::/8", reason: "multicast" },
];
const IPV6_TABLE = IPV6_RULES.map((rule) => {
  const { base, bits } = cidrParts(rule.cidr);
  return { ...rule, base: constant(parseIPv6(base)), shift: BigInt(128 - bits) };
});
const GLOBAL_UNICAST = { base: constant(parseIPv6("2000::")), shift: 125n };

function ipv6Range(text: string): IpLiteralRange {
  const address = parseIPv6(text);
  if (address === null) return { reason: "reserved", range: "unparsable IPv6" };
  const rule = IPV6_TABLE.find((r) => address >> r.shift === r.base >> r.shift);
  if (rule?.embeddedV4At !== undefined) {
    const v4 = Number((address >> BigInt(96 - rule.embeddedV4At)) & 0xffffffffn);
    const inner = ipv4Range(v4);
    return { reason: inner.reason, range: `${rule.cidr} carrying ${formatIPv4(v4)} (${inner.range})` };
  }
  if (rule?.reason) return { reason: rule.reason, range: rule.cidr };
  if (address >> GLOBAL_UNICAST.shift === GLOBAL_UNICAST.base >> GLOBAL_UNICAST.shift) {
    return { reason: "public_ip_literal", range: "2000::/3" };
  }
  return { reason: "reserved", range: "outside 2000::/3" };
}

/** RFC 4291 text form, incl. a dotted IPv4 tail; zone ids ("%eth0") are refused (null). */
function parseIPv6(text: string): bigint | null {
  let s = text.toLowerCase();
  const lastColon = s.lastIndexOf(":");
  const tail = s.slice(lastColon + 1);
  if (tail.includes(".")) {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(tail)) return null;
    const [a = 0, b = 0, c = 0, d = 0] = tail.split(".").map(Number); // the test above guarantees four parts
    if ([a, b, c, d].some((n) => n > 255)) return null;
    s = `${s.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const [before = "", after] = halves; // split always yields a first element
  const head = before === "" ? [] : before.split(":");
  const rest = after === undefined || after === "" ? [] : after.split(":");
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}
