// Reading a transcription request, whichever way it comes: multipart (file + fields), raw audio bytes
// (fields in the query), or JSON with an audioUrl. Shared by /v1/transcribe and /v1/audio/transcriptions.
import type { Ctx } from "../context";
import { Fallback, type FallbackEntry } from "../gateway/failover";
import { invalidAudioUrl, type TranscribeRequest } from "../gateway/transcribe";
import { ApiError } from "../http/errors";
import { mediaType } from "../http/media-type";
import { checkPublicUrl } from "../http/public-url";
import { TranscribeFields, TranscribeJson } from "./gateway";
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
    const fields = checkedFields({ provider: field("provider"), model: field("model"), language: field("language") });
    return {
      audio:
        file instanceof File
          ? { data: file, filename: file.name || "audio", contentType: file.type || "application/octet-stream" }
          : undefined,
      audioUrl: file instanceof File ? undefined : checkedAudioUrl(c, audioUrl),
      ...fields,
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
    const query = (name: string) => c.req.query(name) || undefined; // an empty parameter names nothing
    const fields = checkedFields({ provider: query("provider"), model: query("model"), language: query("language") });
    const data = await c.req.blob();
    if (data.size === 0) throw validationError([{ path: ["body"], message: "Empty audio body" }]);
    return { audio: { data, filename: "audio", contentType: type }, ...fields };
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

/**
 * Provider, model and language named by multipart fields or the query: the JSON body's rules (API.md
 * §4.1 for the model; lengths bounded as there, so nothing unbounded is echoed back or sent upstream).
 */
function checkedFields(fields: { provider?: string; model?: string; language?: string }) {
  const parsed = TranscribeFields.safeParse(fields);
  if (!parsed.success) throw validationError(parsed.error.issues);
  return parsed.data;
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
