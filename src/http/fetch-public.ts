// Download what a caller-supplied URL points at, under the public-URL policy (public-url.ts): every
// hop is checked before it is requested (redirects are never followed blindly), the whole exchange
// has one deadline, and the body is cut off at a byte cap while it streams.
//
// Failures reach the caller as two typed errors. Whatever went wrong — refused by the policy, DNS,
// connection, a 404, a timeout — a PublicUrlUnavailable carries the same message, so the answer
// cannot be used to learn which hosts exist or answer; the reason is kept on the error for logs.
import { type AllowHosts, checkPublicUrl } from "./public-url";

/** The one message for every refused or unreachable URL (routes: 400 `invalid_audio_url`). */
export const PUBLIC_URL_UNAVAILABLE_MESSAGE = "The URL is not allowed or could not be fetched.";

export const DEFAULT_MAX_REDIRECTS = 5; // real CDNs and pre-signed links use one or two

export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

export interface FetchPublicOptions {
  allowHosts: AllowHosts;
  /** The body may be at most this long (routes: 413 `payload_too_large` beyond it). */
  maxBytes: number;
  /** One deadline for all hops and the whole body. */
  timeoutMs: number;
  maxRedirects?: number;
  /** Defaults to the global fetch; tests inject one that never leaves loopback. */
  fetch?: FetchFn;
  headers?: Record<string, string>;
  /** The caller's own cancellation (e.g. the client went away). */
  signal?: AbortSignal;
}

export interface PublicDownload {
  bytes: Uint8Array;
  /** As the server sent it; "application/octet-stream" when absent. */
  contentType: string;
  /** The URL that answered, after redirects. */
  url: string;
}

/** Refused by the policy (`kind: "refused"`) or not fetched successfully (`"unreachable"`). */
export class PublicUrlUnavailable extends Error {
  constructor(
    readonly kind: "refused" | "unreachable",
    /** For logs only: what happened, naming at most a host (never a query string). */
    readonly reason: string,
  ) {
    super(PUBLIC_URL_UNAVAILABLE_MESSAGE);
    this.name = "PublicUrlUnavailable";
  }
}

export class PublicUrlTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`The file at the URL is larger than ${maxBytes} bytes.`);
    this.name = "PublicUrlTooLarge";
  }
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** GET `url` under the policy; resolves with the bytes or throws PublicUrlUnavailable / PublicUrlTooLarge. */
export async function fetchPublic(url: string | URL, options: FetchPublicOptions): Promise<PublicDownload> {
  const fetchFn: FetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;

  let next: string | URL = url;
  for (let redirects = 0; ; redirects++) {
    const verdict = checkPublicUrl(next, options.allowHosts);
    if (!verdict.allowed) {
      throw new PublicUrlUnavailable("refused", `${redirects > 0 ? "redirect target " : ""}${verdict.reason}: ${verdict.detail}`);
    }
    const here = verdict.url;
    let res: Response;
    try {
      res = await fetchFn(here.href, { method: "GET", redirect: "manual", signal, headers: options.headers });
    } catch (e) {
      const why = deadline.aborted ? "timed out" : signal.aborted ? "cancelled by the caller" : `fetch failed (${(e as Error)?.name})`;
      throw new PublicUrlUnavailable("unreachable", `${here.host}: ${why}`);
    }
    if (REDIRECT_STATUSES.has(res.status)) {
      discard(res);
      const location = res.headers.get("location");
      if (redirects >= maxRedirects) throw new PublicUrlUnavailable("unreachable", `${here.host}: more than ${maxRedirects} redirects`);
      if (!location) throw new PublicUrlUnavailable("unreachable", `${here.host}: ${res.status} without Location`);
      try {
        next = new URL(location, here); // relative Locations resolve against the hop that sent them
      } catch {
        throw new PublicUrlUnavailable("unreachable", `${here.host}: unparsable Location`);
      }
      continue;
    }
    if (!res.ok) {
      discard(res);
      throw new PublicUrlUnavailable("unreachable", `${here.host}: HTTP ${res.status}`);
    }
    // An early verdict from the declared length; the streamed count below is what is enforced (a
    // length can be absent or wrong, and with Content-Encoding it counts the compressed bytes).
    const declared = Number(res.headers.get("content-length") ?? Number.NaN);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      discard(res);
      throw new PublicUrlTooLarge(options.maxBytes);
    }
    const bytes = await readCapped(res.body, options.maxBytes, signal, here.host);
    return { bytes, contentType: res.headers.get("content-type") ?? "application/octet-stream", url: here.href };
  }
}

function discard(res: Response): void {
  res.body?.cancel().catch(() => {});
}

/** Read a body into one buffer, cancelling the stream as soon as it passes `maxBytes` or `signal` fires. */
async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  signal: AbortSignal,
  host: string,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  // A body the test (or a server) stalls must still end at the deadline: race each read against it.
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new PublicUrlUnavailable("unreachable", `${host}: timed out reading the body`));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {}); // handled through the race below
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await Promise.race([reader.read(), aborted]);
      } catch (e) {
        if (e instanceof PublicUrlUnavailable) throw e;
        throw new PublicUrlUnavailable("unreachable", `${host}: ${signal.aborted ? "timed out reading the body" : "body failed"}`);
      }
      if (step.done) break;
      total += step.value.byteLength;
      if (total > maxBytes) throw new PublicUrlTooLarge(maxBytes);
      chunks.push(step.value);
    }
  } catch (e) {
    reader.cancel().catch(() => {}); // stop the download: nothing more of it is read
    throw e;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}
