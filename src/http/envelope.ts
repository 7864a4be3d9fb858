// The HTTP envelope of a request with a body, checked before anything reads it: the content type and
// coding (415) and the size (413) for the route.
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../context";
import { ApiError } from "./errors";
import { mediaType } from "./media-type";

/** Body size limits: JSON bodies, and audio uploads for transcription. */
const JSON_BODY_MAX_BYTES = 1024 * 1024;
const UPLOAD_BODY_MAX_BYTES = 25 * 1024 * 1024;
/** Routes whose body may be multipart or raw audio rather than JSON. */
const UPLOAD_ROUTES = new Set(["/v1/transcribe", "/v1/audio/transcriptions"]);

export const envelope: MiddlewareHandler<AppEnv> = async (c, next) => {
  const method = c.req.method;
  if (method !== "POST" && method !== "PUT" && method !== "PATCH") return next();
  const path = c.req.path;
  // Sign-in bodies are checked by the sign-in route itself (src/portal/sign-in.ts).
  if (path.startsWith("/portal/auth/")) return next();
  const upload = UPLOAD_ROUTES.has(path);
  const length = c.req.header("content-length");
  const hasBody = length !== undefined ? length !== "0" : c.req.raw.body !== null;
  const type = mediaType(c.req.header("content-type"));
  if (hasBody) {
    // A compressed body would reach the provider (and be charged) as it is: only identity is taken.
    const coding = c.req.header("content-encoding")?.trim().toLowerCase();
    if (coding && coding !== "identity")
      throw new ApiError("unsupported_media_type", `Content-Encoding ${coding} is not accepted: send the body uncompressed.`);
    const ok =
      type === "application/json" ||
      (upload && (type === "multipart/form-data" || type.startsWith("audio/") || type === "application/octet-stream"));
    if (!ok)
      throw new ApiError(
        "unsupported_media_type",
        upload ? "Send multipart/form-data, the audio bytes (audio/*), or application/json." : "Send the body as application/json.",
      );
  }
  return (upload ? uploadLimit : jsonLimit)(c, next);
};

/** The size limits, built once (a middleware per request would be rebuilt for nothing). */
const sizeLimit = (maxSize: number, shown: string) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError("payload_too_large", `The body is larger than ${shown}.`);
    },
  });
const jsonLimit = sizeLimit(JSON_BODY_MAX_BYTES, "1 MiB");
const uploadLimit = sizeLimit(UPLOAD_BODY_MAX_BYTES, "25 MiB");
