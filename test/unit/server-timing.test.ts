// Server-Timing (API.md §5): a proxied answer says what the gateway itself added and how long the provider
// took to its first byte; a request that proxies nothing carries no such header.
import { describe, expect, it } from "vitest";
import { call, fault, userOn } from "../helpers/reliability";

function parse(header: string | null): Record<string, number> {
  return Object.fromEntries(
    (header ?? "").split(",").map((part) => {
      const [name, dur] = part.trim().split(";dur=");
      return [name, Number(dur)];
    }),
  );
}

describe("Server-Timing", () => {
  it("speech, chat and transcription carry gateway and upstream durations", async () => {
    const user = await userOn("pro");
    const auth = { authorization: `Bearer ${user.jwt}` };
    const form = new FormData();
    form.append("file", new File([new Uint8Array(3000)], "a.bin"));
    form.append("provider", "deepgram");
    const answers = [
      await call("/v1/synthesize", { method: "POST", headers: auth, json: { provider: "cartesia", text: "timing" } }),
      await call("/v1/chat", {
        method: "POST",
        headers: auth,
        json: { provider: "openai", model: "gpt-4.1-mini", messages: [{ role: "user", content: "hi" }] },
      }),
      await call("/v1/transcribe", { method: "POST", headers: auth, body: form }),
    ];
    for (const res of answers) {
      expect(res.status).toBe(200);
      const timing = parse(res.headers.get("server-timing"));
      expect(Object.keys(timing).sort()).toEqual(["gateway", "upstream"]);
      expect(timing.gateway).toBeGreaterThanOrEqual(0);
      expect(timing.upstream).toBeGreaterThanOrEqual(0);
      await res.arrayBuffer();
    }
  });

  it("a provider that timed out or could not be reached: upstream is how long it was waited for", async () => {
    const user = await userOn("pro");
    const auth = { authorization: `Bearer ${user.jwt}` };
    for (const mode of ["timeout", "reset"]) {
      const text = `timing ${mode} ${crypto.randomUUID()}`;
      await fault({ provider: "cartesia", bodyIncludes: text, mode, delayMs: 5_000 });
      const res = await call("/v1/synthesize", { method: "POST", headers: auth, json: { provider: "cartesia", text } });
      expect(res.status).toBe(mode === "timeout" ? 504 : 502);
      const timing = parse(res.headers.get("server-timing"));
      expect(Object.keys(timing).sort(), mode).toEqual(["gateway", "upstream"]);
      expect(timing.upstream).toBeGreaterThanOrEqual(0);
      await res.arrayBuffer();
    }
  });

  it("a request that proxies nothing has none", async () => {
    const user = await userOn("free");
    const res = await call("/v1/me", { headers: { authorization: `Bearer ${user.jwt}` } });
    expect(res.headers.get("server-timing")).toBeNull();
  });
});
