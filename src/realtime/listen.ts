// A listen session (GET /v1/realtime/listen): the client's binary audio goes to the provider frame by
// frame as it arrives (wrapped where the provider wants JSON), each frame let through only while the
// reservation covers the seconds it brings; the provider's results come back as uniform transcripts.
// Charged the audio's exact length from its bytes, at the provider's price per minute.

import type { Prices } from "../metering/prices";
import { listenCostMc } from "../metering/realtime";
import { endings, listenCommand, NORMAL_END, transcriptEvent } from "./protocol";
import type { Frame, ListenParams, ListenStream } from "./providers/types";
import type { Session } from "./session";

/**
 * How often a provider that closes an idle stream is sent a keep-alive while no audio flows: Deepgram closes
 * one that gets neither audio nor a KeepAlive for 10 s (NET-0001) and asks for one every 3-5 s
 * (developers.deepgram.com/docs/audio-keep-alive). At most two periods pass between frames: 6 s.
 */
export const KEEP_ALIVE_MS = 3_000;

export function relayListen(s: Session, stream: ListenStream, provider: string, params: ListenParams, prices: Prices): void {
  const bytesPerSecond = params.sampleRate * (params.encoding === "mulaw" ? 1 : 2);
  const costOf = (bytes: number) => listenCostMc(provider, bytes, bytesPerSecond, prices);
  let audioBytes = 0;
  let audioSinceKeepAlive = false;
  /** Audio went to the provider after the last frame it sent: a finalize then is owed an answer. */
  let audioUnanswered = false;
  let ending = false;
  const { client, upstream, governor } = s.o;

  const finishIfIdle = () => {
    if (ending && stream.idle?.()) s.end(NORMAL_END);
  };

  const audio = (chunk: ArrayBuffer) => {
    if (ending || chunk.byteLength === 0) return;
    const next = audioBytes + chunk.byteLength;
    const forward = () => {
      audioBytes = next;
      audioSinceKeepAlive = true;
      audioUnanswered = true;
      s.toUpstream(stream.audio(chunk));
    };
    const admitted = governor.admit(costOf(next));
    if (admitted === true) return forward();
    if (admitted === false) return;
    return admitted.then((ok) => {
      if (ok) forward();
    });
  };

  // What the provider owes (Session.awaitProvider: silent for PROVIDER_TIMEOUT_MS, provider_timeout and 4502):
  // after a finalize that follows audio it has not answered, any frame (Deepgram's Results, Cartesia's
  // flush_done, ElevenLabs' committed transcript, empty ones too); after {"type":"close"}, the end of the stream
  // (Deepgram's Metadata, Cartesia's done, its close frame, or — ElevenLabs, which says nothing — every second
  // sent transcribed), its last transcripts waited for as long as they come. A finalize after no new audio owes nothing.
  const command = (text: string) => {
    const cmd = listenCommand(text);
    if (typeof cmd !== "string") return s.clientError(cmd.error);
    if (ending || cmd === "keepalive") return;
    if (cmd === "finalize") {
      if (audioUnanswered) s.awaitProvider("the finalize");
      return s.toUpstream(stream.finalize());
    }
    ending = true;
    s.toUpstream(stream.end());
    s.awaitProvider("the end of the stream");
    finishIfIdle();
  };

  client.addEventListener("message", (e: MessageEvent) => {
    const data = e.data as Frame;
    s.serial(data, () => (typeof data === "string" ? command(data) : audio(data)));
  });

  upstream.addEventListener("message", (e: MessageEvent) => {
    if (s.ended) return;
    audioUnanswered = false;
    if (!ending) s.answered();
    for (const ev of stream.read(e.data as Frame)) {
      if (ev.type === "transcript") s.toClient(transcriptEvent(ev));
      else if (ev.type === "error") return s.end(endings.provider(ev.message));
      else if (ev.type === "ended") return s.end(NORMAL_END);
    }
    finishIfIdle();
  });

  upstream.addEventListener("close", (e: CloseEvent) => {
    if (ending && (e.code === 1000 || e.code === 1005)) return s.end(NORMAL_END);
    s.end(endings.provider(`The provider closed the stream (${e.code}${e.reason ? ` ${e.reason}` : ""}).`));
  });

  // Its own timer, not the session's check interval (up to 30 s): the provider's idle limit is shorter.
  const keepAlive = stream.keepAlive;
  if (keepAlive) {
    const timer = setInterval(() => {
      if (s.ended) return clearInterval(timer);
      if (!audioSinceKeepAlive && !ending) s.toUpstream(keepAlive());
      audioSinceKeepAlive = false;
    }, KEEP_ALIVE_MS);
  }

  s.start({
    usage: () => ({ seconds: audioBytes / bytesPerSecond }),
    costMc: () => costOf(audioBytes),
  });
}
