// Self-test of loopback-only.mjs, run by the harness before it starts Portkey (`node selftest.mjs`,
// exit code 0 = pass). No packet can leave: Socket#connect is replaced by a recorder *before* the
// guard wraps it, so a refused target never reaches the real connect, and an allowed one is only
// recorded. Listening is tested for real, on loopback.
import assert from "node:assert/strict";
import dns from "node:dns";
import net from "node:net";

const reached = [];
net.Socket.prototype.connect = function (...args) {
  reached.push(Array.isArray(args[0]) ? args[0][0] : args[0]);
  return this;
};
dns.lookup = (host, ...rest) => {
  reached.push({ lookup: host });
  rest.find((x) => typeof x === "function")?.(null, "127.0.0.1", 4);
};
dns.promises.lookup = async (host) => {
  reached.push({ lookup: host });
  return { address: "127.0.0.1", family: 4 };
};
const { isLoopback } = await import("./loopback-only.mjs");

for (const h of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"]) assert.equal(isLoopback(h), true, h);
for (const h of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.1", "203.0.113.5", "api.openai.com", "127.0.0.1.nip.io", "", undefined])
  assert.equal(isLoopback(h), false, String(h));

const refusedWith = (socket) =>
  Promise.race([
    new Promise((resolve) => socket.once("error", (e) => resolve(e.message))),
    new Promise((resolve) => setTimeout(resolve, 1000, "no error")),
  ]);
const errors = [];
for (const target of [
  { host: "203.0.113.5", port: 443 },
  { host: "api.openai.com", port: 443 },
]) {
  const sock = new net.Socket();
  const refused = refusedWith(sock);
  sock.connect(target);
  errors.push(await refused);
}
const viaConnect = net.connect(443, "10.1.2.3");
errors.push(await refusedWith(viaConnect));
assert.equal(reached.length, 0, `a refused target reached connect: ${JSON.stringify(reached)}`);
assert.ok(
  errors.every((m) => /loopback-only: refused a connection/.test(m)),
  errors.join("; "),
);

new net.Socket().connect({ host: "127.0.0.1", port: 9 });
net.connect(9, "localhost");
assert.deepEqual(
  reached.map((r) => r.host),
  ["127.0.0.1", "localhost"],
);

const lookupError = await new Promise((resolve) => dns.lookup("api.portkey.ai", (err) => resolve(err)));
assert.match(lookupError?.message ?? "", /refused a lookup/);
await assert.rejects(dns.promises.lookup("api.portkey.ai"), /refused a lookup/);

// Listening: no host → 127.0.0.1; a non-loopback host is refused before binding.
const server = net.createServer();
await new Promise((resolve) => server.listen(0, resolve));
assert.equal(server.address().address, "127.0.0.1");
server.close();
assert.throws(() => net.createServer().listen(0, "0.0.0.0"), /refused listening on 0.0.0.0/);
assert.throws(() => net.createServer().listen({ port: 0, host: "::" }), /refused listening on ::/);
console.log("loopback-only: ok");
