// Opening a provider's WebSocket from the Worker: `fetch(http(s) URL, { headers: { Upgrade: "websocket" } })`
// and `resp.webSocket.accept()` (Workers open outbound WebSockets this way; the ws:/wss: URL a client
// library would use is the same base URL with its scheme swapped). A refused upgrade is the provider's
// HTTP error answer: passed on as 502 with its status and message, its key never.
// The time to the provider's upgrade answer (101 or an error) is the request's `upstream` in Server-Timing
// (API.md §5), as a provider's first byte is for an HTTP request.
import type { AppVariables } from "../context";
import { readTextPrefix } from "../http/body";
import { ApiError } from "../http/errors";
import { PROVIDER_ERROR_BODY_MAX_BYTES, providerText } from "../providers/provider-text";
import type { ProviderAdapter } from "../providers/types";
import type { UpstreamTarget } from "./providers/types";

export async function connectUpstream(
  adapter: ProviderAdapter,
  target: UpstreamTarget,
  key: string,
  timeoutMs: number,
  timing?: AppVariables["timing"],
): Promise<WebSocket> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let res: Response;
  try {
    if (timing) timing.upstreamStart = performance.now();
    // Never a redirect: it would take the provider's key to whatever host it names (a 3xx is a refusal, below).
    res = await fetch(target.url, { headers: { ...target.headers, upgrade: "websocket" }, redirect: "manual", signal: abort.signal });
    if (timing) timing.upstreamFirstByte = performance.now();
  } catch (e) {
    if (abort.signal.aborted) {
      throw new ApiError("provider_timeout", `${adapter.name} did not answer within ${timeoutMs} ms.`, { provider: adapter.id });
    }
    const why = providerText(String((e as Error)?.message ?? e), key);
    throw new ApiError("provider_unreachable", `Could not reach ${adapter.name}: ${why}`, { provider: adapter.id });
  } finally {
    clearTimeout(timer);
  }
  const ws = res.webSocket;
  if (!ws) {
    const body = await readTextPrefix(res.body, PROVIDER_ERROR_BODY_MAX_BYTES).catch(() => "");
    const message = providerText(adapter.errorMessage(res.status, body) ?? "", key) || `HTTP ${res.status}`;
    throw new ApiError("provider_error", `${adapter.name} refused the WebSocket with ${res.status}: ${message}`, {
      provider: adapter.id,
      providerStatus: res.status,
      providerMessage: message,
    });
  }
  ws.accept();
  ws.binaryType = "arraybuffer"; // newer compatibility dates deliver binary frames as Blobs otherwise
  return ws;
}
