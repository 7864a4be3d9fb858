// The public-URL policy (API.md §4.1): every spelling of a non-public target is refused, with the
// right reason, before anything could be fetched. Runs in workerd, so `new URL` is workerd's parser.
// Nothing here fetches: the policy is pure.
import { describe, expect, it } from "vitest";
import { checkPublicUrl, ipLiteralRange, parseAllowHosts, type RefusalReason } from "../../../src/http/public-url";

type Expected = "allowed" | "allow-list" | RefusalReason;

// [input, expected]: "allowed" = public, "allow-list" = allowed only because ALLOW lists it.
const NO_LIST: [string, Expected][] = [
  // IPv4 loopback in every spelling
  ["https://127.0.0.1/", "loopback"],
  ["https://127.255.255.254/", "loopback"],
  ["https://0x7f.1/", "loopback"],
  ["https://2130706433/", "loopback"],
  ["https://0177.0.0.1/", "loopback"],
  ["https://127.1/", "loopback"],
  ["https://127.0.0.1./", "loopback"],
  ["https://0x7f000001/", "loopback"],
  ["https://017700000001/", "loopback"],
  ["https://0x7f.0x0.0x0.0x1/", "loopback"],
  ["https://%31%32%37.0.0.1/", "loopback"],
  ["https://１２７.０.０.１/", "loopback"], // full-width digits
  ["https://127。0。0。1/", "loopback"], // ideographic full stops
  ["https://127.0.0.1../", "malformed_host"],
  ["https://127.0.0.1#@example.com/", "loopback"],
  ["https://127.0.0.1\\@example.com/", "loopback"],
  // the rest of the special-purpose IPv4 ranges, with their edges
  ["https://0/", "unspecified"],
  ["https://0.0.0.0/", "unspecified"],
  ["https://0x/", "unspecified"],
  ["https://0.255.255.255/", "unspecified"],
  ["https://10.0.0.1/", "private"],
  ["https://012.0.0.1/", "private"],
  ["https://167772161/", "private"],
  ["https://10.255.255.255/", "private"],
  ["https://100.64.0.1/", "cgnat"],
  ["https://100.127.255.255/", "cgnat"],
  ["https://100.63.255.255/", "public_ip_literal"],
  ["https://100.128.0.0/", "public_ip_literal"],
  ["https://169.254.169.254/latest/meta-data/", "link_local"],
  ["https://0xa9.0xfe.0xa9.0xfe/", "link_local"],
  ["https://2852039166/", "link_local"],
  ["https://172.16.0.1/", "private"],
  ["https://172.31.255.255/", "private"],
  ["https://172.15.255.255/", "public_ip_literal"],
  ["https://172.32.0.0/", "public_ip_literal"],
  ["https://192.0.0.170/", "reserved"],
  ["https://192.0.2.1/", "documentation"],
  ["https://192.88.99.1/", "reserved"],
  ["https://192.168.1.1/", "private"],
  ["https://0xc0a80101/", "private"],
  ["https://198.18.0.1/", "benchmarking"],
  ["https://198.19.255.255/", "benchmarking"],
  ["https://198.20.0.0/", "public_ip_literal"],
  ["https://198.51.100.7/", "documentation"],
  ["https://203.0.113.9/", "documentation"],
  ["https://224.0.0.1/", "multicast"],
  ["https://239.255.255.250/", "multicast"],
  ["https://240.0.0.1/", "reserved"],
  ["https://255.255.255.254/", "reserved"],
  ["https://255.255.255.255/", "broadcast"],
  // public IPv4 literals are refused too (API.md: "IP literals in any spelling")
  ["https://8.8.8.8/", "public_ip_literal"],
  ["https://134744072/", "public_ip_literal"],
  // IPv6
  ["https://[::1]/", "loopback"],
  ["https://[0000:0000::0001]/", "loopback"],
  ["https://[0:0:0:0:0:0:0:1]/", "loopback"],
  ["https://[::]/", "unspecified"],
  ["https://[::ffff:127.0.0.1]/", "loopback"],
  ["https://[::ffff:7f00:1]/", "loopback"],
  ["https://[0:0:0:0:0:ffff:a00:1]/", "private"],
  ["https://[::ffff:169.254.169.254]/", "link_local"],
  ["https://[::ffff:8.8.8.8]/", "public_ip_literal"],
  ["https://[::127.0.0.1]/", "loopback"], // IPv4-compatible
  ["https://[::ffff:0:7f00:1]/", "loopback"], // IPv4-translated
  ["https://[64:ff9b::10.0.0.1]/", "private"], // NAT64
  ["https://[64:ff9b::a9fe:a9fe]/", "link_local"],
  ["https://[64:ff9b::808:808]/", "public_ip_literal"],
  ["https://[64:ff9b:1::1]/", "private"], // local-use NAT64
  ["https://[2002:c0a8:101::1]/", "private"], // 6to4 of 192.168.1.1
  ["https://[2002:7f00:1::]/", "loopback"],
  ["https://[2002:808:808::1]/", "public_ip_literal"],
  ["https://[fe80::1]/", "link_local"],
  ["https://[febf:ffff::1]/", "link_local"],
  ["https://[fe80::1%25eth0]/", "malformed_url"], // zone ids: workerd's parser refuses them
  ["https://[fe80::1%eth0]/", "malformed_url"],
  ["https://[fc00::1]/", "private"],
  ["https://[fd12:3456::1]/", "private"],
  ["https://[fec0::1]/", "private"],
  ["https://[ff02::1]/", "multicast"],
  ["https://[ff05::1:3]/", "multicast"],
  ["https://[2001:db8::1]/", "documentation"],
  ["https://[3fff::1]/", "documentation"],
  ["https://[2001::1]/", "reserved"], // Teredo
  ["https://[100::1]/", "reserved"],
  ["https://[5f00::1]/", "reserved"],
  ["https://[4000::1]/", "reserved"],
  ["https://[2606:4700:4700::1111]/", "public_ip_literal"],
  // names
  ["https://localhost/", "localhost"],
  ["https://LOCALHOST/", "localhost"],
  ["https://localhost./", "localhost"],
  ["https://foo.localhost/", "localhost"],
  ["https://a.b.localhost./", "localhost"],
  ["https://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/", "localhost"],
  ["https://localhost../", "malformed_host"],
  ["https://printer.local/", "special_use_name"],
  ["https://metadata.google.internal/computeMetadata/v1/", "special_use_name"],
  ["https://router.home.arpa/", "special_use_name"],
  ["https://1.0.0.127.in-addr.arpa/", "special_use_name"],
  ["https://nas.localdomain/", "special_use_name"],
  ["https://voxgate.test/", "special_use_name"],
  ["https://x.invalid/", "special_use_name"],
  ["https://intranet/", "single_label_host"],
  ["https://metadata/", "single_label_host"],
  ["https://com./", "single_label_host"],
  ["https://1e1/", "single_label_host"],
  ["https://a..example.com/", "malformed_host"],
  ["https://example.com/a.wav", "allowed"],
  ["https://example.com./a.wav", "allowed"],
  ["https://CDN.Example.COM/a.wav?X-Amz-Signature=abc", "allowed"],
  ["https://xn--nxasmq6b.com/", "allowed"],
  ["https://example.com#@127.0.0.1/", "allowed"], // the host really is example.com
  ["https://example.com\\@127.0.0.1/", "allowed"], // backslash is a path separator here
  ["https:example.com/a.wav", "allowed"],
  // credentials: refused, even empty-looking ones the parser keeps
  ["https://user:pass@example.com/", "credentials"],
  ["https://user@example.com/", "credentials"],
  ["https://:pass@example.com/", "credentials"],
  ["https://@example.com/", "allowed"], // the parser drops an empty userinfo: nothing is sent
  // schemes
  ["HTTPS://EXAMPLE.COM/", "allowed"],
  ["http://example.com/", "insecure_scheme"],
  ["ws://example.com/", "unsupported_scheme"],
  ["wss://example.com/", "unsupported_scheme"],
  ["ftp://example.com/", "unsupported_scheme"],
  ["file:///etc/passwd", "unsupported_scheme"],
  ["data:audio/wav;base64,AAAA", "unsupported_scheme"],
  ["javascript:alert(1)", "unsupported_scheme"],
  ["gopher://example.com/", "unsupported_scheme"],
  ["blob:https://example.com/uuid", "unsupported_scheme"],
  // ports
  ["https://example.com:443/", "allowed"],
  ["https://example.com:8443/", "non_default_port"],
  ["https://example.com:80/", "non_default_port"],
  ["https://example.com:22/", "non_default_port"],
  // not URLs
  ["", "malformed_url"],
  ["example.com/a.wav", "malformed_url"],
  ["//example.com/a.wav", "malformed_url"],
  ["https://ex ample.com/", "malformed_url"],
  ["https://256.1.1.1/", "malformed_url"],
  ["https://1.2.3.4.5/", "malformed_url"],
  [`https://example.com/${"a".repeat(9000)}`, "malformed_url"],
];

const ALLOW = "127.0.0.1:8787, media.internal, [::1], 10.1.2.3:9000, localhost:3000, example.org., [fd00::5]:8080";

const WITH_LIST: [string, Expected][] = [
  ["http://127.0.0.1:8787/a.wav", "allow-list"],
  ["https://127.0.0.1:8787/a.wav", "allow-list"],
  ["http://0x7f.1:8787/a.wav", "allow-list"], // the same host, spelled otherwise
  ["http://2130706433:8787/a.wav", "allow-list"],
  ["http://[::ffff:127.0.0.1]:8787/a.wav", "loopback"], // a different host (IPv6), not listed
  ["http://127.0.0.1:8788/a.wav", "loopback"],
  ["http://127.0.0.1/a.wav", "loopback"],
  ["http://127.0.0.2:8787/a.wav", "loopback"],
  ["http://media.internal/a.wav", "allow-list"],
  ["https://media.internal:1234/a.wav", "allow-list"], // a bare host entry: any port
  ["http://media.internal./a.wav", "allow-list"],
  ["http://cdn.media.internal/a.wav", "special_use_name"], // no wildcards
  ["http://[::1]:5000/", "allow-list"],
  ["http://[0:0:0:0:0:0:0:1]/", "allow-list"],
  ["http://10.1.2.3:9000/", "allow-list"],
  ["http://10.1.2.3/", "private"], // listed on 9000 only; http's default is 80
  ["http://localhost:3000/", "allow-list"],
  ["http://localhost.:3000/", "allow-list"],
  ["http://LOCALHOST:3000/", "allow-list"],
  ["http://localhost:3001/", "localhost"],
  ["http://localhost/", "localhost"],
  ["http://example.org/", "allow-list"], // entry written with a trailing dot
  ["http://www.example.org/", "insecure_scheme"],
  ["http://[fd00::5]:8080/", "allow-list"],
  ["http://[fd00::5]/", "private"],
  // still refused on the allow-list: credentials and other schemes
  ["http://user:pass@127.0.0.1:8787/", "credentials"],
  ["http://127.0.0.1:8787@evil.example.com/", "credentials"], // userinfo "127.0.0.1:8787"
  ["ftp://127.0.0.1:8787/", "unsupported_scheme"],
  ["ws://127.0.0.1:8787/", "unsupported_scheme"],
];

function verdictOf(input: string, allowHosts = parseAllowHosts("")): Expected {
  const v = checkPublicUrl(input, allowHosts);
  if (!v.allowed) return v.reason;
  return v.viaAllowList ? "allow-list" : "allowed";
}

describe("checkPublicUrl", () => {
  it.each(NO_LIST)("%s → %s", (input, expected) => {
    expect(verdictOf(input)).toBe(expected);
  });

  it.each(WITH_LIST)(`with ${ALLOW}: %s → %s`, (input, expected) => {
    expect(verdictOf(input, parseAllowHosts(ALLOW))).toBe(expected);
  });

  it("takes a URL object and hands back the parsed URL", () => {
    const v = checkPublicUrl(new URL("https://CDN.example.com./a.wav?sig=1"));
    expect(v).toMatchObject({ allowed: true, viaAllowList: false });
    if (v.allowed) expect(v.url.href).toBe("https://cdn.example.com./a.wav?sig=1");
  });

  it("keeps secrets and query strings out of the logged detail", () => {
    const creds = checkPublicUrl("https://alice:hunter2@example.com/a.wav?token=s3cret");
    const ip = checkPublicUrl("https://10.0.0.1/a.wav?token=s3cret");
    for (const v of [creds, ip]) {
      expect(v.allowed).toBe(false);
      if (!v.allowed) expect(v.detail).not.toMatch(/hunter2|alice|s3cret/);
    }
    if (!ip.allowed) expect(ip.detail).toContain("10.0.0.0/8");
  });
});

// The same spellings as written, not as workerd's parser normalizes them: the policy must not
// depend on the parser (a Worker on `url_original` gets one that leaves "0x7f.1" alone).
describe("ipLiteralRange", () => {
  it.each([
    ["0x7f.1", "loopback"],
    ["2130706433", "loopback"],
    ["0177.0.0.1", "loopback"],
    ["127.1", "loopback"],
    ["127.0.0.1.", "loopback"],
    ["0X7F.0.0.01", "loopback"],
    ["017700000001", "loopback"],
    ["0x", "unspecified"],
    ["0xA9FEA9FE", "link_local"],
    ["0300.0250.1.1", "private"], // 192.168.1.1 in octal
    ["100.0x40.1", "cgnat"], // 100.64.0.1 as three parts
    ["[::ffff:127.0.0.1]", "loopback"],
    ["[::FFFF:7F00:1]", "loopback"],
    ["[0:0:0:0:0:ffff:10.0.0.1]", "private"],
    ["[64:ff9b::192.168.0.1]", "private"],
    ["[2002:a9fe:a9fe::]", "link_local"],
    ["[fe80::1%eth0]", "reserved"], // zone id: not an address we accept
    ["[1::2::3]", "reserved"],
    ["8.8.8.8", "public_ip_literal"],
    ["[2606:4700::1111]", "public_ip_literal"],
  ])("%s → %s", (host, reason) => {
    expect(ipLiteralRange(host)?.reason).toBe(reason);
  });

  it.each(["example.com", "1e1", "0xg", "127.0.0.1.5", "256.0.0.1", "08.0.0.1", "127..1", "", "4294967296"])(
    "%j is no IP literal",
    (host) => {
      expect(ipLiteralRange(host)).toBeNull();
    },
  );
});

describe("parseAllowHosts", () => {
  it("normalizes entries the way the URL parser normalizes hosts", () => {
    expect([...parseAllowHosts(" 127.0.0.1:8787 , ,Media.Example.com., 0x7f.1, [0:0::1]:9000, [::ffff:127.0.0.1] ")]).toEqual([
      "127.0.0.1:8787",
      "media.example.com",
      "127.0.0.1",
      "[::1]:9000",
      "[::ffff:7f00:1]",
    ]);
    expect(parseAllowHosts(undefined).size).toBe(0);
    expect(parseAllowHosts(" , ").size).toBe(0);
  });

  it.each([
    "http://example.com",
    "example.com/path",
    "*.example.com",
    "user@example.com",
    "example.com:0",
    "example.com:65536",
    "example.com:",
    "::1",
    "[::1",
    "[fe80::1%25eth0]",
    "exa mple.com",
    "example.com?x",
    "example..com:80:80",
  ])("refuses %j", (entry) => {
    expect(() => parseAllowHosts(`good.example.com, ${entry}`)).toThrowError(/not a host or host:port/);
  });
});
