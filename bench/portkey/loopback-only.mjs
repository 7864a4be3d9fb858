// Preloaded into the Portkey gateway's Node server (`node --import`), so that a benchmark run cannot
// expose it or send traffic off this machine:
// - listening: Portkey's start-server calls `serve({ fetch, port })` with no hostname, which would
//   listen on every interface; a listen without a host gets 127.0.0.1, one on another host is refused.
// - connecting: every TCP connection (fetch/undici, https, ws, ioredis all end in net.Socket#connect)
//   and every name lookup must go to loopback; anything else is refused before a packet leaves, and
//   reported on stderr as "[loopback-only] refused …" (the harness counts those lines).

import dns from "node:dns";
import net from "node:net";

const LOOPBACK_NAMES = new Set(["localhost", "ip6-localhost", "ip6-loopback"]);

export function isLoopback(host) {
  if (typeof host !== "string" || host === "") return false;
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (LOOPBACK_NAMES.has(h)) return true;
  if (net.isIPv4(h)) return h.startsWith("127.");
  if (net.isIPv6(h)) return h === "::1" || /^::ffff:127\./.test(h);
  return false;
}

let refused = 0;
function refuse(what) {
  refused += 1;
  process.stderr.write(`[loopback-only] refused ${what} (${refused} so far)\n`);
  return new Error(`loopback-only: refused ${what}`);
}

// Listening.
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const [first] = args;
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    if (typeof args[1] !== "string") args.splice(1, args[1] === undefined ? 1 : 0, "127.0.0.1");
    if (!isLoopback(args[1])) throw refuse(`listening on ${args[1]}`);
  } else if (first && typeof first === "object" && !first.path && !first._handle && !first.fd) {
    args[0] = { ...first, host: first.host ?? "127.0.0.1" };
    if (!isLoopback(args[0].host)) throw refuse(`listening on ${args[0].host}`);
  }
  return listen.apply(this, args);
};

// Connecting. net.connect() hands Socket#connect an already normalized [options, cb] array.
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  let target = null;
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (first && typeof first === "object") {
    if (!first.path) target = { host: first.host ?? "localhost", port: first.port };
  } else if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    target = { host: typeof args[1] === "string" ? args[1] : "localhost", port: first };
  }
  if (target && !isLoopback(target.host)) {
    const err = refuse(`a connection to ${target.host}:${target.port}`);
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return connect.apply(this, args);
};

// Name lookups (a resolver query would itself leave the machine).
const lookup = dns.lookup;
dns.lookup = function (hostname, ...rest) {
  if (isLoopback(hostname)) return lookup.call(this, hostname, ...rest);
  const cb = rest.find((x) => typeof x === "function");
  const err = refuse(`a lookup of ${hostname}`);
  if (cb) process.nextTick(cb, err);
  return {};
};
const lookupPromise = dns.promises.lookup;
dns.promises.lookup = (hostname, ...rest) =>
  isLoopback(hostname) ? lookupPromise(hostname, ...rest) : Promise.reject(refuse(`a lookup of ${hostname}`));
