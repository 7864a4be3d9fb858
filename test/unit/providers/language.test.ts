// A transcription's `language` as a caller may write it (BCP 47: en-US, pt_BR) reaches each provider as that
// provider takes it: ISO 639-1 for Whisper-style APIs (OpenAI, Groq), Cartesia (its spec's enum), ElevenLabs
// and Fish; Deepgram takes the tag as it is.
import { describe, expect, it } from "vitest";
import { languageCode } from "../../../src/providers/wire";
import { pcmWavFile } from "../../helpers/audio-signal";
import { env } from "../../helpers/env";
import { call, userOn } from "../../helpers/reliability";

const nonce = () => `n${crypto.randomUUID().replaceAll("-", "")}`;

async function sent(provider: string, filename: string): Promise<any> {
  const all = (await (await fetch(`${env.TEST_MOCK_ORIGIN}/__control/requests?provider=${provider}`)).json()) as any[];
  return all.find((r) => JSON.stringify(r.body ?? "").includes(filename) || JSON.stringify(r.query ?? "").includes(filename));
}

describe("the language a transcription names", () => {
  it("languageCode: the primary subtag, lower-cased", () => {
    expect(languageCode("en-US")).toBe("en");
    expect(languageCode("pt_BR")).toBe("pt");
    expect(languageCode("DE")).toBe("de");
    expect(languageCode("en")).toBe("en");
    expect(languageCode(undefined)).toBeUndefined();
  });

  it("en-US reaches OpenAI, Groq, Cartesia, ElevenLabs and Fish as `en`, with no spec complaint", async () => {
    const user = await userOn("pro");
    const fieldOf: Record<string, string> = {
      openai: "language",
      groq: "language",
      cartesia: "language",
      elevenlabs: "language_code",
      fishaudio: "language",
    };
    for (const [provider, field] of Object.entries(fieldOf)) {
      const filename = `clip-${nonce()}.wav`;
      const form = new FormData();
      form.append("file", new File([pcmWavFile(8000, new Int16Array(8000))], filename, { type: "audio/wav" }));
      form.append("provider", provider);
      form.append("language", "en-US");
      const res = await call("/v1/transcribe", { method: "POST", headers: { authorization: `Bearer ${user.jwt}` }, body: form });
      expect(res.status, provider).toBe(200);
      const record = await sent(provider, filename);
      expect(record?.body?.fields?.[field], provider).toBe("en");
      expect(record?.specErrors ?? [], provider).toEqual([]);
    }
  });
});
