// A stand-in for Twilio's Messages API on 127.0.0.1, so tests can read the portal's sign-in codes.
//
//   const twilio = await startMockTwilio({ port: 0, accountSid: "AC…", authToken: "…" });
//   twilio.origin   // "http://127.0.0.1:PORT": the worker's TWILIO_BASE_URL
//   await twilio.close();
//
// POST /2010-04-01/Accounts/{AccountSid}/Messages.json — form-encoded To, From, Body, HTTP Basic
//   auth AccountSid:AuthToken (as Twilio checks them; errors in Twilio's JSON shape) → 201 message.
// GET    /__twilio/messages[?to=+1555…]  the messages accepted so far (oldest first), as JSON
// DELETE /__twilio/messages              forget them
// POST   /__twilio/fail {"status":500}   the next send fails with that status
//
// CLI: node test/mocks/twilio.mjs --port 9998 [--sid AC…] [--token …]

import { randomUUID } from "node:crypto";
import http from "node:http";
import { fileURLToPath } from "node:url";

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;

export async function startMockTwilio({
  port = 0,
  accountSid = "AC00000000000000000000000000000000",
  authToken = "test-twilio-auth-token",
} = {}) {
  const messages = [];
  let failNext = null;

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    const body = await readBody(req);
    const send = (status, payload) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    const twilioError = (status, code, message) =>
      send(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

    if (url.pathname === "/__twilio/messages") {
      if (req.method === "DELETE") {
        messages.length = 0;
        return send(200, { ok: true });
      }
      const to = url.searchParams.get("to");
      return send(200, to ? messages.filter((m) => m.to === to) : messages);
    }
    if (url.pathname === "/__twilio/fail" && req.method === "POST") {
      failNext = JSON.parse(body || "{}").status ?? 500;
      return send(200, { ok: true });
    }

    const m = MESSAGES_PATH.exec(url.pathname);
    if (!m || req.method !== "POST") return twilioError(404, 20404, "The requested resource was not found");
    const auth = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? "");
    const [sid, token] = auth ? Buffer.from(auth[1], "base64").toString().split(":") : [];
    if (sid !== accountSid || token !== authToken || decodeURIComponent(m[1]) !== accountSid) {
      return twilioError(401, 20003, "Authenticate");
    }
    if (!(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
      return twilioError(400, 20001, "Content-Type must be application/x-www-form-urlencoded");
    }
    if (failNext !== null) {
      const status = failNext;
      failNext = null;
      return twilioError(status, 20500, "Internal Server Error (mock fault)");
    }
    const form = new URLSearchParams(body);
    const to = form.get("To");
    const from = form.get("From");
    const text = form.get("Body");
    if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!/^\+[1-9]\d{6,14}$/.test(to)) return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!from) return twilioError(400, 21603, "A 'From' phone number is required.");
    if (!text) return twilioError(400, 21602, "Message body is required.");
    const now = new Date().toUTCString();
    const message = {
      sid: `SM${randomUUID().replaceAll("-", "")}`,
      account_sid: accountSid,
      to,
      from,
      body: text,
      status: "queued",
      direction: "outbound-api",
      num_segments: "1",
      date_created: now,
      date_updated: now,
      date_sent: null,
      error_code: null,
      error_message: null,
      price: null,
      price_unit: "USD",
      api_version: "2010-04-01",
    };
    message.uri = `/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}.json`;
    messages.push(message);
    return send(201, message);
  });

  await new Promise((resolve, reject) => {
    // Idle keep-alive sockets stay open: Node's 5 s default closes them while workerd may be sending the
    // next request on one, which it then sees as "Network connection lost".
    server.keepAliveTimeout = 10 * 60_000;
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    port: server.address().port,
    messages,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const mock = await startMockTwilio({
    port: Number(arg("port", 0)),
    accountSid: arg("sid", undefined),
    authToken: arg("token", undefined),
  });
  console.log(JSON.stringify({ TWILIO_BASE_URL: mock.origin }));
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => mock.close().then(() => process.exit(0)));
}
