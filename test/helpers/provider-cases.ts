// Provider × operation cases shared by the workerd suite and the end-to-end suite: what each
// gateway request must look like upstream (path, auth header) and what comes back.
import { expect } from "vitest";
// @ts-expect-error plain JS module shared with the mock server
import { mockAudio } from "../mocks/audio.mjs";
import { expectSpeechTone, type ToneFormat } from "./speech-check";

/** The audio bytes equal the mock's audio for this text in the format the provider was asked for. */
export function expectMockAudio(bytes: Uint8Array, text: string) {
  const head = new TextDecoder().decode(bytes.slice(0, 64));
  const m = /^MOCKAUDIO\[([^\]]+)\]\|/.exec(head);
  expect(m, `not mock audio: ${head}`).not.toBeNull();
  const expected: Uint8Array = mockAudio(text, m![1]);
  expect(bytes.byteLength).toBe(expected.byteLength);
  expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
  return m![1];
}

export interface TtsCase {
  provider: string;
  format: string;
  sampleRate?: number;
  upstreamPath: RegExp;
  auth: [string, string];
  /** The mock's byte pattern in this provider format comes back (compressed formats). */
  upstreamFormat?: string;
  /** The mock's tone comes back, decoded as this format at this rate (PCM-family formats). */
  tone?: { format: ToneFormat; sampleRate: number };
  byok?: boolean;
}

/** What a TTS case's answer must be: the mock's bytes for its upstream format, or its tone. */
export function expectCaseAudio(c: TtsCase, bytes: Uint8Array, text: string) {
  if (c.tone) expectSpeechTone(bytes, c.tone.format, c.tone.sampleRate, text);
  else expect(expectMockAudio(bytes, text)).toBe(c.upstreamFormat);
}

export const TTS_CASES: TtsCase[] = [
  {
    provider: "elevenlabs",
    format: "mp3",
    upstreamPath: /^\/v1\/text-to-speech\/[^/]+\/stream$/,
    auth: ["xi-api-key", "platform-elevenlabs-key"],
    upstreamFormat: "mp3_44100_128",
  },
  {
    provider: "elevenlabs",
    format: "pcm",
    sampleRate: 16000,
    upstreamPath: /\/stream$/,
    auth: ["xi-api-key", "platform-elevenlabs-key"],
    tone: { format: "pcm", sampleRate: 16000 },
  },
  // With the caller's own key (OpenAI speech also has a platform price: API.md §6).
  {
    provider: "openai",
    format: "wav",
    upstreamPath: /\/audio\/speech$/,
    auth: ["authorization", "Bearer byok-openai-key"],
    tone: { format: "wav", sampleRate: 24000 },
    byok: true,
  },
  {
    provider: "cartesia",
    format: "mp3",
    upstreamPath: /^\/tts\/bytes$/,
    auth: ["authorization", "Bearer platform-cartesia-key"],
    upstreamFormat: "mp3",
  },
  {
    provider: "cartesia",
    format: "pcm",
    upstreamPath: /^\/tts\/sse$/,
    auth: ["authorization", "Bearer platform-cartesia-key"],
    // pcm without a rate is 24 kHz from every provider.
    tone: { format: "pcm", sampleRate: 24000 },
  },
  {
    provider: "deepgram",
    format: "mp3",
    upstreamPath: /^\/v1\/speak$/,
    auth: ["authorization", "Token platform-deepgram-key"],
    upstreamFormat: "mp3",
  },
  {
    provider: "fishaudio",
    format: "opus",
    upstreamPath: /^\/v1\/tts$/,
    auth: ["authorization", "Bearer platform-fishaudio-key"],
    upstreamFormat: "opus",
  },
  {
    provider: "inworld",
    format: "mp3",
    upstreamPath: /^\/tts\/v1\/voice:stream$/,
    auth: ["authorization", "Basic platform-inworld-key"],
    upstreamFormat: "MP3",
  },
  {
    provider: "resembleai",
    format: "wav",
    upstreamPath: /^\/stream$/,
    auth: ["authorization", "Bearer platform-resembleai-key"],
    // Resemble's default rate, said by the WAV header it streams.
    tone: { format: "wav", sampleRate: 22050 },
  },
  {
    provider: "resembleai",
    format: "mp3",
    upstreamPath: /^\/synthesize$/,
    auth: ["authorization", "Bearer platform-resembleai-key"],
    upstreamFormat: "mp3",
  },
];

export const STT_CASES: { provider: string; path: RegExp; auth: [string, string] }[] = [
  { provider: "openai", path: /^\/v1\/audio\/transcriptions$/, auth: ["authorization", "Bearer platform-openai-key"] },
  { provider: "groq", path: /^\/openai\/v1\/audio\/transcriptions$/, auth: ["authorization", "Bearer platform-groq-key"] },
  { provider: "elevenlabs", path: /^\/v1\/speech-to-text$/, auth: ["xi-api-key", "platform-elevenlabs-key"] },
  { provider: "deepgram", path: /^\/v1\/listen$/, auth: ["authorization", "Token platform-deepgram-key"] },
  { provider: "cartesia", path: /^\/stt$/, auth: ["authorization", "Bearer platform-cartesia-key"] },
  { provider: "fishaudio", path: /^\/v1\/asr$/, auth: ["authorization", "Bearer platform-fishaudio-key"] },
];

export const CHAT_CASES: { provider: string; model: string; auth: [string, string] }[] = [
  { provider: "openai", model: "gpt-4.1-mini", auth: ["authorization", "Bearer platform-openai-key"] },
  { provider: "anthropic", model: "claude-sonnet-4-20250514", auth: ["x-api-key", "platform-anthropic-key"] },
  { provider: "groq", model: "meta-llama/llama-4-scout-17b-16e-instruct", auth: ["authorization", "Bearer platform-groq-key"] },
  // No platform key for Hugging Face in the test deployment: these go with the caller's own key.
  { provider: "huggingface", model: "meta-llama/Llama-4-Maverick-17B-128E-Instruct", auth: ["authorization", "Bearer byok-hf-key"] },
];

export async function readSse(res: Response): Promise<any[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((b) => b.startsWith("data: "))
    .map((b) => JSON.parse(b.slice(6)));
}
