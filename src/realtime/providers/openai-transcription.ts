// The input audio transcription of an OpenAI Realtime session, metered for the bill (RealtimeMeter in
// openai.ts asks this). A session that turns it on (GA `session.audio.input.transcription.model`, beta
// `session.input_audio_transcription.model`) has each committed turn of the user's audio transcribed by a
// separate model, and OpenAI reports what it cost in `conversation.item.input_audio_transcription.completed`:
// `usage` {type: "tokens", input_tokens, output_tokens} for the gpt-4o-transcribe family, {type: "duration",
// seconds} for whisper-1 (openai-python types/realtime/conversation_item_input_audio_transcription_completed_event.py).
//
// Priced as /v1/transcribe prices the same models (src/metering/estimates.ts), at the effective prices
// (PRICES applied): tokens at the transcription model's price in the LLM table; seconds — and tokens of a
// model that table does not price — at the STT price of openai per minute (always present: PRICES merges over
// the defaults), by the reported seconds or, for unpriced tokens, the turn's audio as measured from its bytes.
// From the commit (`input_audio_buffer.committed`) until the report a turn counts at its bound, so the
// session tops up (or stops) before the report arrives; a turn whose report the end cut off is charged
// that bound, one whose transcription failed nothing.
import { sttBoundMc, sttChargeMc } from "../../metering/estimates";
import { llmPrice, type Prices } from "../../metering/prices";

const PROVIDER = "openai";

export class InputTranscriptionMeter {
  /** The session's transcription model; null while transcription is off. */
  private model: string | null = null;
  /** Input audio appended since the last commit or clear. */
  private bufferedBytes = 0;
  /** Committed turns not reported yet: their audio's seconds and their bound. */
  private readonly pending = new Map<string, { seconds: number; boundMc: number }>();
  /** What the reports have cost. */
  reportedMc = 0;
  /** What OpenAI reported, summed: seconds (whisper-1) and tokens (the gpt-4o-transcribe family). */
  readonly usage = { seconds: 0, inputTokens: 0, outputTokens: 0 };

  constructor(private readonly prices: Prices) {}

  /** Turns committed and not reported yet, at their bound. */
  get pendingMc(): number {
    let mc = 0;
    for (const turn of this.pending.values()) mc += turn.boundMc;
    return mc;
  }

  /** The client appended input audio (its decoded bytes). */
  appended(bytes: number): void {
    this.bufferedBytes += bytes;
  }

  /** A server event; `inputBytesPerSecond` is the session's input audio format. */
  server(msg: any, inputBytesPerSecond: number): void {
    switch (msg?.type) {
      case "session.created":
      case "session.updated": {
        const s = msg.session ?? {};
        const config = s.audio?.input !== undefined ? s.audio.input.transcription : s.input_audio_transcription;
        this.model = config && typeof config === "object" ? String(config.model ?? "") : null;
        return;
      }
      case "input_audio_buffer.cleared":
        this.bufferedBytes = 0;
        return;
      case "input_audio_buffer.committed": {
        const seconds = this.bufferedBytes / inputBytesPerSecond;
        this.bufferedBytes = 0;
        if (this.model !== null && typeof msg.item_id === "string") {
          this.pending.set(msg.item_id, { seconds, boundMc: this.boundMc(this.model, seconds) });
        }
        return;
      }
      case "conversation.item.input_audio_transcription.failed":
        this.pending.delete(String(msg.item_id));
        return;
      case "conversation.item.input_audio_transcription.completed":
        this.completed(msg);
    }
  }

  private completed(msg: any): void {
    const turn = this.pending.get(String(msg.item_id));
    this.pending.delete(String(msg.item_id));
    const u = msg.usage;
    const model = this.model ?? "";
    if (u?.type !== "tokens" && u?.type !== "duration") {
      // No usage (the beta protocol has none): the bound stands, as for a response.done without usage.
      this.reportedMc += turn?.boundMc ?? 0;
      return;
    }
    const seconds = u.type === "duration" ? Number(u.seconds) || 0 : undefined;
    const tokens =
      u.type === "tokens" ? { inputTokens: Number(u.input_tokens) || 0, outputTokens: Number(u.output_tokens) || 0 } : undefined;
    if (seconds !== undefined) this.usage.seconds += seconds;
    if (tokens) {
      this.usage.inputTokens += tokens.inputTokens;
      this.usage.outputTokens += tokens.outputTokens;
    }
    const tokenPriced = tokens !== undefined && llmPrice(model, this.prices) !== null;
    // The turn's measured audio: what a reported duration is checked against, and what unpriced tokens are charged by.
    const measured = turn?.seconds ?? seconds ?? 0;
    this.reportedMc += sttChargeMc(
      PROVIDER,
      model,
      tokenPriced,
      measured,
      { seconds, usage: tokenPriced ? tokens : undefined },
      this.prices,
    );
  }

  private boundMc(model: string, seconds: number): number {
    const tokenPriced = llmPrice(model, this.prices) !== null;
    return sttBoundMc(PROVIDER, model, seconds, tokenPriced, this.prices) ?? 0;
  }
}
