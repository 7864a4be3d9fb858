// Reading a transcription request, whichever way it comes: multipart (file + fields), raw audio bytes
// (fields in the query), or JSON with an audioUrl. Shared by /v1/transcribe and /v1/audio/transcriptions.
import type { Ctx } from "../context";
import { Fallback, type FallbackEntry } from "../gateway/failover";
import { invalidAudioUrl, type TranscribeRequest } from "../gateway/transcribe";
import { uploadRefusal } from "../http/envelope";
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
    // A client gone mid-upload (or a broken stream) is the 400 a multipart body's gets, never an unhandled 500.
    const data = await c.req.blob().catch(() => Promise.reject(new ApiError("bad_request", "The audio body could not be read.")));
    if (data.size === 0) throw validationError([{ path: ["body"], message: "Empty audio body" }]);
    return { audio: { data, filename: "audio", contentType: type }, ...fields };
  }
  // No body (or none the envelope looked at): the route's own 415, naming only what it takes — multipart alone
  // on /v1/audio/transcriptions (src/http/envelope.ts, UPLOAD_ROUTES).
  throw new ApiError("unsupported_media_type", uploadRefusal(c.req.path));
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

/**
 * Parts a transcription's multipart body may have: the file and its fields (repeated ones such as
 * `timestamp_granularities[]` included) are far fewer. A body of many tiny parts costs the runtime's
 * form parser seconds of CPU (200,000 empty parts fit in 25 MiB: ~3.3 s), so it is refused before parsing.
 */
export const MAX_MULTIPART_PARTS = 64;

/** Each request's multipart body, parsed once: the OpenAI route reads its fields from the same parse. */
const forms = new WeakMap<object, Promise<FormData>>();

export function formOf(c: Ctx): Promise<FormData> {
  let form = forms.get(c.req);
  if (!form) {
    form = parseForm(c);
    forms.set(c.req, form);
  }
  return form;
}

async function parseForm(c: Ctx): Promise<FormData> {
  const unreadable = () => new ApiError("bad_request", "The multipart body could not be read.");
  const boundary = /;\s*boundary="?([^";]+)"?/i.exec(c.req.header("content-type") ?? "")?.[1];
  if (!boundary) throw unreadable();
  // Read once (Hono keeps the bytes and formData() parses them), counted before the parser sees them.
  const bytes = await c.req.arrayBuffer().catch(() => Promise.reject(unreadable()));
  if (occurrences(new Uint8Array(bytes), new TextEncoder().encode(`--${boundary}`)) - 1 > MAX_MULTIPART_PARTS) {
    throw validationError([{ path: ["body"], message: `At most ${MAX_MULTIPART_PARTS} multipart parts (the file and its fields)` }]);
  }
  try {
    return await c.req.formData();
  } catch {
    throw unreadable();
  }
}

/** How often `needle` occurs in `bytes`, counting no further than a refusal needs. */
function occurrences(bytes: Uint8Array, needle: Uint8Array): number {
  let count = 0;
  const first = needle[0];
  for (
    let at = bytes.indexOf(first as number);
    at !== -1 && count <= MAX_MULTIPART_PARTS + 1;
    at = bytes.indexOf(first as number, at + 1)
  ) {
    let i = 1;
    while (i < needle.length && bytes[at + i] === needle[i]) i++;
    if (i === needle.length) {
      count++;
      at += needle.length - 1;
    }
  }
  return count;
}
