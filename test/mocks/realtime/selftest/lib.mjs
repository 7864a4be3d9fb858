// Helpers for the realtime self-test (test/mocks/realtime-selftest.mjs): a WebSocket client that keeps
// every frame, waits driven by events (a guard rejects a wait that never ends, so a broken mock fails
// the run instead of hanging it), and control-API access. Loopback only.

import net from "node:net";
import WebSocket from "ws";

const GUARD_MS = 5000; // only ends a wait that would otherwise hang; no assertion depends on time

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}
export function assertEq(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

const isLoopback = (host) => /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/.test(host);

/** For clients that force wss: (the openai SDK): plain TCP to a loopback host, nothing else. */
export function loopbackConnection(opts) {
  if (!isLoopback(opts.host)) throw new Error(`refusing a non-loopback connection to ${opts.host}`);
  return net.connect(opts.port, opts.host);
}

function guarded(promise, what) {
  let timer;
  const guard = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} (guard)`)), GUARD_MS);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/**
 * Open a WebSocket; resolves once open. `frames` collects {binary, data, json}; `next(pred)` waits for
 * the next frame (from the last one consumed) matching pred; `closed()` resolves with {code, reason}.
 */
export function connect(url, { headers = {}, protocols } = {}) {
  const u = new URL(url);
  if (!isLoopback(u.hostname)) throw new Error(`refusing ${url}`);
  const ws = new WebSocket(url, protocols, { headers });
  const frames = [];
  const waiters = [];
  let cursor = 0;
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  ws.on("message", (data, binary) => {
    let json;
    if (!binary) {
      try {
        json = JSON.parse(data.toString("utf8"));
      } catch {
        json = undefined;
      }
    }
    frames.push({ binary, data, json, text: binary ? null : data.toString("utf8") });
    wake();
  });
  const closed = new Promise((resolve) =>
    ws.on("close", (code, reason) => {
      resolve({ code, reason: reason.toString("utf8") });
      wake();
    }),
  );
  ws.on("error", () => {});
  const client = {
    ws,
    frames,
    closed: () => guarded(closed, "close"),
    send: (x) => ws.send(typeof x === "string" || x instanceof Uint8Array ? x : JSON.stringify(x)),
    /** Wait for the next frame (after those already consumed) matching pred; returns it. */
    async next(pred = () => true, what = "frame") {
      const find = () => {
        for (let i = cursor; i < frames.length; i++) {
          if (pred(frames[i])) {
            cursor = i + 1;
            return frames[i];
          }
        }
        return null;
      };
      return guarded(
        new Promise((resolve, reject) => {
          const attempt = () => {
            const f = find();
            if (f) return resolve(f);
            if (ws.readyState === WebSocket.CLOSED) return reject(new Error(`socket closed before ${what}`));
            waiters.push(attempt);
          };
          attempt();
        }),
        what,
      );
    },
    json: (type, key = "type") =>
      client.next((f) => f.json && (type === undefined || f.json[key] === type), `${key}=${type}`).then((f) => f.json),
  };
  return guarded(
    new Promise((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("unexpected-response", (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
      ws.once("error", reject);
    }),
    "open",
  );
}

/** Expect the handshake to be refused: {status, headers, body}. */
export function refused(url, { headers = {}, protocols } = {}) {
  const ws = new WebSocket(url, protocols, { headers });
  return guarded(
    new Promise((resolve, reject) => {
      ws.on("open", () => reject(new Error("the handshake was accepted")));
      ws.on("error", () => {});
      ws.on("unexpected-response", (_req, res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      });
    }),
    "refusal",
  );
}

export function control(origin) {
  const get = async (p) => (await fetch(`${origin}/__control${p}`)).json();
  return {
    get,
    async fault(f) {
      const res = await fetch(`${origin}/__control/fault`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(f),
      });
      const body = await res.json();
      assert(res.ok, `fault rejected: ${JSON.stringify(body)}`);
      return body.fault;
    },
    /** The newest websocket record for provider/path once `ok(record)` holds (polled, guarded). */
    async session(provider, path, ok = (r) => r.closeCode !== null) {
      const read = async () => (await get(`/requests?kind=websocket&provider=${provider}&path=${encodeURIComponent(path)}`)).at(-1);
      let stop = false;
      const poll = (async () => {
        let r = await read();
        while (!stop && (!r || !ok(r))) {
          await new Promise((res) => setTimeout(res, 20));
          r = await read();
        }
        return r;
      })();
      return guarded(poll, `${provider} ${path} session record`).finally(() => (stop = true));
    },
  };
}

/** Concatenate binary frames / base64 strings into one Buffer. */
export const joinBinary = (frames) => Buffer.concat(frames.filter((f) => f.binary).map((f) => f.data));
export const joinBase64 = (list) => Buffer.concat(list.map((b) => Buffer.from(b, "base64")));
