// Deterministic live-transcription schedule shared by the three listen mocks (Deepgram, ElevenLabs,
// Cartesia). Pure JS (no node: imports) so tests can import it to predict what a session returns.
//
// Audio seconds = bytes / bytesPerSecond. Every time the received audio crosses a multiple of 0.5 s a
// segment is emitted: at whole seconds a FINAL one covering [end of the last final, that second], at the
// half seconds an INTERIM one covering [end of the last final, that half second]. flush() (Finalize /
// commit / finalize / end of stream) emits a final for the rest, if any.
//
// Words: word n covers [(n-1)·0.5 s, n·0.5 s]; a segment's text is the words it overlaps, e.g. the
// final for [0, 1 s] is "word1 word2", the interim at 1.5 s "word3", a 0.3 s tail after 2 s "word5".

/** Bytes per sample for each provider encoding name (1 for the 8-bit telephony codecs). */
const SAMPLE_BYTES = {
  linear16: 2,
  linear32: 4,
  mulaw: 1,
  alaw: 1,
  pcm_s16le: 2,
  pcm_f16le: 2,
  pcm_s32le: 4,
  pcm_f32le: 4,
  pcm_mulaw: 1,
  pcm_alaw: 1,
  pcm: 2,
  ulaw: 1,
};

/** Used when a stream names no raw encoding (containerised audio): as the HTTP mocks, 1000 bytes = 1 s. */
export const FALLBACK_BYTES_PER_SECOND = 1000;

/** bytes/s for an encoding name and sample rate, or null if the encoding is not a raw one we know. */
export function bytesPerSecondFor(encoding, sampleRate, channels = 1) {
  const size = SAMPLE_BYTES[String(encoding || "").toLowerCase()];
  const rate = Number(sampleRate);
  if (!size || !(rate > 0)) return null;
  return size * rate * (Number(channels) > 0 ? Number(channels) : 1);
}

/** ElevenLabs `audio_format` (pcm_16000, ulaw_8000, …) → bytes/s. */
export function elevenlabsBytesPerSecond(audioFormat) {
  const m = /^(pcm|ulaw|alaw)_(\d+)$/.exec(String(audioFormat || ""));
  return m ? bytesPerSecondFor(m[1], m[2]) : null;
}

const HALF = 0.5;
const ms = (x) => Math.round(x * 1000) / 1000;

export class ListenMeter {
  /** @param {number} bytesPerSecond */
  constructor(bytesPerSecond) {
    this.bytesPerSecond = bytesPerSecond;
    this.bytes = 0;
    this.finalBytes = 0; // where the last final segment ended
    this.marks = 0; // half-second boundaries already passed
  }

  get seconds() {
    return this.bytes / this.bytesPerSecond;
  }

  /** Add n bytes of audio; returns the segments that became due, in order. */
  push(n) {
    this.bytes += n;
    const out = [];
    // boundary k is at k·bytesPerSecond/2 bytes; compare 2·bytes ≥ k·bytesPerSecond to stay in integers
    while (2 * this.bytes >= (this.marks + 1) * this.bytesPerSecond) {
      this.marks += 1;
      const endBytes = (this.marks * this.bytesPerSecond) / 2;
      const isFinal = this.marks % 2 === 0;
      out.push(this.segment(endBytes, isFinal));
      if (isFinal) this.finalBytes = endBytes;
    }
    return out;
  }

  /** Final segment for audio not yet covered by a final one, or null if there is none. */
  flush() {
    if (this.bytes <= this.finalBytes) return null;
    const seg = this.segment(this.bytes, true);
    this.finalBytes = this.bytes;
    return seg;
  }

  segment(endBytes, isFinal) {
    const start = this.finalBytes / this.bytesPerSecond;
    const end = endBytes / this.bytesPerSecond;
    const words = wordsBetween(start, end);
    const duration = (endBytes - this.finalBytes) / this.bytesPerSecond; // from bytes: no float drift
    return { isFinal, start, end, duration, words, text: words.map((w) => w.word).join(" ") };
  }
}

/** The mock words overlapping [start, end] seconds, with their clipped timings. */
export function wordsBetween(start, end) {
  const words = [];
  const first = Math.floor(start / HALF + 1e-9);
  const last = Math.ceil(end / HALF - 1e-9);
  for (let i = first; i < Math.max(last, first + 1); i++) {
    words.push({ word: `word${i + 1}`, start: ms(Math.max(start, i * HALF)), end: ms(Math.min(end, (i + 1) * HALF)) });
  }
  return words;
}
