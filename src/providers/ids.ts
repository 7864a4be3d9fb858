// Voice and model ids as callers send them (API.md §4.1): they never change the shape of a provider's
// URL. One rule for every route that takes them (the request schemas, the OpenAI-compatible model
// names, multipart and query fields, fallback entries), and adapters that put an id into a path check it
// again with the same rule (wire.ts pathSegment, hubModelPath) — agents stored earlier included.
//
// Refused anywhere: `..`, `?`, `#`, `%`, a backslash, a control character, a lone surrogate, and `/`-separated parts that
// are empty or `.` (a leading, trailing or doubled `/`). A voice id never contains `/` (every provider
// puts voices in one path segment, a query parameter or the body). A model id may: model ids travel in
// the body or the query — where `/` changes nothing — except Hugging Face's, which name a Hub repo
// `org/name` in the path (two segments, checked by its adapter).
import { z } from "zod";

// Unicode's Cc category: C0, DEL and C1 control characters; Cs: a lone surrogate (no UTF-8 for it: a URL
// cannot carry it — encodeURIComponent throws — and a body would carry U+FFFD instead).
const FORBIDDEN = /[?#%\\\p{Cc}\p{Cs}]/u;
const ID_MAX = 200;

/** Why `value` may not go to a provider, or undefined when it may. */
export function upstreamIdProblem(value: string, slash: boolean): string | undefined {
  if (FORBIDDEN.test(value)) return "must not contain ?, #, %, a backslash, a control character or a lone surrogate";
  if (value.includes("..")) return "must not contain ..";
  const parts = value.split("/");
  if (!slash && parts.length > 1) return "must not contain /";
  if (parts.some((p) => p === "" || p === ".")) return "must not start or end with /, contain //, or be or contain a . segment";
  return undefined;
}

const id = (slash: boolean) =>
  z
    .string()
    .min(1)
    .max(ID_MAX)
    .superRefine((v, ctx) => {
      const problem = upstreamIdProblem(v, slash);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });

/** A voice id: one path segment's worth, whichever provider it goes to. */
export const VoiceId = id(false);
/** A model id: may contain `/` (Hugging Face `org/name`, Groq `meta-llama/…`). */
export const ModelId = id(true);
