// How much text a speech provider takes at once. Every speech adapter declares its own limit
// (TtsAdapter.maxText, with the source it comes from); the gateway refuses longer text with 400
// validation_failed before anything is reserved or sent, drops a fallback that cannot take it from the
// chain (src/gateway/synthesize.ts), and a realtime speak session cuts a client's text message into
// pieces the provider's WebSocket takes (SpeakProvider.maxTextChars, src/realtime/speak.ts).
import type { SpeechFormat as AudioFormat } from "../audio/plan";

/** The longest text Voxgate takes in one speech request or realtime text message (API.md §4: text 1..5000). */
export const SPEECH_TEXT_MAX_CHARS = 5000;

/** A provider's limit on the text of one speech request, in characters (Unicode code points, as billed). */
export interface TextLimit {
  chars: number;
  /** Where the figure comes from, for people (docs/PROVIDERS.md); "none documented" when Voxgate's own bound applies. */
  source: string;
  /** Narrower (or wider) limits, the first that matches wins: a model (id prefix) and/or a format asked of the provider. */
  when?: readonly TextLimitRule[];
}

export interface TextLimitRule {
  /** A model id prefix, e.g. "aura-2" (the model the provider runs: TtsAdapter.upstreamModel). */
  model?: string;
  /** The format asked of the provider (it may pick the endpoint, e.g. Resemble's mp3 comes from /synthesize). */
  format?: AudioFormat;
  chars: number;
}

/** Characters as Voxgate counts and bills them: Unicode code points. */
export const textChars = (text: string): number => {
  let n = 0;
  for (const _ of text) n++;
  return n;
};

/** The most characters one request to the provider may carry for `model` and `format`: never above Voxgate's own bound. */
export function maxTextChars(limit: TextLimit, model: string, format: AudioFormat | undefined): number {
  const rule = limit.when?.find(
    (r) => (r.model === undefined || model.startsWith(r.model)) && (r.format === undefined || r.format === format),
  );
  return Math.min(rule?.chars ?? limit.chars, SPEECH_TEXT_MAX_CHARS);
}

/**
 * `text` cut into pieces of at most `max` characters, in order, nothing added or lost: each cut is made
 * after the last whitespace of a piece where it has one (a word is not split), else at `max` characters.
 */
export function textPieces(text: string, max: number): string[] {
  const chars = [...text];
  if (chars.length <= max) return [text];
  const pieces: string[] = [];
  for (let at = 0; at < chars.length; ) {
    let end = Math.min(at + max, chars.length);
    if (end < chars.length) {
      let cut = end;
      while (cut > at && !/\s/.test(chars[cut - 1] as string)) cut--;
      if (cut > at) end = cut;
    }
    pieces.push(chars.slice(at, end).join(""));
    at = end;
  }
  return pieces;
}
