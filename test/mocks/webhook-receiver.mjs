// A webhook receiver for the tests (Node, 127.0.0.1): records every POST it gets — path, the headers a
// Standard Webhooks verifier needs and the raw body — and answers 200, unless a plan for that path says
// otherwise (a list of statuses to answer first, e.g. [500, 500], or "hang" to never answer). Each test
// uses its own path (/hooks/<something unique>), so tests never see each other's deliveries.
//
// Requests of any other method are recorded too (and answered 405).
//
// Control API (JSON):
//   GET  /__control/received?path=/hooks/x   → [{ path, method, headers, body, at }]
//   POST /__control/plan { path, statuses: [500, 500] }   the next answers for that path, then 200
//   POST /__control/plan { path, hang: true }             never answer that path (a timeout)
import { createServer } from "node:http";

export async function startWebhookReceiver({ port = 0 } = {}) {
  const received = [];
  const plans = new Map();
  const hanging = new Set();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const json = (status, value) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (url.pathname === "/__control/received" && req.method === "GET") {
        const path = url.searchParams.get("path");
        return json(
          200,
          received.filter((r) => path === null || r.path === path),
        );
      }
      if (url.pathname === "/__control/plan" && req.method === "POST") {
        const plan = JSON.parse(body || "{}");
        if (plan.hang) hanging.add(plan.path);
        else plans.set(plan.path, [...(plan.statuses ?? [])]);
        return json(200, { ok: true });
      }
      if (req.method !== "POST") {
        // Recorded too, so a test can show a URL it expects refused was never fetched here (SSRF tests).
        received.push({ path: url.pathname, method: req.method, headers: {}, body, at: Date.now() });
        return json(405, { error: "POST only" });
      }
      const headers = {};
      for (const name of ["content-type", "user-agent", "webhook-id", "webhook-timestamp", "webhook-signature"]) {
        if (req.headers[name] !== undefined) headers[name] = String(req.headers[name]);
      }
      received.push({ path: url.pathname, method: req.method, headers, body, at: Date.now() });
      if (hanging.has(url.pathname)) return; // never answered: the sender's timeout ends it
      const status = plans.get(url.pathname)?.shift() ?? 200;
      json(status, { received: status < 300 });
    });
  });
  // Idle keep-alive sockets stay open: Node's 5 s default closes them while workerd may be sending the
  // next request on one, which it then sees as "Network connection lost".
  server.keepAliveTimeout = 10 * 60_000;
  await new Promise((ok) => server.listen(port, "127.0.0.1", ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    received,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok(undefined));
      }),
  };
}
