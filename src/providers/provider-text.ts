// A provider's own text as a client may see it (API.md §8: "its status and message are passed on, its key
// never"): the one function every path uses — error answers (502), a chat stream's error event, speech
// that failed before its audio, a realtime session's error event, a refused WebSocket upgrade.
//
// Bounded: a provider (or whatever answers at its base URL) can send megabytes of error text; the client
// gets at most PROVIDER_TEXT_MAX_CHARS of it, and only a window a little longer than that is ever
// scanned (so a hostile text costs a fixed amount of work, whatever its length).
// Redacted: the key used for the call (as sent, URL-encoded, base64 as in Basic auth, and its first or
// last 12 characters), and anything shaped like a credential — an Authorization value, a JWT, a known
// key prefix (sk-, sk_, gsk_, hf_, plabs_, vgt_, …) or a long random-looking token — since a provider may
// echo another credential than the one Voxgate sent (a BYOK key it was given earlier, a key from its
// own logs).

/** Longest provider text passed on to the client. */
export const PROVIDER_TEXT_MAX_CHARS = 500;

/** How much of a provider's error body is read at all (its message is in the first part of any real one). */
export const PROVIDER_ERROR_BODY_MAX_BYTES = 64 * 1024;

/** How far past the bound a text is scanned, so a credential straddling the cut is still recognised. */
const SCAN_MARGIN = 512;
const REDACTED = "[redacted]";

const SECRET_SHAPES: [RegExp, string][] = [
  // An Authorization value: "Bearer abc…", "Token abc…", "Basic abc…"
  [/\b(Bearer|Token|Basic)(\s+)[A-Za-z0-9._~+/=-]{6,}/gi, `$1$2${REDACTED}`],
  // A JWT (header.payload[.signature]), base64url
  [/\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*)?/g, REDACTED],
  // Known key prefixes: OpenAI/Anthropic sk-…, ElevenLabs sk_…, Cartesia sk_car_…, Groq gsk_…, Hugging Face
  // hf_…, xAI xai-…, Google AIza…, Voxgate's own plabs_/sona_sk_/vgt_ keys and tokens
  [/(?<![A-Za-z0-9])(?:sk|rk|pk|gsk|hf|xai|plabs|sona_sk|vgt|whsec)[-_][A-Za-z0-9_-]{6,}/gi, REDACTED],
  [/\bAIza[A-Za-z0-9_-]{20,}/g, REDACTED],
  // A long random-looking token (Deepgram's 40 hex characters, any opaque key): 24+ letters, digits or
  // underscores, both letters and digits among them (a UUID, in hyphenated groups, is left alone)
  [/(?<![A-Za-z0-9_])(?=[A-Za-z0-9_]{0,200}\d)(?=[A-Za-z0-9_]{0,200}[A-Za-z])[A-Za-z0-9_]{24,}/g, REDACTED],
];

/** `text` fit for a client: credentials (and `key`, in any form it was sent) redacted, at most PROVIDER_TEXT_MAX_CHARS. */
export function providerText(text: string, key?: string, maxChars = PROVIDER_TEXT_MAX_CHARS): string {
  const keyForms = key ? keySpellings(key) : [];
  const longestKey = keyForms.reduce((n, k) => Math.max(n, k.length), 0);
  let out = text.slice(0, maxChars + SCAN_MARGIN + longestKey);
  for (const form of keyForms) out = out.split(form).join(REDACTED);
  for (const [shape, replacement] of SECRET_SHAPES) out = out.replace(shape, replacement);
  return out.slice(0, maxChars);
}

/** The forms a key travels in; whole forms first, then its long fragments. */
function keySpellings(key: string): string[] {
  const forms = [key, encodeURIComponent(key)];
  try {
    forms.push(btoa(key)); // Basic auth (Inworld sends its key this way)
  } catch {
    // not Latin-1: never sent as Basic
  }
  if (key.length >= 16) forms.push(key.slice(0, 12), key.slice(-12));
  return [...new Set(forms.filter((f, i) => i === 0 || f.length >= 6))];
}
