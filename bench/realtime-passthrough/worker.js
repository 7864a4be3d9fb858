// The least any Worker can add to a realtime session: relay a WebSocket to the mock provider frame for
// frame (the same path and headers, no auth, no metering, no protocol translation). bench/realtime.mjs
// puts it beside Voxgate, so what Voxgate adds beyond the Worker hop itself can be read off.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const headers = { upgrade: "websocket" };
    for (const h of ["authorization", "xi-api-key"]) {
      const v = request.headers.get(h);
      if (v) headers[h] = v;
    }
    const res = await fetch(env.MOCK_ORIGIN + url.pathname + url.search, { headers });
    const upstream = res.webSocket;
    if (!upstream) return new Response(`upstream refused: ${res.status}`, { status: 502 });
    upstream.accept();
    upstream.binaryType = "arraybuffer";
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.binaryType = "arraybuffer";
    server.addEventListener("message", (e) => upstream.send(e.data));
    upstream.addEventListener("message", (e) => server.send(e.data));
    const closeBoth = () => {
      for (const ws of [server, upstream]) {
        try {
          ws.close(1000, "");
        } catch {}
      }
    };
    server.addEventListener("close", closeBoth);
    upstream.addEventListener("close", closeBoth);
    return new Response(null, { status: 101, webSocket: client });
  },
};
