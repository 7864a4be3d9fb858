// Reading a body a caller (or a provider) controls without ever holding more than a bound of it: a
// running count while the stream is read, the stream cancelled as soon as the count passes the bound —
// whether or not a Content-Length was sent (a chunked body has none, and a declared one can lie).
import { ApiError, invalidField } from "./errors";

/** A request's body, at most `maxBytes`; a longer one (declared or streamed) → 413 `payload_too_large`. */
export async function readCappedBody(req: Request, maxBytes: number, limitText: string): Promise<Uint8Array> {
  const tooLarge = () => new ApiError("payload_too_large", `The body is larger than ${limitText}.`);
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const bytes = await readCapped(req.body, maxBytes);
  if (bytes === null) throw tooLarge();
  return bytes;
}

/** The body as bytes, or null when it is longer than `maxBytes` (then the rest is never read). */
export async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array | null> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/** At most `maxBytes` of a body as text (UTF-8): what is beyond is never read. */
export async function readTextPrefix(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let total = 0;
  try {
    while (total < maxBytes) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      const take = value.subarray(0, maxBytes - total);
      total += take.byteLength;
      text += decoder.decode(take, { stream: true });
    }
    return text + decoder.decode();
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * A JSON body is UTF-8 (RFC 8259 §8.1): a Content-Type naming another charset (`charset=iso-8859-1`,
 * `charset="utf-16"`; case-insensitive, quotes allowed) → 415 `unsupported_media_type`. Decoded as UTF-8
 * anyway, its text would reach the provider altered (é as U+FFFD) and be charged.
 */
function refuseNonUtf8Charset(contentType: string | null | undefined): void {
  const params = contentType?.split(";").slice(1);
  if (!params?.length) return;
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const charset = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1")
      .trim()
      .toLowerCase();
    // "utf8" is the same encoding (a WHATWG label for it).
    if (charset !== "utf-8" && charset !== "utf8")
      throw new ApiError("unsupported_media_type", `A JSON body is UTF-8: charset ${charset.slice(0, 40) || "(empty)"} is not accepted.`);
  }
}

/** A fatal decoder costs what the lenient one does; one per isolate (a non-streaming decode keeps no state). */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * A JSON body's bytes as text: bytes that are not UTF-8 → 400 `invalid_json` (never replaced with U+FFFD
 * and sent on, charged). A leading byte-order mark is dropped, as Request.json() does.
 */
function utf8JsonText(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new ApiError("invalid_json", "The body is not UTF-8: a JSON body must be UTF-8 encoded.");
  }
}

/**
 * A JSON request body as text, for every reader of one (the envelope, the portal's sign-in): its declared
 * charset UTF-8 (else 415), at most `maxBytes` (else 413), strict UTF-8 (else 400 invalid_json).
 */
export async function readJsonText(req: Request, maxBytes: number, limitText: string): Promise<string> {
  refuseNonUtf8Charset(req.headers.get("content-type"));
  const text = utf8JsonText(await readCappedBody(req, maxBytes, limitText));
  refuseLoneSurrogates(text);
  return text;
}

/** A JSON escape of a UTF-16 surrogate (`\uD800`–`\uDFFF`): rare, so the exact check runs only where one is. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
/** A surrogate standing alone (with the u flag, a pair is one astral character and does not match). */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * A string that holds half of a surrogate pair (`"a\ud800b"`, valid JSON) is no text: a provider would get
 * it as U+FFFD, and D1 stores it re-encoded, so a name read back would differ from the one answered →
 * 400 validation_failed naming where it is. (Strict UTF-8 bytes carry no surrogate; only an escape can.)
 */
function refuseLoneSurrogates(text: string): void {
  if (!SURROGATE_ESCAPE.test(text)) return;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return; // not JSON (or nested past the parser's depth): the validator's 400 invalid_json
  }
  const at = loneSurrogateAt(value);
  if (at === undefined) return;
  const field = at.length > 120 ? `${at.slice(0, 120)}…` : at || "(body)"; // a path 7,000 arrays deep is not shown whole
  throw invalidField(field, "holds a lone UTF-16 surrogate (half of a pair), which is not a character");
}

/** Where the first lone surrogate is (a dotted path), walked without recursion: any depth the parser took. */
function loneSurrogateAt(root: unknown): string | undefined {
  const stack: [unknown, string][] = [[root, ""]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [value, path] = next;
    if (typeof value === "string") {
      if (LONE_SURROGATE.test(value)) return path;
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, inner] = entries[i] as [string, unknown];
      const here = path ? `${path}.${key}` : key;
      if (LONE_SURROGATE.test(key)) return here;
      stack.push([inner, here]);
    }
  }
  return undefined;
}
