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
// Audio appended while transcription is on counts at its bound as it is appended (bufferedMc: the session
// admits an append only while its reservation covers the turn's transcription too; a session.update that turns
// transcription on, likewise for the audio already buffered), and from the commit
// (`input_audio_buffer.committed`) until the report the turn counts at that bound, at the model it was
// committed under, so the session tops up (or stops) before the report arrives; a turn whose report the end
// cut off is charged that bound, one whose transcription failed nothing. A report's figures are believed
// only as counts (finite, not negative, whole tokens): any other stands for "not reported" (the bound is
// charged); a duration only as far as the turn's measured audio allows (plausibleSeconds: a report for an
// item no commit announced has no audio to show for it); a second report of the same item is ignored.
import { plausibleSeconds, sttBoundMc, sttChargeMc } from "../../metering/estimates";
import { llmPrice, type Prices } from "../../metering/prices";

const PROVIDER = "openai";

export class InputTranscriptionMeter {
  /** The session's transcription model; null while transcription is off. */
  private model: string | null = null;
  /** Input audio appended since the last commit or clear. */
  private bufferedBytes = 0;
  /** Committed turns not reported yet: their audio's seconds, the model they were committed under, their bound. */
  private readonly pending = new Map<string, { seconds: number; model: string; boundMc: number }>();
  /** Items reported (completed or failed): a repeated report is not charged again. */
  private readonly reported = new Set<string>();
  /** The input audio format's bytes a second (as of the last session.created/updated). */
  private bytesPerSecond = 48_000;
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

  /** The audio appended and not committed yet, at its transcription's bound (0 while transcription is off). */
  get bufferedMc(): number {
    return this.bufferBoundMc(this.bufferedBytes);
  }

  /** What appending `bytes` more of input audio adds to bufferedMc (asked before the append is forwarded). */
  appendCostMc(bytes: number): number {
    return this.bufferBoundMc(this.bufferedBytes + bytes) - this.bufferedMc;
  }

  /**
   * What a client's session.update adds to bufferedMc: one that turns transcription on (or changes its model)
   * makes the audio already buffered owed at that model's bound — OpenAI transcribes the whole buffer at the
   * commit — so the update is admitted against it, as an append is.
   */
  updateCostMc(msg: any): number {
    const s = msg?.session;
    if (!s || typeof s !== "object") return 0;
    const input = s.audio?.input;
    const config = input && typeof input === "object" && "transcription" in input ? input.transcription : s.input_audio_transcription;
    if (!config || typeof config !== "object" || this.bufferedBytes <= 0) return 0;
    const next = this.boundMc(String(config.model ?? ""), this.bufferedBytes / this.bytesPerSecond);
    return Math.max(0, next - this.bufferedMc);
  }

  /** The client appended input audio (its decoded bytes). */
  appended(bytes: number): void {
    this.bufferedBytes += bytes;
  }

  private bufferBoundMc(bytes: number): number {
    return this.model === null || bytes <= 0 ? 0 : this.boundMc(this.model, bytes / this.bytesPerSecond);
  }

  /** A server event; `inputBytesPerSecond` is the session's input audio format. */
  server(msg: any, inputBytesPerSecond: number): void {
    this.bytesPerSecond = inputBytesPerSecond;
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
        if (this.model !== null && typeof msg.item_id === "string" && !this.reported.has(msg.item_id)) {
          this.pending.set(msg.item_id, { seconds, model: this.model, boundMc: this.boundMc(this.model, seconds) });
        }
        return;
      }
      case "conversation.item.input_audio_transcription.failed":
        this.pending.delete(String(msg.item_id));
        this.reported.add(String(msg.item_id));
        return;
      case "conversation.item.input_audio_transcription.completed":
        this.completed(msg);
    }
  }

  private completed(msg: any): void {
    const id = String(msg.item_id);
    if (this.reported.has(id)) return; // reported already: charged once
    this.reported.add(id);
    const turn = this.pending.get(id);
    this.pending.delete(id);
    const u = msg.usage;
    // The model the turn was committed under (transcription may have been turned off or changed since).
    const model = turn?.model ?? this.model ?? "";
    // The turn's measured audio: what a reported duration is checked against, and what unpriced tokens are
    // charged by. An item no commit announced has none to show: a duration past the slack is not believed.
    const measured = turn?.seconds ?? 0;
    const seconds = u?.type === "duration" ? count(u.seconds) : undefined;
    const inputTokens = u?.type === "tokens" ? count(u.input_tokens, true) : undefined;
    const outputTokens = u?.type === "tokens" ? count(u.output_tokens, true) : undefined;
    const tokens = inputTokens !== undefined && outputTokens !== undefined ? { inputTokens, outputTokens } : undefined;
    if (seconds === undefined && tokens === undefined) {
      // No usage (the beta protocol has none), or figures that are no counts: the bound stands, as for a
      // response.done without usage.
      this.reportedMc += turn?.boundMc ?? 0;
      return;
    }
    if (seconds !== undefined) this.usage.seconds += seconds;
    if (tokens) {
      this.usage.inputTokens += tokens.inputTokens;
      this.usage.outputTokens += tokens.outputTokens;
    }
    const tokenPriced = tokens !== undefined && llmPrice(model, this.prices) !== null;
    this.reportedMc += sttChargeMc(
      PROVIDER,
      model,
      tokenPriced,
      measured,
      { seconds: plausibleSeconds(seconds, measured), usage: tokenPriced ? tokens : undefined },
      this.prices,
    );
  }

  private boundMc(model: string, seconds: number): number {
    const tokenPriced = llmPrice(model, this.prices) !== null;
    return sttBoundMc(PROVIDER, model, seconds, tokenPriced, this.prices) ?? 0;
  }
}

/** A reported figure as a count: finite and not negative (tokens: a whole number within exact integer range); else undefined. */
export function count(v: unknown, whole = false): number | undefined {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
  if (!Number.isFinite(n) || n < 0) return undefined;
  if (whole && !Number.isSafeInteger(n)) return undefined;
  return n;
}
