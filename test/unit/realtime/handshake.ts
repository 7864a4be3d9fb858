// A WebSocket client of the worker's realtime routes, for tests that call worker.fetch: the upgrade request's
// headers (RFC 6455 §4.1, which the routes check before admitting a session), the accepted socket, the text
// events it received (parsed) and its close.
import { createExecutionContext } from "cloudflare:test";
import worker from "../../../src/index";
import { BASE } from "../../helpers/api";
import { env } from "../../helpers/env";
import { sleep } from "../../helpers/reliability";

export const HANDSHAKE = {
  upgrade: "websocket",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", // RFC 6455's own example
  "sec-websocket-version": "13",
} as const;

export interface Client {
  res: Response;
  ws?: WebSocket;
  /** The text messages received, parsed. */
  events: any[];
  closed: Promise<{ code: number; at: number }>;
}

/** Opens `path` as a WebSocket client would, with `headers` (and `protocols`) beside the handshake's. */
export async function openSocket(
  path: string,
  o: { headers?: Record<string, string>; protocols?: string[]; env?: any } = {},
): Promise<Client> {
  const headers = new Headers({ ...o.headers, ...HANDSHAKE });
  if (o.protocols) headers.set("sec-websocket-protocol", o.protocols.join(", "));
  const res = await worker.fetch(new Request(`${BASE}${path}`, { headers }), o.env ?? env, createExecutionContext());
  const events: any[] = [];
  const ws = res.webSocket ?? undefined;
  let closed = Promise.resolve({ code: -1, at: Date.now() });
  if (ws) {
    ws.accept();
    closed = new Promise((ok) => ws.addEventListener("close", (e: CloseEvent) => ok({ code: e.code, at: Date.now() })));
    ws.addEventListener("message", (e: MessageEvent) => {
      if (typeof e.data === "string") events.push(JSON.parse(e.data));
    });
  }
  return { res, ws, events, closed };
}

/** Resolves with the close, or "open" if the session is still running after `ms`. */
export const closedWithin = (c: Client, ms: number) => Promise.race([c.closed, sleep(ms).then(() => "open" as const)]);
