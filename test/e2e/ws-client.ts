// A WebSocket client for the realtime e2e tests (the `ws` package): keeps every frame, waits driven by
// events (a guard only ends a wait that would otherwise hang — no assertion depends on time), and
// refuses anything but loopback.
import net from "node:net";
import WebSocket from "ws";
import { bearer, mock, settled, workerUrl } from "./client";

const GUARD_MS = 40_000;

export interface Received {
  binary: boolean;
  data: Buffer;
  json?: any;
}

const isLoopback = (host: string) => /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/.test(host);

/** For clients that force wss: (the openai SDK): plain TCP to a loopback host, nothing else. */
export function loopbackConnection(opts: { host?: string; port?: number | string }) {
  const host = String(opts.host ?? "");
  if (!isLoopback(host)) throw new Error(`refusing a non-loopback connection to ${host}`);
  return net.connect(Number(opts.port), host);
}

function guarded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} (guard)`)), GUARD_MS);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

export interface RtClient {
  ws: WebSocket;
  frames: Received[];
  send(x: string | Buffer | Uint8Array | object): void;
  /** The next frame (after those already consumed) matching pred. */
  next(pred?: (f: Received) => boolean, what?: string): Promise<Received>;
  json(type: string): Promise<any>;
  closed(): Promise<{ code: number; reason: string }>;
  /** Every JSON frame of a type so far. */
  all(type: string): any[];
  audio(): Buffer;
}

/** The worker's ws: URL for a path. */
export const wsUrl = (path: string) => workerUrl().replace(/^http/, "ws") + path;

/** Open a WebSocket to the worker; resolves once open (rejects with the HTTP status if refused). */
export function connect(path: string, opts: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<RtClient> {
  const url = wsUrl(path);
  if (!isLoopback(new URL(url).hostname)) throw new Error(`refusing ${url}`);
  const ws = new WebSocket(url, opts.protocols, { headers: opts.headers });
  const frames: Received[] = [];
  const waiters: (() => void)[] = [];
  let cursor = 0;
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  ws.on("message", (data: Buffer, binary: boolean) => {
    let json: any;
    if (!binary) {
      try {
        json = JSON.parse(data.toString("utf8"));
      } catch {}
    }
    frames.push({ binary, data, json });
    wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => {
      resolve({ code, reason: reason.toString("utf8") });
      wake();
    }),
  );
  ws.on("error", () => {});
  const client: RtClient = {
    ws,
    frames,
    send: (x) => ws.send(typeof x === "string" || Buffer.isBuffer(x) || x instanceof Uint8Array ? x : JSON.stringify(x)),
    next(pred = () => true, what = "frame") {
      return guarded(
        new Promise<Received>((resolve, reject) => {
          const attempt = () => {
            for (let i = cursor; i < frames.length; i++) {
              const f = frames[i]!;
              if (pred(f)) {
                cursor = i + 1;
                return resolve(f);
              }
            }
            if (ws.readyState === WebSocket.CLOSED) return reject(new Error(`socket closed before ${what}`));
            waiters.push(attempt);
          };
          attempt();
        }),
        what,
      );
    },
    json: (type) => client.next((f) => f.json?.type === type, `type=${type}`).then((f) => f.json),
    closed: () => guarded(closed, "close"),
    all: (type) => frames.filter((f) => f.json?.type === type).map((f) => f.json),
    audio: () => Buffer.concat(frames.filter((f) => f.binary).map((f) => f.data)),
  };
  return guarded(
    new Promise<RtClient>((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("unexpected-response", (_req, res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => reject(new Refused(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"))));
      });
      ws.once("error", reject);
    }),
    "open",
  );
}

export class Refused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`refused with ${status}: ${body.slice(0, 300)}`);
  }
  get json(): any {
    try {
      return JSON.parse(this.body);
    } catch {
      return undefined;
    }
  }
}

/** Expect the upgrade to be refused; the HTTP status and body. */
export async function refused(path: string, opts: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<Refused> {
  try {
    const c = await connect(path, opts);
    c.ws.close();
  } catch (e) {
    if (e instanceof Refused) return e;
    throw e;
  }
  throw new Error(`the upgrade of ${path} was accepted`);
}

/** GET /v1/usage for a credential. */
export const usage = async (jwt: string) => (await (await fetch(`${workerUrl()}/v1/usage`, { headers: bearer(jwt) })).json()) as any;

/** The mock's record of the newest WebSocket session to a provider path, once it closed. */
export async function upstreamSession(provider: string, path: string): Promise<any> {
  const read = async () =>
    ((await (await mock(`/requests?kind=websocket&provider=${provider}&path=${encodeURIComponent(path)}`)).json()) as any[]).at(-1);
  return settled(read, (r) => r && r.closeCode !== null, 10_000);
}
