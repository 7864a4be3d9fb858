// A speak session (GET /v1/realtime/speak): the client's text goes to the provider piece by piece, each
// let through only while the reservation covers its characters; the provider's audio comes back as
// binary frames as it arrives (decoded from base64 where the provider wraps it), and a {"type":"done"}
// follows the audio of each flush. Charged per character sent, at the provider's price.
//
// A text message longer than the provider takes in one frame (SpeakProvider.maxTextChars: Deepgram's Speak
// message, 2,000 characters) is sent as several frames back to back, cut after whitespace where it can be:
// every provider here buffers text until a flush, so the speech, the characters charged and the flushes
// are the same as for one frame — the client's protocol (API.md §4.3) does not change with the provider,
// and no message that one provider takes is refused for another.
import type { Prices } from "../metering/prices";
import { speakCostMc } from "../metering/realtime";
import { textChars, textPieces } from "../providers/text-limit";
import { DONE_EVENT, endings, NORMAL_END, speakCommand } from "./protocol";
import type { Frame, SpeakProvider, SpeakStream } from "./providers/types";
import type { Session } from "./session";

export function relaySpeak(
  s: Session,
  stream: SpeakStream,
  speaker: Pick<SpeakProvider, "id" | "maxTextChars">,
  viaApiKey: boolean,
  prices: Prices,
): void {
  const provider = speaker.id;
  const costOf = (characters: number) => speakCostMc(provider, characters, viaApiKey, prices);
  let characters = 0;
  let unflushed = false;
  let closing = false;
  // One entry per flush not yet answered: true when the provider speaks it (its `flushed` answers it),
  // false when there was nothing to speak (answered as soon as those before it are).
  const flushes: boolean[] = [];
  const { client, upstream, governor } = s.o;

  // While a flush with text waits for its `flushed`, the provider owes an answer: silent for PROVIDER_TIMEOUT_MS
  // (it never answers, before or after {"type":"close"}), the session ends with provider_timeout and 4502,
  // not a normal end that would pass for "all spoken"; one still sending audio is waited for.
  const answerFlushes = () => {
    while (flushes[0] === false) {
      flushes.shift();
      s.toClient(DONE_EVENT);
    }
    if (flushes.includes(true)) s.awaitProvider("a flush");
    else s.answered();
    if (closing && flushes.length === 0) {
      s.toUpstream(stream.end());
      s.end(NORMAL_END);
    }
  };

  const flush = () => {
    flushes.push(unflushed);
    if (unflushed) s.toUpstream(stream.flush());
    unflushed = false;
    answerFlushes();
  };

  const text = (t: string) => {
    if (t.length === 0) return;
    const next = characters + textChars(t);
    const forward = () => {
      characters = next;
      unflushed = true;
      for (const piece of textPieces(t, speaker.maxTextChars)) s.toUpstream(stream.text(piece));
    };
    const admitted = governor.admit(costOf(next));
    if (admitted === true) return forward();
    if (admitted === false) return;
    return admitted.then((ok) => {
      if (ok) forward();
    });
  };

  client.addEventListener("message", (e: MessageEvent) => {
    const data = e.data as Frame;
    s.serial(data, () => {
      if (typeof data !== "string") return s.clientError("A speak session takes text messages, not audio.");
      const cmd = speakCommand(data);
      if ("error" in cmd) return s.clientError(cmd.error);
      if (closing || cmd.type === "keepalive") return;
      if (cmd.type === "text") return text(cmd.text);
      if (cmd.type === "close") closing = true;
      flush();
    });
  });

  upstream.addEventListener("message", (e: MessageEvent) => {
    if (s.ended) return;
    for (const ev of stream.read(e.data as Frame)) {
      if (ev.type === "audio") s.toClient(ev.bytes);
      else if (ev.type === "error") return s.end(endings.provider(ev.message));
      else if (flushes.length > 0) {
        flushes.shift();
        s.toClient(DONE_EVENT);
        answerFlushes();
      }
    }
  });

  upstream.addEventListener("close", (e: CloseEvent) => {
    if (closing && flushes.length === 0) return s.end(NORMAL_END);
    s.end(endings.provider(`The provider closed the stream (${e.code}${e.reason ? ` ${e.reason}` : ""}).`));
  });

  s.start({
    usage: () => ({ seconds: (Date.now() - s.startedAt) / 1000, characters }),
    costMc: () => costOf(characters),
  });
}
