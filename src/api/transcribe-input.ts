// Reading a transcription request, whichever way it comes: multipart (file + fields), raw audio bytes
// (fields in the query), or JSON with an audioUrl. Shared by /v1/transcribe and /v1/audio/transcriptions.
import type { Ctx } from "../context";
import { Fallback, type FallbackEntry } from "../gateway/failover";
import { invalidAudioUrl, type TranscribeRequest } from "../gateway/transcribe";
import { ApiError } from "../http/errors";
import { mediaType } from "../http/media-type";
import { checkPublicUrl } from "../http/public-url";
import { upstreamIdProblem } from "../providers/ids";
import { TranscribeJson } from "./gateway";
import { validationError } from "./validation";

export async function transcribeInput(c: Ctx): Promise<TranscribeRequest> {
  const type = mediaType(c.req.header("content-type"));
  if (type === "multipart/form-data") {
    const form = await formOf(c);
    const file = form.get("file") as unknown;
    const field = (name: string) => {
      const v = form.get(name);
      return typeof v === "string" && v.length > 0 ? v : undefined;
    };
    const audioUrl = field("audioUrl");
    if (!(file instanceof File) && !audioUrl) throw validationError([{ path: ["file"], message: "Required: an audio file (or audioUrl)" }]);
    return {
      audio:
        file instanceof File
          ? { data: file, filename: file.name || "audio", contentType: file.type || "application/octet-stream" }
          : undefined,
      audioUrl: file instanceof File ? undefined : checkedAudioUrl(c, audioUrl),
      provider: field("provider"),
      model: modelId(field("model")),
      language: field("language"),
      fallback: fallbackField(field("fallback")),
    };
  }
  if (type === "application/json") {
    let json: unknown;
    try {
      json = await c.req.json();
    } catch {
      throw new ApiError("invalid_json", "The body is not valid JSON.");
    }
    const parsed = TranscribeJson.safeParse(json);
    if (!parsed.success) throw validationError(parsed.error.issues);
    return { ...parsed.data, audioUrl: checkedAudioUrl(c, parsed.data.audioUrl) };
  }
  if (type.startsWith("audio/") || type === "application/octet-stream") {
    const data = await c.req.blob();
    if (data.size === 0) throw validationError([{ path: ["body"], message: "Empty audio body" }]);
    return {
      audio: { data, filename: "audio", contentType: type },
      provider: c.req.query("provider"),
      model: modelId(c.req.query("model")),
      language: c.req.query("language"),
    };
  }
  throw new ApiError("unsupported_media_type", "Send multipart/form-data, audio bytes, or application/json with audioUrl.");
}

/**
 * An audioUrl under the public-URL policy (API.md §4.1), as soon as it is read, whichever body it came
 * in: a refused URL is answered before anything is fetched, admitted, reserved or charged. (The
 * download checks it again, and every redirect hop, in fetchPublic.)
 */
function checkedAudioUrl(c: Ctx, url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const verdict = checkPublicUrl(url, c.get("config").AUDIO_URL_ALLOW_HOSTS);
  if (!verdict.allowed) throw invalidAudioUrl(c, `${verdict.reason}: ${verdict.detail}`);
  return url;
}

/** A model named by a multipart field or the query: the same rule as the JSON schemas' (API.md §4.1). */
function modelId(value: string | undefined): string | undefined {
  const problem = value === undefined ? undefined : upstreamIdProblem(value, true);
  if (problem) throw validationError([{ path: ["model"], message: problem }]);
  return value;
}

/** A multipart `fallback` field: a JSON array, or a comma-separated list of provider ids. */
function fallbackField(value: string | undefined): FallbackEntry[] | undefined {
  if (value === undefined) return undefined;
  let list: unknown = value.split(",").map((p) => p.trim());
  if (value.trim().startsWith("[")) {
    try {
      list = JSON.parse(value);
    } catch {
      throw validationError([{ path: ["fallback"], message: "not a JSON array" }]);
    }
  }
  const parsed = Fallback.safeParse(list);
  if (!parsed.success) throw validationError(parsed.error.issues.map((i) => ({ ...i, path: ["fallback", ...i.path] })));
  return parsed.data;
}

/** The multipart body (Hono caches it: the OpenAI route reads its fields from the same parse). */
export async function formOf(c: Ctx): Promise<FormData> {
  try {
    return await c.req.formData();
  } catch {
    throw new ApiError("bad_request", "The multipart body could not be read.");
  }
}
