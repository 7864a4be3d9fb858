// The Hugging Face adapter on its own (no network): hf-inference task requests, the model id as path
// segments that can never leave /hf-inference/models/, and how transcripts read.
import { describe, expect, it } from "vitest";
import { huggingface } from "../../../src/providers/huggingface";
import { hubModelPath, UnsafeUpstreamValue } from "../../../src/providers/wire";

const ctx = { urls: { api: "https://router.hf.test", hub: "https://hub.hf.test" }, key: "hf_secret" };

describe("Hugging Face adapter", () => {
  it("speech: JSON {inputs} to /hf-inference/models/{org}/{name}, raw audio back", () => {
    const { upstream, envelope } = huggingface.tts!.request(
      { text: "Hello", voiceId: "", model: "facebook/mms-tts-eng", format: "wav" },
      ctx,
    );
    expect(upstream.url).toBe("https://router.hf.test/hf-inference/models/facebook/mms-tts-eng");
    expect(upstream.init.headers.authorization).toBe("Bearer hf_secret");
    expect(JSON.parse(upstream.init.body as string)).toEqual({ inputs: "Hello" });
    expect(envelope).toEqual({ kind: "raw" });
    expect(huggingface.tts!.modelChoosesFormat).toBe(true);
  });

  it("transcription: the audio bytes as the body with their content type; {text} or [{text}] back", async () => {
    const audio = { data: new Blob([new Uint8Array([1, 2, 3])]), filename: "a.flac", contentType: "audio/flac" };
    const req = await huggingface.stt!.request({ audio, model: "openai/whisper-large-v3" }, ctx);
    expect(req.url).toBe("https://router.hf.test/hf-inference/models/openai/whisper-large-v3");
    expect(req.init.headers["content-type"]).toBe("audio/flac");
    expect(req.init.body).toBe(audio.data);
    const input = { audio, model: "m" };
    expect(huggingface.stt!.parse({ text: "hi", chunks: [] }, input)).toEqual({ text: "hi" });
    expect(huggingface.stt!.parse([{ text: "old shape" }], input)).toEqual({ text: "old shape" });
  });

  it("a model id is one or two Hub segments, percent-safe; anything that could move the path is refused", () => {
    expect(hubModelPath("gpt2")).toBe("gpt2");
    expect(hubModelPath("facebook/mms-tts-eng")).toBe("facebook/mms-tts-eng");
    expect(hubModelPath("Org_1/model.v2-b")).toBe("Org_1/model.v2-b");
    for (const bad of [
      "",
      "/x",
      "x/",
      "a/b/c",
      "..",
      "../x",
      "x/..",
      ".hidden",
      "a/.b",
      "a?b",
      "a#b",
      "a%2Fb",
      "a\\b",
      "a b",
      "a\nb",
      "ä/b",
    ]) {
      expect(() => hubModelPath(bad), JSON.stringify(bad)).toThrow(UnsafeUpstreamValue);
    }
    expect(() => huggingface.tts!.request({ text: "x", voiceId: "", model: "../../v1/chat/completions", format: "wav" }, ctx)).toThrow(
      UnsafeUpstreamValue,
    );
  });

  it("errors: {error: string}, {error: {message}}, {message}, {detail}", () => {
    expect(huggingface.errorMessage(503, JSON.stringify({ error: "Model is loading" }))).toBe("Model is loading");
    expect(huggingface.errorMessage(400, JSON.stringify({ error: { message: "bad" } }))).toBe("bad");
    expect(huggingface.errorMessage(404, JSON.stringify({ detail: "not found" }))).toBe("not found");
  });

  it("chat stream: an error event's message is read whether `error` is OpenAI's object or TGI's string", () => {
    const read = (data: string) => huggingface.llm!.readStreamEvent(undefined, data);
    expect(read(JSON.stringify({ error: "Model is overloaded", error_type: "overloaded" }))).toEqual({ error: "Model is overloaded" });
    expect(read(JSON.stringify({ error: { message: "Internal error", type: "server_error" } }))).toEqual({ error: "Internal error" });
    expect(read(JSON.stringify({ error: {} }))).toEqual({ error: "stream error" });
  });
});
