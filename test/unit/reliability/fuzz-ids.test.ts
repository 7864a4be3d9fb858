// The hostile-input fuzzer, extended (issue 13): generated `voiceId` and `model` values that try to
// change the shape of a provider's URL — `..`, `?`, `#`, `%`, a backslash, a control character, a `/`
// where the provider's path takes none — hidden among ordinary characters, on every speech and chat
// provider. API.md §4.1: each gets 400 `validation_failed`, and no provider is called at all.
// (test/unit/reliability/upstream-ids.test.ts has the table of named cases; this one generates them.)
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { marker, upstreamRequests } from "../../helpers/api";
import { call, keyOf, userOn } from "../../helpers/reliability";

const SPEECH = ["elevenlabs", "openai", "cartesia", "deepgram", "fishaudio", "inworld", "resembleai", "huggingface"];
const CHAT = ["openai", "anthropic", "groq", "huggingface"];
/** What no id may carry (API.md §4.1). `/` only where it would be a path segment of its own. */
const HAZARDS = ["..", "?", "#", "%", "%2e%2e", "\\", "\u0000", "\n", "\r", "\t", "\u001f", "\u007f"];
const RUNS = 240;
const ORDINARY = fc.string({ unit: fc.constantFrom(..."abcXYZ019-_.:"), maxLength: 12 });

let key: string;
beforeEach(async () => {
  // A fresh key per test, on the plan with room for every generated request in one minute.
  key = (await keyOf(await userOn("scale"))).key;
});

/** An id with one hazard somewhere among ordinary characters (a lone "." next to the hazard stays "."). */
const hostile = (hazards: string[]) => fc.tuple(ORDINARY, fc.constantFrom(...hazards), ORDINARY).map(([a, h, b]) => `${a}${h}${b}`);

async function expectRefused(res: Response, what: string) {
  const body = (await res.json()) as any;
  expect(res.status, `${what}: ${JSON.stringify(body)}`).toBe(400);
  expect(body.error.code, what).toBe("validation_failed");
}

describe("generated voiceId and model values never reach a provider", () => {
  it(`voiceId on every speech provider (${RUNS} generated)`, async () => {
    const mark = marker();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SPEECH), hostile([...HAZARDS, "/"]), async (provider, voiceId) => {
        sent++;
        const res = await call("/v1/synthesize", {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, [`x-provider-key-${provider}`]: "byok-fuzz" },
          json: { provider, voiceId, text: `fuzz ${mark}` },
        });
        await expectRefused(res, `${provider} voiceId ${JSON.stringify(voiceId)}`);
      }),
      { numRuns: RUNS },
    );
    expect(sent).toBe(RUNS);
    for (const p of SPEECH) expect(JSON.stringify(await upstreamRequests(p))).not.toContain(mark);
  });

  it(`model on every chat provider and on the OpenAI-compatible route (${RUNS} generated)`, async () => {
    const mark = marker();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CHAT), hostile(HAZARDS), fc.boolean(), async (provider, model, compat) => {
        const headers = { authorization: `Bearer ${key}`, [`x-provider-key-${provider}`]: "byok-fuzz" };
        const messages = [{ role: "user", content: `fuzz ${mark}` }];
        const res = compat
          ? await call("/v1/chat/completions", { method: "POST", headers, json: { model: `${provider}/${model}`, messages } })
          : await call("/v1/chat", { method: "POST", headers, json: { provider, model, messages } });
        if (compat) {
          // The OpenAI-compatible route answers in OpenAI's error shape (API.md §4.3).
          const body = (await res.json()) as any;
          expect(res.status, `${provider}/${JSON.stringify(model)}: ${JSON.stringify(body)}`).toBe(400);
          expect(body.error.code).toBe("validation_failed");
        } else await expectRefused(res, `${provider} model ${JSON.stringify(model)}`);
      }),
      { numRuns: RUNS },
    );
    for (const p of CHAT) expect(JSON.stringify(await upstreamRequests(p))).not.toContain(mark);
  });

  it("ids that merely look odd still work: dots, dashes, colons, and org/model where the provider takes it", async () => {
    const ok = [
      { path: "/v1/synthesize", provider: "elevenlabs", json: { voiceId: "v1.2-beta_x:y" } },
      { path: "/v1/chat", provider: "groq", json: { model: "meta-llama/llama-4-scout-17b-16e-instruct" } },
      { path: "/v1/chat", provider: "huggingface", json: { model: "meta-llama/Llama-4-Scout-17B-16E-Instruct" } },
    ];
    for (const c of ok) {
      const res = await call(c.path, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, [`x-provider-key-${c.provider}`]: "byok-fuzz" },
        json:
          c.path === "/v1/synthesize"
            ? { provider: c.provider, text: "fine", ...c.json }
            : { provider: c.provider, messages: [{ role: "user", content: "fine" }], ...c.json },
      });
      expect(res.status, `${c.provider} ${JSON.stringify(c.json)}: ${res.status}`).toBe(200);
      await res.arrayBuffer();
    }
  });
});
