// Voxgate's uniform realtime protocol (API.md §4.3): what a listen or speak client sends, what it is
// sent, and how a session ends — a close code after an `error` event that says why.
import { SPEECH_TEXT_MAX_CHARS, textChars } from "../providers/text-limit";
import type { ListenEvent } from "./providers/types";

/** How a session ends: the close code, and the error event sent before it (none for a normal end). */
export interface Ending {
  code: number;
  error?: { code: string; message: string };
}

export const NORMAL_END: Ending = { code: 1000 };

export const endings = {
  unauthorized: (message: string): Ending => ({ code: 4401, error: { code: "unauthorized", message } }),
  /** The key no longer may hold this session (its scopes or providers changed): a credential invalid for it, so 4401. */
  scopeDenied: (message: string): Ending => ({ code: 4401, error: { code: "scope_denied", message } }),
  credits: (message: string): Ending => ({ code: 4402, error: { code: "insufficient_credits", message } }),
  /** The API key's own monthly credit limit ran out (the account may have credits left): as HTTP says it, 402's code. */
  keyCredits: (message: string): Ending => ({ code: 4402, error: { code: "key_credit_limit_reached", message } }),
  maxSeconds: (seconds: number): Ending => ({
    code: 4408,
    error: { code: "session_time_limit", message: `The session reached its limit of ${seconds} seconds.` },
  }),
  /** A client that vanished without closing (no FIN, no RST) is told apart from one that pauses only by a limit. */
  idle: (seconds: number): Ending => ({
    code: 4408,
    error: {
      code: "session_idle",
      message: `Nothing came from the client and nothing from the provider for ${seconds} seconds: the session was ended (send {"type":"keepalive"} to hold an idle one open).`,
    },
  }),
  provider: (message: string): Ending => ({ code: 4502, error: { code: "provider_error", message } }),
  /** The provider went silent while it owed an answer: as the HTTP routes name a provider that does not answer in time. */
  providerTimeout: (message: string): Ending => ({ code: 4502, error: { code: "provider_timeout", message } }),
  internal: (message: string): Ending => ({ code: 1011, error: { code: "internal_error", message } }),
  /** The client sent more than a session holds while it waits for a top-up (RFC 6455 1013: try again later). */
  backlog: (message: string): Ending => ({ code: 1013, error: { code: "rate_limited", message } }),
};

export const errorEvent = (code: string, message: string) => JSON.stringify({ type: "error", code, message });

const SERVER_ERRORS = new Set(["provider_error", "provider_timeout", "internal_error"]);

/** The same error as an OpenAI Realtime `error` event, for sessions that speak OpenAI's protocol. */
export const openAiErrorEvent = (code: string, message: string) =>
  JSON.stringify({
    type: "error",
    event_id: `event_voxgate_${crypto.randomUUID().replaceAll("-", "")}`,
    error: { type: SERVER_ERRORS.has(code) ? "server_error" : "invalid_request_error", code, message },
  });

export const transcriptEvent = (t: Extract<ListenEvent, { type: "transcript" }>) =>
  JSON.stringify({ type: "transcript", text: t.text, isFinal: t.isFinal, start: t.start, end: t.end });

export const usageEvent = (usage: { seconds: number; costMc: number; characters?: number }) =>
  JSON.stringify({
    type: "usage",
    seconds: Math.round(usage.seconds * 1000) / 1000,
    ...(usage.characters !== undefined ? { characters: usage.characters } : {}),
    cost: usage.costMc / 1000,
  });

export const DONE_EVENT = JSON.stringify({ type: "done" });

const controlType = (text: string): { type?: unknown; text?: unknown } | undefined => {
  try {
    const msg = JSON.parse(text);
    return msg && typeof msg === "object" && !Array.isArray(msg) ? msg : undefined;
  } catch {
    return undefined;
  }
};

/** {"type":"keepalive"}: nothing to do but be a frame from the client, which holds an idle session open. */
export type ListenCommand = "finalize" | "close" | "keepalive";

/** A listen client's text message: {"type":"finalize"}, {"type":"close"} or {"type":"keepalive"}; anything else is an error string. */
export function listenCommand(text: string): ListenCommand | { error: string } {
  const type = controlType(text)?.type;
  if (type === "finalize" || type === "close" || type === "keepalive") return type;
  return { error: 'Send binary audio frames, {"type":"finalize"}, {"type":"close"} or {"type":"keepalive"}.' };
}

export type SpeakCommand = { type: "text"; text: string } | { type: "flush" } | { type: "close" } | { type: "keepalive" };

export function speakCommand(text: string): SpeakCommand | { error: string } {
  const msg = controlType(text);
  if (msg?.type === "flush" || msg?.type === "close" || msg?.type === "keepalive") return { type: msg.type };
  if (msg?.type === "text") {
    if (typeof msg.text !== "string") return { error: 'A text message is {"type":"text","text":"…"}.' };
    // One message takes as much text as /v1/synthesize takes in one request.
    if (textChars(msg.text) > SPEECH_TEXT_MAX_CHARS)
      return { error: `One text message takes at most ${SPEECH_TEXT_MAX_CHARS} characters.` };
    return { type: "text", text: msg.text };
  }
  return { error: 'Send {"type":"text","text":"…"}, {"type":"flush"}, {"type":"close"} or {"type":"keepalive"}.' };
}
