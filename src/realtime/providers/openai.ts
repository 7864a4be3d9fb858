// OpenAI Realtime (wss://api.openai.com/v1/realtime?model=…), passed through both ways unchanged; this
// file only says where it is and reads the events that matter for the bill.
// Confirmed against openai-node 6.30.1 (src/realtime/ws.ts, internal-base.ts; resources/realtime): auth
// `Authorization: Bearer`; GA events session.created/updated (session.audio.input/output.format
// {type: "audio/pcm", rate} | audio/pcmu | audio/pcma), input_audio_buffer.append {audio}, conversation.item.create,
// response.create, response.output_audio.delta {delta}, response.output_text.delta,
// response.output_audio_transcript.delta, response.done {response.usage {input_tokens, output_tokens}};
// the beta names (response.audio.delta, input_audio_format "pcm16" | "g711_ulaw" | "g711_alaw") too.
//
// The charge is the usage each response.done reports, at the model's price. While a response runs its
// cost is estimated from what flows — input audio at 10 tokens a second, input text at one token per
// UTF-8 byte, the conversation so far re-read by each response, and what else each response reads (the
// session's instructions, tools and prompt, or the response's own: openai-input.ts), output audio at 20
// tokens a second and a token per text delta — so the session tops up (or stops) before the report arrives;
// the report then replaces the estimate. The conversation re-read is the last report's total, which holds
// that response's instructions too: counted again beside this one's, an overcount that keeps it a bound.
// A response.create is admitted against its input before it is forwarded; a response OpenAI starts itself
// (turn detection with create_response, OpenAI's default) against the audio whose turn it answers: while
// such a turn may come, its input counts in costMc, so each append is admitted only while it is covered.
// A response cut off by the end of the session (one OpenAI started) is charged its estimate.
// Input audio transcription, when the session turns it on, is billed too: openai-transcription.ts.
// Unconfirmed: OpenAI's exact audio token rates (the published ~600 input / ~1,200 output tokens a minute).

import { DEFAULT_PRICES, type Prices } from "../../metering/prices";
import { realtimeCostMc } from "../../metering/realtime";
import type { UpstreamContext } from "../../providers/types";
import { itemTokens, SessionInputs, textTokens } from "./openai-input";
import { count, InputTranscriptionMeter } from "./openai-transcription";
import { type Frame, jsonOf, type UpstreamTarget } from "./types";

const INPUT_AUDIO_TOKENS_PER_SECOND = 10;
const OUTPUT_AUDIO_TOKENS_PER_SECOND = 20;

export function openaiRealtimeTarget(model: string, up: UpstreamContext, beta?: string): UpstreamTarget {
  const headers: Record<string, string> = { authorization: `Bearer ${up.key}` };
  if (beta) headers["openai-beta"] = beta;
  return { url: `${up.urls.api}/realtime?model=${encodeURIComponent(model)}`, headers };
}

/** Bytes a second of a GA format object or a beta format name (24 kHz pcm16 unless said otherwise). */
function bytesPerSecond(format: any): number {
  if (typeof format === "string") return format.startsWith("g711") ? 8000 : 48000;
  if (format?.type === "audio/pcmu" || format?.type === "audio/pcma") return 8000;
  return 2 * (Number(format?.rate) || 24000);
}

/** Decoded size of a base64 string, without decoding it. */
function base64Bytes(b64: string): number {
  const pad = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - pad;
}

export class RealtimeMeter {
  private reportedMc = 0;
  private inputTokens = 0; // estimated since the last response.done
  private outputTokens = 0;
  private contextTokens = 0; // what the next response re-reads (the last report's total)
  private responding = false;
  // A response.create sent, and no response.* since: an error event now means OpenAI refused it.
  private requested = false;
  private inputBps = 48000;
  private outputBps = 48000;
  /** The session's instructions, tools and prompt, which every response reads again. */
  private readonly inputs = new SessionInputs();
  /** OpenAI starts a response itself when it detects the end of the user's turn (turn detection, create_response). */
  private autoRespond = false;
  /** Input audio appended since the last response began: turn detection may answer it with a response. */
  private turnPending = false;
  /** Every response.done's usage, summed (what OpenAI reported). */
  readonly usage = { inputTokens: 0, outputTokens: 0 };
  /** The input audio transcription (its usage: transcription.usage). */
  readonly transcription: InputTranscriptionMeter;

  constructor(
    private readonly model: string,
    private readonly prices: Prices = DEFAULT_PRICES,
  ) {
    this.transcription = new InputTranscriptionMeter(prices);
  }

  /**
   * What the session has cost so far, the running response and the turns being transcribed estimated — and
   * the audio appended for the next turn at its transcription's bound, which a commit makes owed.
   */
  get costMc(): number {
    return this.finishedMc + this.transcription.bufferedMc + this.cost(this.inputTokens + this.autoResponseTokens(), this.outputTokens);
  }

  /** The charge at the end: every report, plus the estimate of a response (and of transcriptions) the end cut off. */
  get finalMc(): number {
    return this.finishedMc + (this.responding ? this.cost(this.inputTokens, this.outputTokens) : 0);
  }

  /** Reported responses, and transcriptions reported or under way. */
  private get finishedMc(): number {
    return this.reportedMc + this.transcription.reportedMc + this.transcription.pendingMc;
  }

  /**
   * The input of the response turn detection may start for the audio appended: owed while no response runs.
   * `after` (a client event not forwarded yet): what it becomes once the event is.
   */
  private autoResponseTokens(after?: any): number {
    const update = after?.type === "session.update" ? after.session : undefined;
    const on = this.autoRespond || turnDetection(update) === true;
    const pending = this.turnPending || after?.type === "input_audio_buffer.append";
    if (!on || !pending || this.responding) return 0;
    return this.contextTokens + (update !== undefined ? this.inputs.tokensAfter(update) : this.inputs.tokens());
  }

  /** The estimated cost a client event adds (before it is forwarded). */
  clientCostMc(frame: Frame): number {
    const msg = jsonOf(frame);
    const tokens = this.clientTokens(msg) + Math.max(0, this.autoResponseTokens(msg) - this.autoResponseTokens());
    const transcribed =
      msg?.type === "input_audio_buffer.append" && typeof msg.audio === "string"
        ? this.transcription.appendCostMc(base64Bytes(msg.audio))
        : msg?.type === "session.update"
          ? this.transcription.updateCostMc(msg)
          : 0;
    return this.cost(tokens, 0) + transcribed;
  }

  client(frame: Frame): void {
    const msg = jsonOf(frame);
    this.inputTokens += this.clientTokens(msg);
    if (msg?.type === "input_audio_buffer.append" && typeof msg.audio === "string") {
      this.transcription.appended(base64Bytes(msg.audio));
      this.turnPending = true;
    }
    if (msg?.type === "session.update") {
      this.inputs.client(msg.session);
      // Turned on: counted at once. Turned off: once OpenAI says it applied it (the update may be refused).
      if (turnDetection(msg.session) === true) this.autoRespond = true;
    }
    // Asked for: a session cut before OpenAI's answer still pays the estimate (OpenAI may have begun, and
    // bills the conversation it re-reads) — unless OpenAI refuses it (an error event before any response.*).
    if (msg?.type === "response.create") {
      this.responding = true;
      this.requested = true;
      this.turnPending = false;
    }
  }

  server(frame: Frame): void {
    const msg = jsonOf(frame);
    const type = String(msg?.type ?? "");
    if (type === "response.created" && !this.responding) {
      // Started by OpenAI itself (turn detection): it reads what a response.create would have.
      this.inputTokens += this.contextTokens + this.inputs.tokens();
      this.turnPending = false;
    }
    // A response runs once OpenAI says so (response.created, or any of its events; its own turn detection
    // starts some); a response.create it refuses (an error event before any response.*) is never charged.
    if (type.startsWith("response.") && type !== "response.done") {
      this.responding = true;
      this.requested = false;
    } else if (type === "error" && this.requested) {
      this.responding = false;
      this.requested = false;
    }
    if (type === "session.created" || type === "session.updated") {
      const s = msg.session ?? {};
      this.inputs.server(type, s);
      this.autoRespond = turnDetection(s) ?? this.autoRespond;
      this.inputBps = bytesPerSecond(s.audio?.input?.format ?? s.input_audio_format);
      this.outputBps = bytesPerSecond(s.audio?.output?.format ?? s.output_audio_format);
      this.transcription.server(msg, this.inputBps);
    } else if (type.startsWith("input_audio_buffer.") || type.startsWith("conversation.item.input_audio_transcription.")) {
      this.transcription.server(msg, this.inputBps);
    } else if ((type === "response.output_audio.delta" || type === "response.audio.delta") && typeof msg.delta === "string") {
      this.outputTokens += Math.ceil((base64Bytes(msg.delta) * OUTPUT_AUDIO_TOKENS_PER_SECOND) / this.outputBps);
    } else if (type.endsWith("text.delta") || type.endsWith("transcript.delta")) {
      if (type.startsWith("response.")) this.outputTokens += 1;
    } else if (type === "response.done") {
      const u = msg.response?.usage;
      // A figure not reported, or not a count (negative, not finite, not whole): its estimate stands, as "a
      // missing figure at its bound" (a negative one would take from the bill).
      const input = count(u?.input_tokens, true) ?? this.inputTokens;
      const output = count(u?.output_tokens, true) ?? this.outputTokens;
      this.reportedMc += this.cost(input, output);
      this.usage.inputTokens += input;
      this.usage.outputTokens += output;
      this.contextTokens = u ? input + output : this.contextTokens + this.inputTokens + this.outputTokens;
      this.inputTokens = 0;
      this.outputTokens = 0;
      this.responding = false;
    }
  }

  private cost(inputTokens: number, outputTokens: number): number {
    return realtimeCostMc(this.model, inputTokens, outputTokens, this.prices);
  }

  private clientTokens(msg: any): number {
    switch (msg?.type) {
      case "input_audio_buffer.append":
        return typeof msg.audio === "string" ? this.audioTokens(msg.audio) : 0;
      case "conversation.item.create":
        return itemTokens(msg.item, this.audioTokens);
      case "response.create":
        return this.contextTokens + this.responseTokens(msg.response); // the conversation so far is read again
      default:
        return 0;
    }
  }

  /** What a response.create's response reads besides the conversation: the session's inputs, or its own. */
  private responseTokens(r: any): number {
    if (!r || typeof r !== "object") return this.inputs.tokens();
    const own = typeof r.instructions === "string";
    let tokens = this.inputs.tokens(own) + textTokens(r.instructions);
    if (r.tools != null) tokens += textTokens(JSON.stringify(r.tools));
    if (r.prompt != null) tokens += textTokens(JSON.stringify(r.prompt));
    for (const item of Array.isArray(r.input) ? r.input : []) tokens += itemTokens(item, this.audioTokens);
    return tokens;
  }

  private readonly audioTokens = (b64: string) => Math.ceil((base64Bytes(b64) * INPUT_AUDIO_TOKENS_PER_SECOND) / this.inputBps);
}

/** Whether a session object turns turn detection's responses on (GA audio.input.turn_detection, beta turn_detection); undefined: it does not say. */
function turnDetection(session: any): boolean | undefined {
  if (!session || typeof session !== "object") return undefined;
  const input = session.audio?.input;
  const td = input && typeof input === "object" && "turn_detection" in input ? input.turn_detection : session.turn_detection;
  if (td === undefined) return undefined;
  return td !== null && typeof td === "object" && td.create_response !== false;
}
