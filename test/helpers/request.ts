// Request options with an optional `json` body: shared by the workerd helpers and the Node e2e client.
export type JsonInit = RequestInit & { json?: unknown };

/** RequestInit with `json` serialized as the body and its content type set. */
export function withJson(init: JsonInit = {}): RequestInit {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  let body = rest.body;
  if (json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(json);
  }
  return { ...rest, headers, body };
}
