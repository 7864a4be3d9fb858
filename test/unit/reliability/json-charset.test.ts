// A JSON body is UTF-8 (RFC 8259 §8.1; API.md §8): a Content-Type naming another charset is 415
// unsupported_media_type, and bytes that are not UTF-8 are 400 invalid_json — never decoded leniently into
// U+FFFD, sent to the provider and charged. Checked once, where the envelope reads a JSON body
// (src/http/envelope.ts), so it holds on every route that reads JSON; the portal sign-in reads its own.
import { describe, expect, it } from "vitest";
import { BASE, bearer, marker, upstreamRequests } from "../../helpers/api";
import { backgroundDone, call, keyOf, ledgerOf, newPhone, userOn } from "../../helpers/reliability";

const latin1 = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
const utf8 = (s: string) => new TextEncoder().encode(s);
/** `{"text":"<tag> <bad>","provider":"openai"}` with `bad` spliced in as raw bytes. */
const withBytes = (tag: string, bad: number[]) => {
  const [head, tail] = [utf8(`{"text":"${tag} `), utf8(`","provider":"openai"}`)];
  return Uint8Array.from([...head, ...bad, ...tail]);
};

async function synthesize(auth: Record<string, string>, contentType: string | undefined, body: Uint8Array) {
  const headers: Record<string, string> = { ...auth };
  if (contentType !== undefined) headers["content-type"] = contentType;
  return call("/v1/synthesize", { method: "POST", headers, body });
}

/** Requests the mock recorded for `provider` carrying `tag` (the mock is shared by files running at once). */
async function upstreamWith(provider: string, tag: string) {
  return (await upstreamRequests(provider)).filter((r) => JSON.stringify(r).includes(tag));
}

async function expectNothingCharged(userId: string) {
  await backgroundDone();
  const ledger = await ledgerOf(userId);
  expect([ledger.usedMc, ledger.reservedMc]).toEqual([0, 0]);
}

describe("JSON bodies are UTF-8", () => {
  it("a charset other than UTF-8 (any case, quoted or not) → 415 unsupported_media_type; nothing sent, nothing charged", async () => {
    const u = await userOn("scale");
    const auth = bearer((await keyOf(u)).key);
    for (const type of [
      "application/json; charset=iso-8859-1",
      'application/json;charset="ISO-8859-1"',
      "application/json; Charset = windows-1252",
      'application/json; charset="utf-16"',
      "application/json; charset=UTF-16LE",
      "application/json; charset=",
    ]) {
      const tag = marker();
      const res = await synthesize(auth, type, latin1(`{"text":"caf\xE9 latin1 ${tag}","provider":"openai"}`));
      expect(res.status, `${type}: ${(await res.clone().text()).slice(0, 200)}`).toBe(415);
      const error = ((await res.json()) as any).error;
      expect(error.code, type).toBe("unsupported_media_type");
      expect(error.message, type).toMatch(/UTF-8/);
      expect(await upstreamWith("openai", tag), type).toHaveLength(0);
    }
    await expectNothingCharged(u.id);
  });

  it("bytes that are not UTF-8 (no charset, or charset=utf-8) → 400 invalid_json saying so; nothing sent, nothing charged", async () => {
    const u = await userOn("scale");
    const auth = bearer((await keyOf(u)).key);
    const cases: [string | undefined, number[]][] = [
      ["application/json", [0xc3, 0x28, 0xff]],
      ["application/json; charset=utf-8", [0xc3, 0x28, 0xff]],
      ['application/json; charset="UTF-8"', [0xe9]], // Latin-1 é undeclared
      ["application/json", [0xc0, 0xaf]], // overlong "/"
      ["application/json", [0xed, 0xa0, 0x80]], // a UTF-16 surrogate in CESU-8
      ["application/json", [0xf0, 0x9f, 0x98]], // truncated 4-byte sequence
    ];
    for (const [type, bad] of cases) {
      const tag = marker();
      const res = await synthesize(auth, type, withBytes(tag, bad));
      const what = `${type} ${bad.map((b) => b.toString(16)).join(" ")}`;
      expect(res.status, `${what}: ${(await res.clone().text()).slice(0, 200)}`).toBe(400);
      const error = ((await res.json()) as any).error;
      expect(error.code, what).toBe("invalid_json");
      expect(error.message, what).toMatch(/not UTF-8/);
      expect(await upstreamWith("openai", tag), what).toHaveLength(0);
    }
    await expectNothingCharged(u.id);
  });

  it("every route that reads JSON refuses them the same way (OpenAI's shape on its routes), the portal sign-in too", async () => {
    const u = await userOn("scale");
    const auth = bearer((await keyOf(u)).key);
    const bad = Uint8Array.from([...utf8('{"name":"caf'), 0xc3, 0x28, 0xff, ...utf8('"}')]);
    for (const path of ["/v1/chat", "/v1/chat/completions", "/v1/audio/speech", "/v1/keys", "/v1/transcribe", "/v1/agents"]) {
      for (const [type, status, code] of [
        ["application/json", 400, "invalid_json"],
        ["application/json; charset=latin1", 415, "unsupported_media_type"],
      ] as const) {
        const res = await call(path, { method: "POST", headers: { ...auth, "content-type": type }, body: bad });
        expect(res.status, `${path} ${type}: ${(await res.clone().text()).slice(0, 200)}`).toBe(status);
        const body = (await res.json()) as any;
        expect(body.error.code, `${path} ${type}`).toBe(code);
      }
    }
    // /v1/audio/transcriptions reads no JSON (multipart only, as OpenAI's): any JSON body is 415 there, its charset aside.
    for (const type of ["application/json", "application/json; charset=latin1"]) {
      const res = await call("/v1/audio/transcriptions", { method: "POST", headers: { ...auth, "content-type": type }, body: bad });
      expect(res.status, type).toBe(415);
      expect(((await res.json()) as any).error.code, type).toBe("unsupported_media_type");
    }
    const origin = { origin: new URL(BASE).origin, "cf-connecting-ip": "198.51.100.78" };
    const phone = Uint8Array.from([...utf8(`{"phoneNumber":"${newPhone()}","x":"`), 0xff, ...utf8('"}')]);
    for (const [type, status, code] of [
      ["application/json", 400, "invalid_json"],
      ["application/json; charset=iso-8859-1", 415, "unsupported_media_type"],
    ] as const) {
      const res = await call("/portal/auth/phone-number/send-otp", {
        method: "POST",
        headers: { ...origin, "content-type": type },
        body: phone,
      });
      expect(res.status, `sign-in ${type}: ${(await res.clone().text()).slice(0, 200)}`).toBe(status);
      expect(((await res.json()) as any).error.code).toBe(code);
    }
    const keys = (await (await call("/v1/keys", { headers: auth })).json()) as any;
    expect(keys.apiKeys).toHaveLength(1); // no key was created by the refused bodies
    await expectNothingCharged(u.id);
  });

  it("UTF-8 (declared or not, a BOM allowed) reaches the provider exactly as sent", async () => {
    const u = await userOn("scale");
    const auth = bearer((await keyOf(u)).key);
    for (const type of [
      "application/json",
      "application/json; charset=UTF-8",
      'application/json;charset="utf-8"',
      "application/json; charset=utf8",
    ]) {
      const tag = marker();
      const text = `café ☕ 😀 ${tag}`;
      const res = await synthesize(auth, type, utf8(`\ufeff${JSON.stringify({ text, provider: "openai" })}`));
      expect(res.status, `${type}: ${(await res.clone().text()).slice(0, 200)}`).toBe(200);
      await res.arrayBuffer();
      const [sent] = await upstreamWith("openai", tag);
      expect(sent?.body?.input, type).toBe(text);
    }
  });
});
