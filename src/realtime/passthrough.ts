// An OpenAI Realtime session (GET /v1/realtime?model=openai/<model>): OpenAI's protocol passed through both
// ways, frame for frame and unchanged, so the official SDK's realtime client works against Voxgate. Each
// client event is let through only while the reservation covers its estimated cost; what OpenAI sends back
// is metered as it arrives (providers/openai.ts) and charged, at the end, the usage its response.done
// events report. Provider error events are passed on with their text bounded and credentials redacted.
import { providerText } from "../providers/provider-text";
import { endings, NORMAL_END } from "./protocol";
import type { RealtimeMeter } from "./providers/openai";
import type { Frame } from "./providers/types";
import type { Session } from "./session";

export function relayOpenAi(s: Session, meter: RealtimeMeter): void {
  const { client, upstream, governor } = s.o;

  client.addEventListener("message", (e: MessageEvent) => {
    const frame = e.data as Frame;
    s.serial(frame, () => {
      const forward = () => {
        meter.client(frame);
        s.toUpstream(frame);
      };
      const admitted = governor.admit(meter.costMc + meter.clientCostMc(frame));
      if (admitted === true) return forward();
      if (admitted === false) return;
      return admitted.then((ok) => {
        if (ok) forward();
      });
    });
  });

  upstream.addEventListener("message", (e: MessageEvent) => {
    if (s.ended) return;
    const frame = e.data as Frame;
    meter.server(frame);
    s.toClient(clientFrame(frame, s.o.providerKey));
    governor.observe(meter.costMc);
  });

  upstream.addEventListener("close", (e: CloseEvent) => {
    if (e.code === 1000 || e.code === 1005) return s.end(NORMAL_END);
    s.end(endings.provider(`OpenAI closed the session (${e.code}${e.reason ? ` ${e.reason}` : ""}).`));
  });

  s.start({
    usage: () => ({ seconds: (Date.now() - s.startedAt) / 1000 }),
    costMc: () => meter.finalMc,
  });
}

/**
 * What the client is sent of an OpenAI frame: an `error` event with each text of its `error` object
 * through providerText (bounded, credentials redacted); any other frame unchanged, but for the key
 * itself should it carry it.
 */
function clientFrame(frame: Frame, key: string): Frame {
  if (typeof frame !== "string") return frame;
  if (frame.includes('"error"')) {
    try {
      const event = JSON.parse(frame);
      if (event?.type === "error" && event.error && typeof event.error === "object") {
        const error = Object.fromEntries(
          Object.entries(event.error).map(([k, v]) => [k, typeof v === "string" ? providerText(v, key) : v]),
        );
        return JSON.stringify({ ...event, error });
      }
    } catch {
      // not JSON: handled as any other text below
    }
  }
  return key && frame.includes(key) ? frame.split(key).join("[redacted]") : frame;
}
