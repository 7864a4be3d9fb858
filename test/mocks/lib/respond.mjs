// Response descriptors built by the provider handlers and sent by the server core
// (test/mocks/providers.mjs), which applies the `truncate`/`slow` faults chunk by chunk.
//
// A descriptor is {status, headers, chunks: (string|Uint8Array)[], streaming}. `streaming: false`
// bodies are sent in one piece with Content-Length; streaming ones with chunked transfer encoding,
// one write per chunk.

import { bytesToBase64, splitBytes } from "../audio.mjs";

export function json(body, status = 200, headers = {}) {
  return { status, headers: { "content-type": "application/json", ...headers }, chunks: [JSON.stringify(body)], streaming: false };
}

export function text(body, status = 200, headers = {}) {
  return { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers }, chunks: [String(body)], streaming: false };
}

/** Raw audio bytes in ≥ 2 chunks (4 nearly equal pieces). */
export function rawAudio(bytes, contentType, headers = {}, status = 200) {
  return { status, headers: { "content-type": contentType, ...headers }, chunks: splitBytes(bytes, 4), streaming: true };
}

/**
 * Server-sent events. Each item is {event?, data} where data is an object (JSON-encoded) or a
 * string (sent as is, e.g. "[DONE]"). One chunk per event.
 */
export function sse(events, headers = {}, status = 200) {
  const chunks = events.map(
    ({ event, data }) => `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`,
  );
  return {
    status,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...headers },
    chunks,
    streaming: true,
  };
}

/** Newline-delimited JSON, one chunk per line. */
export function ndjson(objects, headers = {}, contentType = "application/x-ndjson", status = 200) {
  return {
    status,
    headers: { "content-type": contentType, ...headers },
    chunks: objects.map((o) => `${JSON.stringify(o)}\n`),
    streaming: true,
  };
}

/** Audio split into ≥ 2 base64 pieces (each piece a multiple of 3 bytes, so they also concatenate). */
export function base64Pieces(bytes, count = 4) {
  return splitBytes(bytes, count).map(bytesToBase64);
}

/** An approximate MIME type for a provider's format name (mp3 → audio/mpeg, the one that matters). */
export function mimeFor(format) {
  const f = String(format || "").toLowerCase();
  if (/mp3|mpeg/.test(f)) return "audio/mpeg";
  if (/wav/.test(f)) return "audio/wav";
  if (/ogg/.test(f)) return "audio/ogg";
  if (/opus/.test(f)) return "audio/opus";
  if (/flac/.test(f)) return "audio/flac";
  if (/aac/.test(f)) return "audio/aac";
  if (/ulaw|mulaw/.test(f)) return "audio/basic";
  if (/alaw/.test(f)) return "audio/x-alaw-basic";
  if (/pcm|linear16|raw/.test(f)) return "audio/pcm";
  return "application/octet-stream";
}

let counter = 0;
/** Sequential ids (`<prefix>mock_000001`) so that logs and snapshots stay readable. */
export function mockId(prefix = "") {
  counter += 1;
  return `${prefix}mock_${String(counter).padStart(6, "0")}`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** `Authorization: <scheme> <token>` → token (scheme compared case-insensitively), else null. */
export function authToken(headers, scheme) {
  const value = headers.authorization;
  if (!value) return null;
  const m = new RegExp(`^${scheme}\\s+(.+)$`, "i").exec(value.trim());
  return m ? m[1].trim() : null;
}

export const isInvalidKey = (key) => typeof key === "string" && key.startsWith("invalid");
