// Which providers serve the uniform realtime protocol (API.md §4.3): adding one is a file in this folder
// and a line here (and its WebSocket mock in test/mocks/realtime/).
import { cartesiaListen, cartesiaSpeak } from "./cartesia";
import { deepgramListen, deepgramSpeak } from "./deepgram";
import { elevenlabsListen, elevenlabsSpeak } from "./elevenlabs";
import type { ListenProvider, SpeakProvider } from "./types";

export const LISTEN_PROVIDERS: readonly ListenProvider[] = [deepgramListen, elevenlabsListen, cartesiaListen];
export const SPEAK_PROVIDERS: readonly SpeakProvider[] = [elevenlabsSpeak, cartesiaSpeak, deepgramSpeak];

/** The provider behind GET /v1/realtime: OpenAI's own Realtime protocol, passed through both ways. */
export const OPENAI_REALTIME_PROVIDER = "openai";

/** Used when a listen request names no provider (and DEFAULT_STT_PROVIDER has no live transcription). */
export const DEFAULT_LISTEN_PROVIDER = "deepgram";
/** Used when a speak request names no provider (and DEFAULT_TTS_PROVIDER has no streaming speech). */
export const DEFAULT_SPEAK_PROVIDER = "elevenlabs";

export const listenProvider = (id: string) => LISTEN_PROVIDERS.find((p) => p.id === id);
export const speakProvider = (id: string) => SPEAK_PROVIDERS.find((p) => p.id === id);
