// The caller's own provider key (BYOK, API.md §3): the X-Provider-Key-<Name> header, read in one place for
// the HTTP gateway and realtime sessions alike.
import type { Ctx } from "../context";
import { ApiError } from "../http/errors";
import { byokHeader } from "../providers/registry";
import type { ProviderAdapter } from "../providers/types";

/**
 * The caller's own key for the provider (its X-Provider-Key-<Name> header), or undefined when none was
 * sent. A header that was sent but holds no usable key — empty (an unset variable in the caller's code),
 * two values joined by a comma (the header sent twice), characters no provider key has — is a 400: never
 * silently replaced by the platform's metered key, never forwarded mangled.
 */
export function byokOf(c: Ctx, adapter: ProviderAdapter): string | undefined {
  const header = byokHeader(adapter);
  const value = c.req.header(header);
  if (value === undefined) return undefined;
  const key = value.trim();
  if (/^[\x21-\x2b\x2d-\x7e]+$/.test(key)) return key;
  const why = key === "" ? "is empty" : key.includes(",") ? "holds more than one key (sent twice?)" : "has characters no provider key has";
  throw new ApiError(
    "validation_failed",
    `${header} ${why}: send one ${adapter.name} key, or leave the header out to use the platform's.`,
    {
      fields: [{ path: header, message: why }],
    },
  );
}
