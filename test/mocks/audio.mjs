// Deterministic fake audio, transcripts and LLM replies shared by the mock providers and the tests.
//
// PURE JavaScript: no `node:` imports, no Buffer. This module is imported both by the Node mock
// server (test/mocks/providers.mjs) and by tests running inside workerd, so every helper here must
// work on TextEncoder/TextDecoder/Uint8Array alone.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Minimum length of every mock audio payload. */
export const MOCK_AUDIO_MIN_BYTES = 4096;

/** Bytes per STT "second": a 5000-byte upload is 5 s of audio. */
export const MOCK_BYTES_PER_SECOND = 1000;

/** Deepgram `{url}` (and any other URL-based STT input) is treated as this many bytes of audio. */
export const MOCK_URL_AUDIO_BYTES = 5000;

export function utf8Encode(text) {
  return encoder.encode(String(text));
}

export function utf8Decode(bytes) {
  return decoder.decode(bytes);
}

/**
 * Deterministic fake audio for `text` in `format`.
 *
 * unit = UTF-8 bytes of `MOCKAUDIO[${format}]|${text}|`
 * result = unit repeated n times, where n = ceil(4096 / unit.length) (n ≥ 1)
 *
 * So the length is the smallest multiple of unit.length that is ≥ 4096 (a unit longer than 4096
 * bytes is returned once). `format` is the format string the provider's request asked for (or the
 * provider's default), exactly as documented per provider in test/mocks/README.md.
 */
export function mockAudio(text, format) {
  const unit = utf8Encode(`MOCKAUDIO[${format}]|${text}|`);
  const n = Math.max(1, Math.ceil(MOCK_AUDIO_MIN_BYTES / unit.length));
  const out = new Uint8Array(unit.length * n);
  for (let i = 0; i < n; i++) out.set(unit, i * unit.length);
  return out;
}

/**
 * Split bytes into `count` nearly equal pieces (each a multiple of 3 bytes except maybe the last,
 * so that the base64 of the pieces concatenates to the base64 of the whole). count ≥ 2 unless the
 * input is shorter than 6 bytes.
 */
export function splitBytes(bytes, count = 4) {
  const n = Math.max(1, Math.min(count, Math.floor(bytes.length / 3)));
  const size = Math.ceil(bytes.length / n / 3) * 3;
  const parts = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, Math.min(i + size, bytes.length)));
  if (parts.length === 0) parts.push(new Uint8Array(0));
  return parts;
}

export function concatBytes(chunks) {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// STT

export function mockTranscriptFor(byteLength) {
  return `mock transcript of ${byteLength} bytes`;
}

/**
 * Seconds of audio in an upload, as a provider would bill it: a real WAV file's length from its header
 * (data bytes ÷ byte rate, never more bytes than are there), anything else byteLength / 1000.
 */
export function mockDurationSeconds(byteLength, data) {
  const wav = data ? wavSeconds(data) : undefined;
  return wav ?? byteLength / MOCK_BYTES_PER_SECOND;
}

/** A RIFF/WAVE file's duration, or undefined when `data` is not one. */
function wavSeconds(data) {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const ascii = (at) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || ascii(0) !== "RIFF" || ascii(8) !== "WAVE") return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let byteRate;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = ascii(at);
    const size = view.getUint32(at + 4, true);
    // The fmt body starts at at + 8: format tag, channels, sample rate (+ 12), then the byte rate (+ 16).
    if (id === "fmt " && at + 20 <= bytes.length) byteRate = view.getUint32(at + 16, true);
    if (id === "data") {
      if (!byteRate) return undefined;
      const present = bytes.length - (at + 8);
      const declared = size === 0 || size === 0xffffffff ? present : size;
      return Math.min(declared, present) / byteRate;
    }
    at += 8 + size + (size % 2);
  }
  return undefined;
}

/**
 * Word timings for a transcript spread evenly over `durationSeconds`:
 * [{word, start, end}] (seconds, rounded to milliseconds).
 */
export function mockWordTimings(transcript, durationSeconds) {
  const words = splitWords(transcript);
  const step = words.length ? durationSeconds / words.length : 0;
  const r = (x) => Math.round(x * 1000) / 1000;
  return words.map((word, i) => ({ word, start: r(i * step), end: r((i + 1) * step) }));
}

// ---------------------------------------------------------------------------------------------
// LLM

export function mockReply(lastUserContent) {
  return `Echo: ${lastUserContent}`;
}

export function splitWords(text) {
  const t = String(text ?? "").trim();
  return t === "" ? [] : t.split(/\s+/);
}

/** Number of whitespace-separated words (0 for empty/whitespace-only text). */
export function countTokens(text) {
  return splitWords(text).length;
}

/**
 * Plain text of a message `content`: a string as is; an array of parts (OpenAI
 * `{type:"text",text}`, Anthropic `{type:"text",text}`, or bare strings) → the text parts joined
 * by " "; anything else → "".
 */
export function contentText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (typeof p === "string" ? p : p && typeof p.text === "string" ? p.text : ""))
      .filter((s) => s !== "")
      .join(" ");
  }
  return "";
}

/** Text of the last message with role "user" ("" if none). */
export function lastUserContent(messages) {
  const list = Array.isArray(messages) ? messages : [];
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i] && list[i].role === "user") return contentText(list[i].content);
  }
  return "";
}

/**
 * Prompt tokens = countTokens of [system, ...every message's content text] joined by " ".
 * `system` is Anthropic's top-level field (string or text blocks); OpenAI-style system messages
 * are ordinary messages and are counted with the rest.
 */
export function promptTokensFor(messages, system) {
  const parts = [];
  const sys = contentText(system);
  if (sys !== "") parts.push(sys);
  for (const m of Array.isArray(messages) ? messages : []) parts.push(contentText(m?.content));
  return countTokens(parts.join(" "));
}

/** Everything a test needs to predict an LLM mock answer: {reply, promptTokens, completionTokens, totalTokens}. */
export function mockChat(messages, system) {
  const reply = mockReply(lastUserContent(messages));
  const promptTokens = promptTokensFor(messages, system);
  const completionTokens = countTokens(reply);
  return { reply, promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}

// ---------------------------------------------------------------------------------------------
// base64 (hand-written so it needs neither Buffer nor btoa/atob string juggling)

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_LOOKUP = (() => {
  const t = new Int16Array(256).fill(-1);
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i;
  t["-".charCodeAt(0)] = 62; // accept base64url too
  t["_".charCodeAt(0)] = 63;
  return t;
})();

export function bytesToBase64(bytes) {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += `${B64[(n >> 18) & 63] + B64[(n >> 12) & 63]}==`;
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += `${B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63]}=`;
  }
  return out;
}

/** Decode standard or URL-safe base64 (padding optional, whitespace ignored). Throws on bad input. */
export function base64ToBytes(b64) {
  const clean = String(b64).replace(/[\s=]+/g, "");
  if (clean.length % 4 === 1) throw new Error("invalid base64 length");
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let o = 0;
  let buf = 0;
  let bits = 0;
  for (let i = 0; i < clean.length; i++) {
    const v = B64_LOOKUP[clean.charCodeAt(i)];
    if (v === undefined || v < 0) throw new Error(`invalid base64 character at ${i}`);
    buf = ((buf << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buf >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

export function base64FromText(text) {
  return bytesToBase64(utf8Encode(text));
}

export function textFromBase64(b64) {
  return utf8Decode(base64ToBytes(b64));
}
