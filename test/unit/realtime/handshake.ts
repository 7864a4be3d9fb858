// The headers of a WebSocket client's upgrade request (RFC 6455 §4.1): what the realtime routes check before
// admitting a session. Tests that call worker.fetch build the request by hand, so they send these themselves.
export const HANDSHAKE = {
  upgrade: "websocket",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", // RFC 6455's own example
  "sec-websocket-version": "13",
} as const;
