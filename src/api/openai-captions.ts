// Subtitles for the OpenAI-compatible transcription's response_format srt and vtt, rendered from the
// native transcript: one cue per segment where the provider gave segments (Whisper), else word timings
// grouped into cues of a few seconds, else one cue spanning the whole audio. verbose_json's segments are
// cut the same way (verboseSegments). Pure functions.
import type { SttResult, SttSegment } from "../providers/types";

export interface Cue {
  start: number;
  end: number;
  text: string;
}

/** A cue ends before it would pass this many seconds, or this many words, or at a pause this long. */
const CUE_MAX_SECONDS = 5;
const CUE_MAX_WORDS = 14;
const CUE_BREAK_PAUSE_SECONDS = 1;

type Transcript = Pick<SttResult, "text" | "words" | "segments"> & { durationSeconds?: number };

/** Word timings grouped into cues: a new cue at a long pause, or when the current one is long enough. */
export function cuesFromWords(words: NonNullable<SttResult["words"]>): Cue[] {
  const cues: Cue[] = [];
  let current: { start: number; end: number; words: string[] } | undefined;
  for (const w of words) {
    const word = w.word.trim();
    if (!word || !Number.isFinite(w.start) || !Number.isFinite(w.end)) continue;
    const full =
      current &&
      (w.end - current.start > CUE_MAX_SECONDS ||
        current.words.length >= CUE_MAX_WORDS ||
        w.start - current.end >= CUE_BREAK_PAUSE_SECONDS);
    if (!current || full) {
      if (current) cues.push({ start: current.start, end: current.end, text: current.words.join(" ") });
      current = { start: w.start, end: Math.max(w.start, w.end), words: [word] };
    } else {
      current.words.push(word);
      current.end = Math.max(current.end, w.end);
    }
  }
  if (current) cues.push({ start: current.start, end: current.end, text: current.words.join(" ") });
  return cues;
}

/** The cues of a transcript: its segments, else its words, else one cue over 0..duration (none for no text). */
export function cuesOf(t: Transcript): Cue[] {
  const segments = (t.segments ?? []).filter((s) => s.text.trim() && Number.isFinite(s.start) && Number.isFinite(s.end));
  if (segments.length) return segments.map((s) => ({ start: s.start, end: Math.max(s.start, s.end), text: s.text.trim() }));
  const fromWords = t.words?.length ? cuesFromWords(t.words) : [];
  if (fromWords.length) return fromWords;
  const text = t.text.trim();
  return text ? [{ start: 0, end: Math.max(0, t.durationSeconds ?? 0), text }] : [];
}

/** `HH:MM:SS,mmm` (SubRip) or `HH:MM:SS.mmm` (WebVTT). */
export function cueTime(seconds: number, separator: "," | "."): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms % 1000, 3)}`;
}

/** A cue's text must not end it early: no blank lines inside (both formats), no "-->" (WebVTT). */
const cueText = (text: string) =>
  text
    .replace(/\r\n?/g, "\n")
    .replace(/\n{2,}/g, "\n")
    .replaceAll("-->", "->");

export function srt(cues: Cue[]): string {
  return cues.map((c, i) => `${i + 1}\n${cueTime(c.start, ",")} --> ${cueTime(c.end, ",")}\n${cueText(c.text)}\n\n`).join("");
}

export function vtt(cues: Cue[]): string {
  return `WEBVTT\n\n${cues.map((c) => `${cueTime(c.start, ".")} --> ${cueTime(c.end, ".")}\n${cueText(c.text)}\n\n`).join("")}`;
}

/** OpenAI's TranscriptionSegment (verbose_json): every field its spec requires. */
export interface VerboseSegment {
  id: number;
  seek: number;
  start: number;
  end: number;
  text: string;
  tokens: number[];
  temperature: number;
  avg_logprob: number;
  compression_ratio: number;
  no_speech_prob: number;
}

/**
 * What a segment reports when its provider says nothing of its decoding (Deepgram, ElevenLabs, Cartesia,
 * Fish, …; or a Whisper answer missing a field): values that claim nothing and trip none of the checks
 * OpenAI documents for them. seek 0 (no offset into the audio known), tokens [] (no token ids: the
 * provider's tokenizer is not Whisper's), temperature 0 (OpenAI's default, no resampling), avg_logprob 0
 * (not below -1, so not "logprobs failed"), compression_ratio 1 (not above 2.4, so not "compression
 * failed": text no more repetitive than itself), no_speech_prob 0 (the provider transcribed speech here,
 * so a client dropping silent segments keeps it).
 */
export const NEUTRAL_SEGMENT = { seek: 0, tokens: [] as number[], temperature: 0, avg_logprob: 0, compression_ratio: 1, no_speech_prob: 0 };

/**
 * verbose_json's segments in OpenAI's shape: the provider's own segments with the decoding details it gave
 * (Whisper at OpenAI and Groq), else the srt/vtt cues (word timings grouped, or one over the audio), the
 * fields the provider cannot give filled with NEUTRAL_SEGMENT's values.
 */
export function verboseSegments(t: Transcript): VerboseSegment[] {
  const given: (Cue & Partial<SttSegment>)[] = t.segments?.length ? t.segments : cuesOf(t);
  return given.map((s, id) => ({
    id,
    seek: s.seek ?? NEUTRAL_SEGMENT.seek,
    start: s.start,
    end: s.end,
    text: s.text,
    tokens: s.tokens ?? [...NEUTRAL_SEGMENT.tokens],
    temperature: s.temperature ?? NEUTRAL_SEGMENT.temperature,
    avg_logprob: s.avg_logprob ?? NEUTRAL_SEGMENT.avg_logprob,
    compression_ratio: s.compression_ratio ?? NEUTRAL_SEGMENT.compression_ratio,
    no_speech_prob: s.no_speech_prob ?? NEUTRAL_SEGMENT.no_speech_prob,
  }));
}
