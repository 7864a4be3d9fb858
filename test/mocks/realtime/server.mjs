// WebSocket side of the mock providers: the `upgrade` event of the same node:http server, so a
// provider's ws: URL is its *_BASE_URL with the scheme swapped (README.md, "Realtime (WebSocket)").
//
// Per upgrade: find the provider by prefix and the protocol by path, record a session, take a pending
// ws_* fault (before auth, as for HTTP), let the protocol accept or refuse (bad key, bad parameters),
// then run the protocol on a `session` object and keep the record's counters current until it closes.

import http from "node:http";
import { WebSocketServer } from "ws";
import { findProtocol } from "./routes.mjs";

export const WS_FAULT_MODES = ["ws_refuse", "ws_drop", "ws_stall", "ws_error"];

// Received text frames are kept (the first TEXT_LOG_FRAMES, each cut to TEXT_LOG_CHARS) so tests can
// check what a gateway sent, e.g. that no client credential ever reached the provider.
const TEXT_LOG_FRAMES = 50;
const TEXT_LOG_CHARS = 2000;

const toBuffer = (c) => (typeof c === "string" ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength));

/** Answer an upgrade request with a plain HTTP response (the handshake is refused). */
function refuse(socket, desc) {
  const body = Buffer.concat((desc.chunks || []).map(toBuffer));
  const headers = { ...desc.headers, "content-length": String(body.length), connection: "close" };
  const head = `HTTP/1.1 ${desc.status} ${http.STATUS_CODES[desc.status] || "Error"}\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\r\n")}\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head), body]));
}

/**
 * @param {http.Server} server
 * @param {{matchBase:Function, headerObject:Function, queryObject:Function, takeFault:Function,
 *   faultError:Function, record:(r:object)=>object, log:boolean, newRequestId:Function}} deps
 */
export function attachRealtime(server, deps) {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (_offered, req) => req.mockSubprotocol ?? false,
  });

  server.on("upgrade", (req, socket, head) => {
    socket.on("error", () => {}); // a client vanishing mid-handshake must not crash the mock
    try {
      upgrade(req, socket, head);
    } catch (err) {
      console.error("[mock-providers] websocket upgrade error:", err);
      refuse(socket, {
        status: 500,
        headers: { "content-type": "application/json" },
        chunks: [JSON.stringify({ error: `mock crashed: ${err.message}` })],
      });
    }
  });

  function upgrade(req, socket, head) {
    const url = new URL(req.url, "http://mock.invalid");
    const match = url.pathname.startsWith("/__control/") ? null : deps.matchBase(url.pathname);
    if (!match)
      return refuse(socket, {
        status: 404,
        headers: { "content-type": "application/json" },
        chunks: [JSON.stringify({ error: `no mock provider serves ${url.pathname}` })],
      });
    const { base, path } = match;
    const provider = base.provider;
    const headers = deps.headerObject(req);
    const offered = (headers["sec-websocket-protocol"] || "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const requestId = deps.newRequestId(provider);
    const found = findProtocol(provider.id, path);
    const ctx = {
      provider: provider.id,
      base: base.name,
      path,
      query: deps.queryObject(url.searchParams),
      headers,
      params: found?.params ?? {},
      subprotocols: offered,
      requestId,
    };
    ctx.error = (status, message, opts, over) => provider.error(status, message, opts, over ?? ctx);
    const common = { "x-mock-provider": base.name, [provider.requestIdHeader]: requestId };

    const record = deps.record({
      kind: "websocket",
      provider: provider.id,
      base: base.name,
      method: "GET",
      path,
      query: ctx.query,
      headers,
      requestId,
      protocol: found?.protocol.name ?? null,
      subprotocols: offered,
      subprotocol: null,
      key: null,
      keySource: null,
      fault: null,
      status: null,
      received: { frames: 0, text: 0, binary: 0, audioBytes: 0, characters: 0 },
      sent: { frames: 0, text: 0, binary: 0, audioBytes: 0 },
      audioSeconds: null,
      reported: {},
      textFrames: [],
      protocolErrors: [],
      open: false,
      closeCode: null,
      closeReason: null,
      closedBy: null,
      endedAt: null,
    });
    const refuseWith = (desc) => {
      record.status = desc.status;
      refuse(socket, { ...desc, headers: { ...common, ...desc.headers } });
    };
    if (!found) return refuseWith(ctx.error(404, `Invalid URL (websocket ${path})`));
    const { protocol } = found;

    // The haystack for `bodyIncludes`: the URL and the header values (e.g. a per-test provider key).
    const fault = deps.takeFault(base, path, url.pathname, `${req.url}\n${Object.values(headers).join("\n")}`, { websocket: true });
    if (fault) record.fault = fault.mode;
    if (fault?.mode === "ws_refuse") {
      const status = fault.status ?? 503;
      const desc = protocol.refusal
        ? protocol.refusal(deps.faultError(provider, status, ctx), ctx)
        : deps.faultError(provider, status, ctx);
      if (status === 429 || fault.retryAfter !== undefined)
        desc.headers = { ...desc.headers, "retry-after": String(fault.retryAfter ?? 7) };
      if (fault.location !== undefined) desc.headers = { ...desc.headers, location: fault.location };
      return refuseWith(desc);
    }

    const verdict = protocol.accept(ctx);
    record.key = verdict.key ?? null;
    record.keySource = verdict.keySource ?? null;
    if (verdict.refuse) return refuseWith(verdict.refuse);
    req.mockSubprotocol = offered.length ? (protocol.subprotocol?.(offered) ?? offered[0]) : false;
    record.subprotocol = req.mockSubprotocol || null;
    if (deps.log) console.log(`[mock-providers] ${provider.id} websocket ${path}${fault ? ` fault=${fault.mode}` : ""}`);
    wss.handleUpgrade(req, socket, head, (ws) => run(ws, { ctx, record, protocol, fault, verdict, base, fullPath: url.pathname }));
  }

  function run(ws, { ctx, record, protocol, fault, verdict, base, fullPath }) {
    record.status = 101;
    record.open = true;
    let dead = false; // dropped or failed: ignore everything from now on
    let stalled = false;
    let fired = false;
    let serverClose = null;
    let armed = fault && fault.mode !== "ws_refuse" ? fault : null;

    const canSend = () => !dead && !stalled && ws.readyState === ws.OPEN;
    const afterSend = () => armed?.afterSentFrames > 0 && check();
    const session = {
      ctx,
      record,
      state: {},
      sendJson(obj) {
        if (!canSend()) return;
        ws.send(JSON.stringify(obj));
        record.sent.frames += 1;
        record.sent.text += 1;
        afterSend();
      },
      sendBinary(bytes) {
        if (!canSend()) return;
        ws.send(bytes);
        record.sent.frames += 1;
        record.sent.binary += 1;
        record.sent.audioBytes += bytes.length;
        afterSend();
      },
      close(code = 1000, reason = "") {
        if (serverClose || ws.readyState !== ws.OPEN) return;
        serverClose = { code, reason };
        ws.close(code, reason);
      },
      audioIn: (n) => (record.received.audioBytes += n),
      audioOut: (n) => (record.sent.audioBytes += n),
      characters: (n) => (record.received.characters += n),
      protocolError: (msg) => record.protocolErrors.push(msg),
      setKey(key, source) {
        record.key = key;
        record.keySource = source;
      },
    };

    function check() {
      if (!armed || fired || dead) return;
      if (record.received.frames < (armed.afterFrames ?? 0) || record.sent.frames < (armed.afterSentFrames ?? 0)) return;
      fired = true;
      if (armed.mode === "ws_drop") {
        dead = true;
        ws.terminate(); // no close frame: the peer sees an abnormal closure (1006)
      } else if (armed.mode === "ws_stall") {
        stalled = true;
      } else if (armed.mode === "ws_error") {
        const status = armed.status ?? 500;
        protocol.fail(session, status, `${http.STATUS_CODES[status] || "Error"} (mock fault)`);
        dead = true;
      }
    }

    ws.on("message", (data, isBinary) => {
      record.received.frames += 1;
      if (isBinary) record.received.binary += 1;
      else {
        record.received.text += 1;
        const text = data.toString("utf8");
        if (record.textFrames.length < TEXT_LOG_FRAMES)
          record.textFrames.push(text.length > TEXT_LOG_CHARS ? `${text.slice(0, TEXT_LOG_CHARS)}…` : text);
      }
      if (dead || stalled) return;
      if (!armed && !isBinary) {
        // A fault aimed by a nonce in a text frame (e.g. the text to speak) is claimed by that session.
        armed = deps.takeFault(base, ctx.path, fullPath, data.toString("utf8"), { websocket: true, nonceOnly: true }); // whole frame, not the cut log
        if (armed) record.fault = armed.mode;
      }
      try {
        protocol.message(session, data, isBinary);
      } catch (err) {
        record.protocolErrors.push(`mock crashed on a frame: ${err.message}`);
        session.close(1011, "mock crashed");
      }
      check();
    });
    ws.on("error", () => {});
    ws.on("close", (code, reason) => {
      record.open = false;
      record.endedAt = new Date().toISOString();
      if (dead && armed?.mode === "ws_drop") Object.assign(record, { closeCode: 1006, closeReason: "", closedBy: "drop" });
      else if (serverClose) Object.assign(record, { closeCode: serverClose.code, closeReason: serverClose.reason, closedBy: "server" });
      else Object.assign(record, { closeCode: code, closeReason: reason.toString("utf8"), closedBy: "client" });
      protocol.closed?.(session);
    });

    check();
    if (dead || stalled) return;
    if (verdict.reject) verdict.reject(session);
    else protocol.open?.(session);
  }

  return wss;
}
