// Provider error text (issue 13): whatever a provider sends as an error — in its error body or as an
// error event in the middle of a stream — reaches the client bounded (at most PROVIDER_TEXT_MAX_CHARS)
// and with every credential redacted: the key Voxgate used (platform or BYOK), and anything shaped like
// one (sk-…, Bearer …, a JWT, a long opaque token). The mock sends a 100 KB message full of them, aimed at
// one request by a nonce (`bodyIncludes`).
import { describe, expect, it } from "vitest";
import { PROVIDER_TEXT_MAX_CHARS, providerText } from "../../../src/providers/provider-text";
import { bearer } from "../../helpers/api";
import { call, fault, keyOf, pendingFaults, userOn } from "../../helpers/reliability";

const rand = (n: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"[b % 57]).join(
    "",
  );

/** Credentials a provider might echo, and a 100 KB error text carrying them (one straddling the cut). */
function hostileText(key: string) {
  const secrets = [
    key,
    `sk-proj-${rand(40)}`,
    `sk-ant-api03-${rand(60)}`,
    `sk_${rand(48)}`,
    `gsk_${rand(52)}`,
    `hf_${rand(34)}`,
    rand(40)
      .toLowerCase()
      .replace(/[^0-9a-f]/g, "7"), // Deepgram-style hex key
    `eyJ${rand(20)}.eyJ${rand(30)}.${rand(43)}`,
  ];
  const bearerToken = rand(32);
  const head = `Invalid API key ${key} (Authorization: Bearer ${bearerToken}); other keys seen: ${secrets.slice(1).join(", ")}. `;
  const pad = "x".repeat(Math.max(0, PROVIDER_TEXT_MAX_CHARS - 12 - head.length));
  const text = `${head}${pad}${key} ${"y".repeat(100 * 1024)} ${secrets.join(" ")}`; // the key again across the cut
  return { text, secrets: [...secrets, bearerToken] };
}

/** No secret, nor any 10-character piece of one, in `body`. */
function leaks(body: string, secrets: string[]): string[] {
  const found: string[] = [];
  for (const s of secrets)
    for (let i = 0; i + 10 <= s.length; i++) if (body.includes(s.slice(i, i + 10))) found.push(`${s} (…${s.slice(i, i + 10)}…)`);
  return [...new Set(found)];
}

const nonceOf = () => `pt${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

describe("providerText", () => {
  it("bounds any text and redacts the key in every form it travels in, and credential shapes", () => {
    const key = `platform-openai-${rand(20)}`;
    const { text, secrets } = hostileText(key);
    const out = providerText(text, key);
    expect(out.length).toBeLessThanOrEqual(PROVIDER_TEXT_MAX_CHARS);
    expect(leaks(out, secrets)).toEqual([]);
    expect(providerText(`bad key ${encodeURIComponent("k/ey+with=odd&chars")} ${btoa("k/ey+with=odd&chars")}`, "k/ey+with=odd&chars")).toBe(
      "bad key [redacted] [redacted]",
    );
    // Ordinary words, numbers and UUIDs survive.
    const plain = "Rate limit exceeded for model gpt-4o: retry in 20s (request 123e4567-e89b-12d3-a456-426614174000).";
    expect(providerText(plain, key)).toBe(plain);
  });
});

describe("provider error text reaches the client bounded and without credentials", () => {
  const chatBody = (provider: string, model: string, nonce: string, stream: boolean) => ({
    provider,
    model,
    stream,
    messages: [{ role: "user", content: `hello there ${nonce} world` }],
  });

  for (const [provider, model] of [
    ["openai", "gpt-4o-mini"],
    ["anthropic", "claude-sonnet-4"],
    ["groq", "llama-3.3-70b-versatile"],
  ] as const) {
    it(`${provider}: an error event mid-stream (platform key) → the SSE error event is bounded and redacted`, async () => {
      const user = await userOn("scale");
      const auth = bearer((await keyOf(user)).key);
      const nonce = nonceOf();
      const { text, secrets } = hostileText(`platform-${provider}-key`);
      // After the first token (Anthropic's comes 4th, after message_start, content_block_start and ping): in band.
      await fault({ provider, bodyIncludes: nonce, mode: "stream_error", afterChunks: provider === "anthropic" ? 4 : 2, message: text });
      const res = await call("/v1/chat", { method: "POST", headers: auth, json: chatBody(provider, model, nonce, true) });
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(await pendingFaults()).not.toContainEqual(expect.objectContaining({ bodyIncludes: nonce })); // the fault was used
      const events = body
        .split("\n\n")
        .filter((b) => b.startsWith("data: "))
        .map((b) => JSON.parse(b.slice(6)));
      const error = events.find((e) => e.type === "error");
      expect(error, body.slice(0, 2000)).toBeDefined();
      expect(error.error.message.length).toBeLessThanOrEqual(PROVIDER_TEXT_MAX_CHARS);
      expect(body.length).toBeLessThan(4096);
      expect(leaks(body, secrets)).toEqual([]);
    });
  }

  it("an error event before the first token (a 502, not a stream): bounded and redacted", async () => {
    const user = await userOn("scale");
    const auth = bearer((await keyOf(user)).key);
    const nonce = nonceOf();
    const { text, secrets } = hostileText("platform-anthropic-key");
    await fault({ provider: "anthropic", bodyIncludes: nonce, mode: "stream_error", afterChunks: 3, message: text });
    const res = await call("/v1/chat", { method: "POST", headers: auth, json: chatBody("anthropic", "claude-sonnet-4", nonce, true) });
    const body = await res.text();
    expect(res.status, body.slice(0, 500)).toBe(502);
    const error = JSON.parse(body).error;
    expect(error.providerMessage.length).toBeLessThanOrEqual(PROVIDER_TEXT_MAX_CHARS);
    expect(body.length).toBeLessThan(4096);
    expect(leaks(body, secrets)).toEqual([]);
  });

  it("OpenAI-compatible stream (/v1/chat/completions): the error chunk is bounded and redacted", async () => {
    const user = await userOn("scale");
    const auth = bearer((await keyOf(user)).key);
    const nonce = nonceOf();
    const { text, secrets } = hostileText("platform-openai-key");
    await fault({ provider: "openai", bodyIncludes: nonce, mode: "stream_error", afterChunks: 2, message: text });
    const res = await call("/v1/chat/completions", {
      method: "POST",
      headers: auth,
      json: { model: "openai/gpt-4o-mini", stream: true, messages: [{ role: "user", content: `hi ${nonce}` }] },
    });
    const body = await res.text();
    expect(body).toMatch(/error/);
    expect(body.length).toBeLessThan(4096);
    expect(leaks(body, secrets)).toEqual([]);
  });

  it("an error body (BYOK key; JSON 502, Voxgate's and OpenAI's shape): bounded and redacted", async () => {
    const user = await userOn("scale");
    const auth = bearer((await keyOf(user)).key);
    for (const route of ["/v1/chat", "/v1/chat/completions"]) {
      const nonce = nonceOf();
      const byok = `byok-${rand(24)}`;
      const { text, secrets } = hostileText(byok);
      await fault({ provider: "openai", bodyIncludes: nonce, mode: "error", status: 500, message: text });
      const json =
        route === "/v1/chat"
          ? chatBody("openai", "gpt-4o-mini", nonce, false)
          : { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: `hi ${nonce}` }] };
      const res = await call(route, { method: "POST", headers: { ...auth, "x-provider-key-openai": byok }, json });
      const body = await res.text();
      expect(res.status, body.slice(0, 500)).toBe(502);
      const error = JSON.parse(body).error;
      expect(error.message.length).toBeLessThanOrEqual(PROVIDER_TEXT_MAX_CHARS + 100); // "<Provider> answered 500: " + the text
      expect(body.length).toBeLessThan(4096);
      expect(leaks(body, secrets)).toEqual([]);
    }
  });
});
