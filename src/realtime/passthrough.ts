// An OpenAI Realtime session (GET /v1/realtime?model=openai/<model>): OpenAI's protocol passed through both
// ways, frame for frame and unchanged, so the official SDK's realtime client works against Voxgate. Each
// client event is let through only while the reservation covers its estimated cost; what OpenAI sends back
// is metered as it arrives (providers/openai.ts) and charged, at the end, the usage its response.done
// events report. Provider error events are passed on with the key redacted.
import { endings, NORMAL_END } from "./protocol";
import type { RealtimeMeter } from "./providers/openai";
import type { Frame } from "./providers/types";
import type { Session } from "./session";
import { redact } from "./upstream";

export function relayOpenAi(s: Session, meter: RealtimeMeter): void {
  const { client, upstream, governor } = s.o;

  client.addEventListener("message", (e: MessageEvent) => {
    const frame = e.data as Frame;
    s.serial(() => {
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
    let frame = e.data as Frame;
    meter.server(frame);
    if (typeof frame === "string" && frame.includes('"error"')) frame = redact(frame, s.o.providerKey);
    s.toClient(frame);
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
