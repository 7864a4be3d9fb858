// The HTTP envelope of a request with a body, checked before anything reads it: the content type, its
// charset and coding (415) and the size (413) for the route; a JSON body is read here, once, as UTF-8 (400
// when it is not), for the route's validator to parse.
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../context";
import { readJsonText } from "./body";
import { ApiError } from "./errors";
import { mediaType } from "./media-type";

/** Body size limits: JSON bodies, and audio uploads for transcription. */
const JSON_BODY_MAX_BYTES = 1024 * 1024;
const UPLOAD_BODY_MAX_BYTES = 25 * 1024 * 1024;
type UploadRoute = { takes: (type: string) => boolean; refusal: string };
/**
 * Routes whose body is an audio upload rather than JSON (25 MiB), the bodies each takes, and its 415 saying
 * exactly those: /v1/transcribe takes multipart, the audio bytes or JSON with an audioUrl; the OpenAI-compatible
 * /v1/audio/transcriptions takes multipart only, as OpenAI's API does (its form is the SDK's).
 */
const TRANSCRIBE: UploadRoute = {
  takes: (type) =>
    type === "application/json" || type === "multipart/form-data" || type.startsWith("audio/") || type === "application/octet-stream",
  refusal: "Send multipart/form-data, the audio bytes (audio/*), or application/json with an audioUrl.",
};
const UPLOAD_ROUTES: Record<string, UploadRoute> = {
  "/v1/transcribe": TRANSCRIBE,
  "/v1/audio/transcriptions": {
    takes: (type) => type === "multipart/form-data",
    refusal: "Send multipart/form-data (file, model and the other fields), as OpenAI's API takes it.",
  },
};

export const envelope: MiddlewareHandler<AppEnv> = async (c, next) => {
  const method = c.req.method;
  if (method !== "POST" && method !== "PUT" && method !== "PATCH") return next();
  const path = c.req.path;
  // Sign-in bodies are checked by the sign-in route itself (src/portal/sign-in.ts).
  if (path.startsWith("/portal/auth/")) return next();
  const upload = Object.hasOwn(UPLOAD_ROUTES, path) ? UPLOAD_ROUTES[path] : undefined;
  const length = c.req.header("content-length");
  const hasBody = length !== undefined ? length !== "0" : c.req.raw.body !== null;
  const contentType = c.req.header("content-type");
  const type = mediaType(contentType);
  const json = hasBody && type === "application/json";
  if (hasBody) {
    // A compressed body would reach the provider (and be charged) as it is: only identity is taken.
    const coding = c.req.header("content-encoding")?.trim().toLowerCase();
    if (coding && coding !== "identity")
      throw new ApiError("unsupported_media_type", `Content-Encoding ${coding} is not accepted: send the body uncompressed.`);
    const ok = upload ? upload.takes(type) : type === "application/json";
    if (!ok) throw new ApiError("unsupported_media_type", upload ? upload.refusal : "Send the body as application/json.");
  }
  if (json) {
    const text = await cacheJsonText(c, upload ? UPLOAD_BODY_MAX_BYTES : JSON_BODY_MAX_BYTES, upload ? "25 MiB" : "1 MiB");
    if (contentType !== "application/json") normalizeJsonType(c, text);
    return next();
  }
  return (upload ? uploadLimit : jsonLimit)(c, next);
};

/**
 * A JSON body, counted while it is read (413 past the cap, declared or streamed), decoded as strict UTF-8
 * (400 invalid_json otherwise: never U+FFFD sent to a provider and charged). The text goes where Hono's
 * c.req.json() / text() look first (its body cache, which holds promises), so the route's validator parses
 * it without reading or decoding the body again.
 */
async function cacheJsonText(c: Context<AppEnv>, maxBytes: number, shown: string): Promise<string> {
  let text: string;
  try {
    text = await readJsonText(c.req.raw, maxBytes, shown);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    // The client went away mid-body, or the stream broke: what Hono's own reader answered (400).
    throw new ApiError("invalid_json", "The body could not be read.");
  }
  (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
  return text;
}

/**
 * Past this point the body is JSON by the envelope's reading of the header (mediaType: RFC 9110 §5.6.6 lets
 * parameters be empty, `application/json;` or `application/json ;;charset=utf-8`), its charset checked and its
 * text cached. @hono/zod-openapi's route gate tests the raw header with a stricter pattern of its own (no
 * empty parameter, no space before `;`) and would answer 415 to what was accepted here, so the routes see the
 * header as read: `application/json`. The request keeps its URL, method, every other header and its body (the
 * text already read: the validator takes it from the cache; anything reading the raw request still finds it —
 * a GET or HEAD cannot carry one, and nothing reads theirs).
 */
function normalizeJsonType(c: Context<AppEnv>, text: string): void {
  const raw = c.req.raw;
  const headers = new Headers(raw.headers);
  headers.set("content-type", "application/json");
  headers.delete("content-length"); // the text's own (a BOM the read dropped is not in it)
  const body = raw.method === "GET" || raw.method === "HEAD" ? undefined : text;
  c.req.raw = new Request(raw.url, { method: raw.method, headers, body, signal: raw.signal });
}

/** The 415 of an upload route, saying what that route takes (/v1/transcribe's for a path that is none). */
export function uploadRefusal(path: string): string {
  return (Object.hasOwn(UPLOAD_ROUTES, path) ? UPLOAD_ROUTES[path] : undefined)?.refusal ?? TRANSCRIBE.refusal;
}

/**
 * The size limits, built once (a middleware per request would be rebuilt for nothing). A body without a
 * Content-Length is read here, counted: a client gone mid-body (or a broken stream) is a 400, as everywhere
 * a body is read — never the read's own error as a 500. What the route after it throws passes untouched.
 */
const sizeLimit = (maxSize: number, shown: string): MiddlewareHandler<AppEnv> => {
  const limit = bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError("payload_too_large", `The body is larger than ${shown}.`);
    },
  });
  return async (c, next) => {
    let routed = false;
    try {
      return await limit(c, () => {
        routed = true;
        return next();
      });
    } catch (e) {
      if (routed || e instanceof ApiError) throw e;
      throw new ApiError("bad_request", "The body could not be read.");
    }
  };
};
const jsonLimit = sizeLimit(JSON_BODY_MAX_BYTES, "1 MiB");
const uploadLimit = sizeLimit(UPLOAD_BODY_MAX_BYTES, "25 MiB");
