// What an OpenAI Realtime response reads besides the conversation, bounded for RealtimeMeter (openai.ts)
// before the client event that brings it is forwarded (API.md §6: what is reserved bounds what it costs).
// OpenAI bills, as input tokens of every response, the session's `instructions`, `tools` and `prompt` (set
// by session.update, kept until a later one replaces them) and whatever the response.create itself brings:
// its own `instructions` (which replace the session's: "the server sets default instructions which will be
// used if this field is not set"), `tools`, `prompt` and `input` items (openai-node 6.30.1
// resources/realtime/realtime.d.ts, RealtimeResponseCreateParams; RealtimeSessionCreateRequest).
//
// Text is bounded as chat bounds a prompt (src/metering/estimates.ts, chatBound): one token per UTF-8 byte,
// a byte-level BPE token covering at least one byte. Tools and a prompt reference by their JSON text's bytes
// (the model reads the definitions rendered as text, about as long). Whether a response's own tools replace
// the session's or add to them is not documented: the bound assumes they add.
//
// Which session inputs hold is what OpenAI last applied (session.created / session.updated: its defaults
// included) — or, while a client's session.update is not answered yet, what that update makes them, if more:
// an update is counted as soon as it is forwarded (a response.create right behind it reads it), and one
// OpenAI refuses (an error event, no session.updated) never lowers the bound below what still holds.

const utf8 = new TextEncoder();

/** Text's tokens, at most: its UTF-8 bytes. */
export function textTokens(text: unknown): number {
  return typeof text === "string" ? utf8.encode(text).byteLength : 0;
}

/** A structured input's (tools, a prompt reference) tokens, bounded by its JSON text's bytes; none when absent. */
export function jsonTokens(value: unknown): number {
  return value === undefined || value === null ? 0 : textTokens(JSON.stringify(value));
}

/**
 * A conversation item's input tokens: its content's texts (text, or an audio part's transcript) and audio
 * (`audioTokens` of its base64), a function call's arguments and a function call output's output.
 */
export function itemTokens(item: any, audioTokens: (base64: string) => number): number {
  if (!item || typeof item !== "object") return 0;
  let tokens = textTokens(item.arguments) + textTokens(item.output);
  for (const part of Array.isArray(item.content) ? item.content : []) {
    tokens += textTokens(part?.text ?? part?.transcript);
    if (typeof part?.audio === "string") tokens += audioTokens(part.audio);
  }
  return tokens;
}

const FIELDS = ["instructions", "tools", "prompt"] as const;
type Field = (typeof FIELDS)[number];
type Inputs = Record<Field, number>;

/** Client updates held unanswered at most (a client that sends more before OpenAI answers has the oldest folded in). */
const UNANSWERED_MAX = 16;

/** The session-level inputs every response reads again. */
export class SessionInputs {
  /** As OpenAI last said it applied them. */
  private applied: Inputs = { instructions: 0, tools: 0, prompt: 0 };
  /** Each client session.update forwarded and not yet answered by a session.updated: the inputs it makes. */
  private unanswered: Inputs[] = [];

  /** What a response reads of them at most (`ownInstructions`: it brings its own, which replace the session's). */
  tokens(ownInstructions = false): number {
    let most = 0;
    for (const inputs of [this.applied, ...this.unanswered]) {
      most = Math.max(most, inputs.tools + inputs.prompt + (ownInstructions ? 0 : inputs.instructions));
    }
    return most;
  }

  /** What tokens() becomes once the client's session.update `session` is forwarded. */
  tokensAfter(session: unknown): number {
    const next = this.merged(session);
    return Math.max(this.tokens(), next.instructions + next.tools + next.prompt);
  }

  /** A client's session.update, forwarded. */
  client(session: unknown): void {
    this.unanswered.push(this.merged(session));
    if (this.unanswered.length > UNANSWERED_MAX) {
      const [oldest, next] = this.unanswered.splice(0, 2) as [Inputs, Inputs];
      this.unanswered.unshift({
        instructions: Math.max(oldest.instructions, next.instructions),
        tools: Math.max(oldest.tools, next.tools),
        prompt: Math.max(oldest.prompt, next.prompt),
      });
    }
  }

  /** OpenAI's session.created or session.updated (the latter answers the oldest update unanswered). */
  server(type: string, session: unknown): void {
    if (type === "session.updated") this.unanswered.shift();
    this.applied = apply(this.applied, session);
  }

  private merged(session: unknown): Inputs {
    return apply(this.unanswered.at(-1) ?? this.applied, session);
  }
}

/** The inputs after a session object: each field it names replaces the one before (absent: unchanged). */
function apply(before: Inputs, session: unknown): Inputs {
  const next = { ...before };
  if (!session || typeof session !== "object") return next;
  const s = session as Record<string, unknown>;
  if ("instructions" in s) next.instructions = textTokens(s.instructions);
  if ("tools" in s) next.tools = jsonTokens(s.tools);
  if ("prompt" in s) next.prompt = jsonTokens(s.prompt);
  return next;
}
