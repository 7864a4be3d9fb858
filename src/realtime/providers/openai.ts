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
// each response's report then replaces that response's estimate only. Responses are told apart by the id
// their events carry (response.created/done: response.id; deltas: response_id; a response.create is the
// oldest unanswered one, OpenAI answering in order); out-of-band ones (conversation "none") may run at once.
// The conversation re-read is the last in-conversation report's total, which holds that response's
// instructions too (counted again beside this one's: an overcount that keeps it a bound), plus what was added
// since that response began (items, committed audio): what is added while a response runs is carried to the
// next. A response.create is admitted against its input before it is forwarded; a response OpenAI starts
// itself (turn detection with create_response, OpenAI's default) against the audio whose turn it answers:
// while such a turn may come — a response running or not, as a barge-in starts one — its input counts in
// costMc, so each append (and each session.update raising what it reads) is admitted only while it is covered.
// A response cut off by the end of the session (one OpenAI started) is charged its estimate.
// Input audio transcription, when the session turns it on, is billed too: openai-transcription.ts.
// Unconfirmed: OpenAI's exact audio token rates (the published ~600 input / ~1,200 output tokens a minute).

import { base64Bytes } from "../../encoding/base64";
import { DEFAULT_PRICES, type Prices } from "../../metering/prices";
import { realtimeCostMc } from "../../metering/realtime";
import type { UpstreamContext } from "../../providers/types";
import { itemTokens, jsonTokens, SessionInputs, textTokens } from "./openai-input";
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

/** A response asked for or running, and its estimate until its response.done replaces it with the report. */
interface Running {
  id?: string;
  /** OpenAI said it runs (response.created or another of its events); until then a response.create's, unanswered. */
  started: boolean;
  /** Out of band (conversation "none"): its report is not the conversation's. */
  outOfBand: boolean;
  input: number;
  output: number;
  /** `added` when it began: what it read of the conversation's additions. */
  mark: number;
}

export class RealtimeMeter {
  private reportedMc = 0;
  /** The responses asked for or running, oldest first (OpenAI answers response.create events in order). */
  private running: Running[] = [];
  private contextTokens = 0; // what the next response re-reads (the last in-conversation report's total)…
  /** …and what was added since (items, committed audio), up to `added` — every addition so far, summed. */
  private added = 0;
  private contextMark = 0;
  /** `added` when the last response began: what came after is counted on its own until a response reads it. */
  private claimedMark = 0;
  /** Input audio appended since the buffer was last committed (or claimed by a response). */
  private buffered = 0;
  // A response.create sent, and no response.* since: an error event now means OpenAI refused it.
  private requested = false;
  private inputBps = 48000;
  private outputBps = 48000;
  /** The session's instructions, tools and prompt, which every response reads again. */
  private readonly inputs = new SessionInputs();
  /** OpenAI starts a response itself when it detects the end of the user's turn (turn detection, create_response). */
  private autoRespond = false;
  /** Input audio appended since OpenAI last started a response itself: turn detection may answer it with one. */
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
   * What the session has cost so far: each running response estimated, what was added since the last one
   * began, the response turn detection may start (whether or not one runs: a barge-in starts it), the turns
   * being transcribed — and the audio appended for the next turn at its transcription's bound.
   */
  get costMc(): number {
    const unread = this.added - this.claimedMark + this.buffered;
    return this.finalMc + this.transcription.bufferedMc + this.cost(unread + this.autoResponseTokens(), 0);
  }

  /** The charge at the end: every report, plus the estimate of each response (and transcription) the end cut off. */
  get finalMc(): number {
    let mc = this.reportedMc + this.transcription.reportedMc + this.transcription.pendingMc;
    for (const r of this.running) mc += this.cost(r.input, r.output);
    return mc;
  }

  /** What a response reads of the conversation now: the last report's total and what was added since. */
  private conversationTokens(): number {
    return this.contextTokens + this.added - this.contextMark;
  }

  /**
   * The input of the response turn detection may start for the audio appended, beyond what costMc counts on
   * its own. `after` (a client event not forwarded yet): what it becomes once the event is.
   */
  private autoResponseTokens(after?: any): number {
    const update = after?.type === "session.update" ? after.session : undefined;
    const on = this.autoRespond || turnDetection(update) === true;
    const pending = this.turnPending || after?.type === "input_audio_buffer.append";
    if (!on || !pending) return 0;
    const inputs = update !== undefined ? this.inputs.tokensAfter(update) : this.inputs.tokens();
    return this.contextTokens + this.claimedMark - this.contextMark + inputs;
  }

  /** The estimated cost a client event adds (before it is forwarded). */
  clientCostMc(frame: Frame): number {
    const msg = jsonOf(frame);
    let tokens = Math.max(0, this.autoResponseTokens(msg) - this.autoResponseTokens());
    if (msg?.type === "response.create") tokens += this.responseInput(msg.response) - (this.added - this.claimedMark + this.buffered);
    else tokens += this.addedTokens(msg);
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
    const type = msg?.type;
    if (type === "input_audio_buffer.append" && typeof msg.audio === "string") {
      this.buffered += this.addedTokens(msg);
      this.transcription.appended(base64Bytes(msg.audio));
      this.turnPending = true;
    } else if (type === "conversation.item.create") {
      this.added += this.addedTokens(msg);
    } else if (type === "input_audio_buffer.commit") {
      this.commit();
    } else if (type === "input_audio_buffer.clear") {
      this.buffered = 0;
    } else if (type === "session.update") {
      this.inputs.client(msg.session);
      // Turned on: counted at once. Turned off: once OpenAI says it applied it (the update may be refused).
      if (turnDetection(msg.session) === true) this.autoRespond = true;
    } else if (type === "response.create") {
      // Asked for: a session cut before OpenAI's answer still pays the estimate (OpenAI may have begun, and
      // bills the conversation it re-reads) — unless OpenAI refuses it (an error event before any response.*).
      const input = this.responseInput(msg.response);
      this.commit();
      this.begin({ started: false, outOfBand: msg.response?.conversation === "none", input });
      this.requested = true;
    }
  }

  server(frame: Frame): void {
    const msg = jsonOf(frame);
    const type = String(msg?.type ?? "");
    // A response runs once OpenAI says so (response.created, or any of its events; its own turn detection
    // starts some); a response.create it refuses (an error event before any response.*) is never charged.
    const r = type.startsWith("response.") ? this.responseOf(type, msg) : undefined;
    if (r) this.requested = false;
    else if (type === "error" && this.requested) {
      const i = this.running.findIndex((x) => !x.started);
      if (i >= 0) this.running.splice(i, 1);
      this.requested = this.running.some((x) => !x.started);
    }
    if (type === "session.created" || type === "session.updated") {
      const s = msg.session ?? {};
      this.inputs.server(type, s);
      this.autoRespond = turnDetection(s) ?? this.autoRespond;
      this.inputBps = bytesPerSecond(s.audio?.input?.format ?? s.input_audio_format);
      this.outputBps = bytesPerSecond(s.audio?.output?.format ?? s.output_audio_format);
      this.transcription.server(msg, this.inputBps);
    } else if (type.startsWith("input_audio_buffer.") || type.startsWith("conversation.item.input_audio_transcription.")) {
      if (type === "input_audio_buffer.committed" && this.autoRespond) this.commit();
      this.transcription.server(msg, this.inputBps);
    } else if (!r) {
      return;
    } else if ((type === "response.output_audio.delta" || type === "response.audio.delta") && typeof msg.delta === "string") {
      r.output += Math.ceil((base64Bytes(msg.delta) * OUTPUT_AUDIO_TOKENS_PER_SECOND) / this.outputBps);
    } else if (type.endsWith("text.delta") || type.endsWith("transcript.delta")) {
      r.output += 1;
    } else if (type === "response.done") {
      this.done(r, msg.response?.usage);
    }
  }

  /** The response an OpenAI response.* event belongs to (by its id; else the oldest asked for; else one OpenAI began). */
  private responseOf(type: string, msg: any): Running {
    const id = type === "response.created" || type === "response.done" ? msg.response?.id : msg.response_id;
    const key = typeof id === "string" ? id : undefined;
    let r = key !== undefined ? this.running.find((x) => x.id === key) : undefined;
    if (!r && key === undefined && type !== "response.created") r = this.running.findLast((x) => x.started);
    r ??= this.running.find((x) => !x.started);
    if (!r) {
      // Started by OpenAI itself (turn detection): it reads what a response.create would have.
      this.commit();
      r = this.begin({ started: true, outOfBand: false, input: this.conversationTokens() + this.inputs.tokens() });
      this.turnPending = false;
    }
    r.started = true;
    r.id ??= key;
    return r;
  }

  private begin(r: Omit<Running, "output" | "mark">): Running {
    const running = { ...r, output: 0, mark: this.added };
    this.running.push(running);
    this.claimedMark = this.added;
    return running;
  }

  /** Its report replaces its estimate; an in-conversation one is what the next response re-reads (plus what came after it began). */
  private done(r: Running, u: any): void {
    // A figure not reported, or not a count (negative, not finite, not whole): its estimate stands, as "a
    // missing figure at its bound" (a negative one would take from the bill).
    const input = count(u?.input_tokens, true) ?? r.input;
    const output = count(u?.output_tokens, true) ?? r.output;
    this.reportedMc += this.cost(input, output);
    this.usage.inputTokens += input;
    this.usage.outputTokens += output;
    this.running.splice(this.running.indexOf(r), 1);
    if (r.outOfBand) return;
    this.contextTokens = u ? input + output : r.input + r.output;
    this.contextMark = Math.max(this.contextMark, Math.min(r.mark, this.added));
  }

  /** The buffered audio is in the conversation now (a commit, or a response that reads it). */
  private commit(): void {
    this.added += this.buffered;
    this.buffered = 0;
  }

  private cost(inputTokens: number, outputTokens: number): number {
    return realtimeCostMc(this.model, inputTokens, outputTokens, this.prices);
  }

  /** What a client event adds to the conversation (input audio: to its buffer). */
  private addedTokens(msg: any): number {
    if (msg?.type === "input_audio_buffer.append") return typeof msg.audio === "string" ? this.audioTokens(msg.audio) : 0;
    if (msg?.type === "conversation.item.create") return itemTokens(msg.item, this.audioTokens);
    return 0;
  }

  /** What a response.create's response reads: the conversation so far, again, and the session's inputs or its own. */
  private responseInput(r: any): number {
    const read = this.conversationTokens() + this.buffered;
    if (!r || typeof r !== "object") return read + this.inputs.tokens();
    const own = typeof r.instructions === "string";
    let tokens = read + this.inputs.tokens(own) + textTokens(r.instructions);
    tokens += jsonTokens(r.tools) + jsonTokens(r.prompt);
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
