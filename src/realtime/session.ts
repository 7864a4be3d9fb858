// One realtime session in the Worker: the client's socket and the provider's, the check-interval tick
// (which also ends an idle session), the maxSeconds timer, the wait for an answer the provider owes, and the
// one way a session ends — usage and error events, the close code, both sockets closed, the exact cost
// settled once. The listen, speak and OpenAI relays (listen.ts, speak.ts, passthrough.ts) put their frames
// through it; frames are handed on as they come, never held, except behind a top-up the reservation is
// waiting for (their order kept) — and at most QUEUED_BYTES_MAX of them: a client that sends more meanwhile
// has its session ended (1013), none of it forwarded or charged.

import { providerText } from "../providers/provider-text";
import type { Governor } from "./governor";
import { type Ending, endings, errorEvent, openAiErrorEvent, usageEvent } from "./protocol";
import type { Frame } from "./providers/types";

/**
 * What a session holds of the client's frames while a top-up is pending (bytes; a text frame by its UTF-8 bytes,
 * as it came over the wire — not its UTF-16 length, a third of that for CJK text).
 * A top-up is one Account call, tens of milliseconds; 1 MiB is 10 s of the densest audio a session takes
 * (48 kHz 16-bit PCM, 96 KB/s; 16 s of OpenAI's base64 24 kHz PCM, 33 s of 16 kHz PCM). A client past it is
 * sending far faster than real time, or the Account object is out of reach: holding more would only grow
 * the isolate's memory (shared by every session in it), and dropping frames would lose audio silently.
 */
export const QUEUED_BYTES_MAX = 1024 * 1024;
/**
 * What a held frame counts beside its bytes: the task waiting for it (a closure and a promise) takes memory
 * whatever the frame's size, so a flood of empty frames meets the bound too (16,384 of them fill it).
 */
export const QUEUED_FRAME_BYTES = 64;

const utf8 = new TextEncoder();

export interface SessionOptions {
  client: WebSocket;
  upstream: WebSocket;
  governor: Governor;
  /** Errors as OpenAI Realtime `error` events, and no usage events (the protocol is OpenAI's). */
  openAiProtocol: boolean;
  maxSeconds: number;
  checkIntervalMs: number;
  /**
   * REALTIME_IDLE_SECONDS: no frame from the client and nothing from the provider to it for this long ends the
   * session (4408) — a client gone without a close (half-open TCP) would otherwise hold its slot to maxSeconds.
   * Judged at each check-interval tick. Unset: no idle limit.
   */
  idleSeconds?: number;
  /** PROVIDER_TIMEOUT_MS: how long the provider may stay silent while it owes an answer (awaitProvider). */
  providerTimeoutMs?: number;
  /** Redacted from every message the client is sent about the provider. */
  providerKey: string;
}

export interface SessionHooks {
  /** Usage so far (listen: seconds of audio; speak: characters); the cost comes from the hooks' own count. */
  usage(): { seconds: number; characters?: number };
  /** The exact cost of what flowed (for bypassed sessions: what it would cost, for the caps). */
  costMc(): number;
}

export class Session {
  ended = false;
  readonly startedAt = Date.now();
  /** Resolves once the session ended and its cost was settled (kept alive by waitUntil). */
  readonly finished: Promise<void>;
  private finish!: () => void;
  private hooks?: SessionHooks;
  private chain?: Promise<void>;
  /** Bytes of client frames waiting behind a top-up. */
  private queuedBytes = 0;
  private timeLimit?: ReturnType<typeof setTimeout>;
  private checks?: ReturnType<typeof setInterval>;
  /** The last frame from the client, or to it from the provider (the idle limit's clock). */
  private activeAt = Date.now();
  private providerFrameAt = 0;
  /** What the provider owes an answer to, and since when; and the one timer that watches its silence. */
  private owed?: { what: string; since: number };
  private providerWait?: ReturnType<typeof setTimeout>;

  constructor(readonly o: SessionOptions) {
    this.finished = new Promise((ok) => {
      this.finish = ok;
    });
  }

  /** Start the timers and watch both sockets' ends; the relay handles their messages. */
  start(hooks: SessionHooks): void {
    this.hooks = hooks;
    const { client, upstream } = this.o;
    this.timeLimit = setTimeout(() => this.end(endings.maxSeconds(this.o.maxSeconds)), this.o.maxSeconds * 1000);
    this.checks = setInterval(() => void this.tick(), this.o.checkIntervalMs);
    client.addEventListener("message", () => {
      this.activeAt = Date.now();
    });
    upstream.addEventListener("message", () => {
      this.providerFrameAt = Date.now();
    });
    client.addEventListener("close", () => this.end({ code: 1000 }));
    client.addEventListener("error", () => this.end({ code: 1000 }));
    upstream.addEventListener("error", () => this.end(endings.provider("The provider's connection failed.")));
  }

  /**
   * Run the work a client frame brings, in order: at once, unless earlier work waits for a top-up — then
   * after it, as long as what waits stays within QUEUED_BYTES_MAX; past that the session ends (1013).
   */
  serial(frame: Frame, task: () => void | Promise<void>): void {
    if (this.ended) return;
    if (!this.chain) {
      const pending = task();
      if (pending) this.track(pending);
      return;
    }
    const bytes = QUEUED_FRAME_BYTES + (typeof frame === "string" ? utf8.encode(frame).byteLength : frame.byteLength);
    if (this.queuedBytes + bytes > QUEUED_BYTES_MAX) {
      const mib = QUEUED_BYTES_MAX / (1024 * 1024);
      this.end(endings.backlog(`More than ${mib} MiB arrived while the session waited for credits; none of it was forwarded or charged.`));
      return;
    }
    this.queuedBytes += bytes;
    this.track(
      this.chain.then(() => {
        this.queuedBytes -= bytes;
        return this.ended ? undefined : task();
      }),
    );
  }

  toClient(frame: string | ArrayBuffer | ArrayBufferView): void {
    this.activeAt = Date.now();
    this.deliver(frame);
  }

  /** A frame to the client that is Voxgate's own (a usage event): not activity. */
  private deliver(frame: string | ArrayBuffer | ArrayBufferView): void {
    if (this.ended) return;
    try {
      this.o.client.send(frame);
    } catch {
      this.end({ code: 1000 }); // the client is gone
    }
  }

  toUpstream(frames: Frame | Frame[]): void {
    if (this.ended) return;
    try {
      for (const f of Array.isArray(frames) ? frames : [frames]) this.o.upstream.send(f);
    } catch {
      this.end(endings.provider("The provider's connection closed."));
    }
  }

  /**
   * The provider owes an answer from now on (to a flush, a finalize, the end of the stream; `what` names it):
   * while it does, silence from it for PROVIDER_TIMEOUT_MS ends the session — an error event provider_timeout,
   * 4502, what flowed charged as ever. Each frame from it restarts the wait (one still sending is waited for);
   * one timer per silence period, not one per frame. Owed already: the wait goes on from when it began.
   */
  awaitProvider(what: string): void {
    const timeoutMs = this.o.providerTimeoutMs;
    if (this.ended || timeoutMs === undefined) return;
    this.owed = { what, since: this.owed?.since ?? Date.now() };
    if (this.providerWait) return;
    const check = () => {
      this.providerWait = undefined;
      if (!this.owed || this.ended) return;
      const silentMs = Date.now() - Math.max(this.owed.since, this.providerFrameAt);
      if (silentMs < timeoutMs) {
        this.providerWait = setTimeout(check, timeoutMs - silentMs);
        return;
      }
      this.end(endings.providerTimeout(`The provider did not answer ${this.owed.what} within ${timeoutMs} ms.`));
    };
    this.providerWait = setTimeout(check, timeoutMs);
  }

  /** The provider gave the answer it owed. */
  answered(): void {
    this.owed = undefined;
  }

  /** A client message that breaks the protocol: said so, and the session goes on. */
  clientError(message: string): void {
    this.toClient(this.o.openAiProtocol ? openAiErrorEvent("invalid_message", message) : errorEvent("invalid_message", message));
  }

  /** End the session once: usage, the error event, the close code; both sockets closed; the cost settled. */
  end(ending: Ending): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timeLimit);
    clearInterval(this.checks);
    clearTimeout(this.providerWait);
    const costMc = this.hooks?.costMc() ?? 0;
    const send = (frame: string) => {
      try {
        this.o.client.send(frame);
      } catch {
        // the client is gone
      }
    };
    if (!this.o.openAiProtocol && this.hooks) send(usageEvent({ ...this.hooks.usage(), costMc: this.o.governor.metered ? costMc : 0 }));
    if (ending.error) {
      const { code } = ending.error;
      const message = providerText(ending.error.message, this.o.providerKey);
      send(this.o.openAiProtocol ? openAiErrorEvent(code, message) : errorEvent(code, message));
    }
    close(this.o.client, ending.code, ending.error?.code ?? "");
    close(this.o.upstream, 1000, "");
    void this.o.governor.settle(costMc).finally(() => this.finish());
  }

  private async tick(): Promise<void> {
    if (this.ended || !this.hooks) return;
    const idle = this.o.idleSeconds;
    if (idle !== undefined && Date.now() - this.activeAt >= idle * 1000) return this.end(endings.idle(idle));
    await this.o.governor.tick();
    if (this.ended) return;
    if (!this.o.openAiProtocol) {
      this.deliver(usageEvent({ ...this.hooks.usage(), costMc: this.o.governor.metered ? this.hooks.costMc() : 0 }));
    }
  }

  private track(p: Promise<void>): void {
    const chained: Promise<void> = p
      .catch(() => this.end(endings.internal("The session failed.")))
      .then(() => {
        if (this.chain === chained) this.chain = undefined;
      });
    this.chain = chained;
  }
}

/** Close a socket, ignoring one already closed. */
function close(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}
