// Which WebSocket protocol serves which provider path. Paths are the providers' real ones, after the
// mock's per-provider prefix (the same prefixes as the HTTP mocks, so ws: URLs derive from *_BASE_URL).

import cartesiaStt from "./cartesia-stt.mjs";
import cartesiaTts from "./cartesia-tts.mjs";
import deepgramListen from "./deepgram-listen.mjs";
import deepgramSpeak from "./deepgram-speak.mjs";
import elevenlabsStt from "./elevenlabs-stt.mjs";
import { multiStreamInput, streamInput } from "./elevenlabs-tts.mjs";
import openaiRealtime from "./openai.mjs";

export const REALTIME_PROTOCOLS = [
  deepgramListen,
  deepgramSpeak,
  streamInput,
  multiStreamInput,
  elevenlabsStt,
  cartesiaTts,
  cartesiaStt,
  openaiRealtime,
];

function compile(template) {
  const src = template
    .split(/(\{[A-Za-z_]+\})/)
    .map((part) => (/^\{[A-Za-z_]+\}$/.test(part) ? `(?<${part.slice(1, -1)}>[^/]+)` : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${src}/?$`);
}

const COMPILED = REALTIME_PROTOCOLS.map((protocol) => ({ protocol, regex: compile(protocol.path) }));

/** The protocol for a provider id and a real path, with the path parameters; null if none. */
export function findProtocol(providerId, path) {
  for (const { protocol, regex } of COMPILED) {
    if (protocol.provider !== providerId) continue;
    const m = regex.exec(path);
    if (m) return { protocol, params: Object.fromEntries(Object.entries(m.groups || {}).map(([k, v]) => [k, decodeURIComponent(v)])) };
  }
  return null;
}
