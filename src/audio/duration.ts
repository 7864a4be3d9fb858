// How long a transcription's audio is, for the credits reserved before any provider is called
// (API.md §6 "A reservation bounds the work"). The reservation is adversarial: the caller chooses the
// bytes and every header in them. So each container is read for what its decoder actually plays
// (frames counted, bytes present) rather than for what it claims, a claimed duration is believed
// only if its bitrate is plausible, and anything else gets the size bound, which no real audio exceeds.
// `!` on byte reads: an ID3 header is read only once all of its 10 bytes are present.
import { isFlac, readFlac } from "./containers/flac";
import { isMatroska, readMatroska } from "./containers/matroska";
import { isMp4, readMp4 } from "./containers/mp4";
import { mpegFormat, readMpeg } from "./containers/mpeg";
import { isOgg, readOgg } from "./containers/ogg";
import type { AudioFormat, Reading } from "./containers/reading";
import { isWav, readWav } from "./containers/wav";

export type { AudioFormat } from "./containers/reading";
export { LOSSLESS_MAX_BITS_PER_SECOND, LOSSY_MAX_BITS_PER_SECOND } from "./containers/reading";

export interface AudioDuration {
  seconds: number;
  /** "container": read from the audio itself; "size_bound": the conservative bound from its size. */
  source: "container" | "size_bound";
  /** The container the bytes are, when recognised (also when its reading was not believed). */
  format?: AudioFormat;
}

/**
 * The lowest bitrate assumed for audio whose duration can't be read: below every speech codec a
 * provider decodes — Speex's narrowband 2.15 kbit/s mode (the lowest; ~2.6 kbit/s once in Ogg),
 * AMR-NB 4.75, Opus 6, G.729 and MPEG-2.5 layer III 8 — so bytes × 8 / 2,000 is never below the true
 * duration of real audio. No ceiling: 25 MiB reserves ~29 hours, and settlement refunds the rest.
 * (Opus with DTX can average less in silence, but Opus comes in Ogg, WebM or MP4, whose packets are counted.)
 */
export const SIZE_BOUND_BITS_PER_SECOND = 2_000;

export function sizeBoundSeconds(bytes: number): number {
  return (bytes * 8) / SIZE_BOUND_BITS_PER_SECOND;
}

/**
 * The seconds to reserve for `data`. `contentType` (the caller's claim) is only checked against the
 * bytes: audio of one family labelled as another gets the size bound, since a provider that trusts
 * the label may decode other audio than the one we measured.
 */
export async function measureAudio(data: Blob | Uint8Array, contentType?: string): Promise<AudioDuration> {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(await data.arrayBuffer());
  const bound = { seconds: sizeBoundSeconds(bytes.length), source: "size_bound" as const };
  let format: AudioFormat | undefined;
  let reading: Reading | null = null;
  try {
    ({ format, reading } = readContainer(bytes));
  } catch {
    // A parser that trips over forged bytes has measured nothing.
  }
  if (!format) return bound;
  // A container read as holding no audio at all gets the size bound too: a reservation is never 0.
  if (!reading || !Number.isFinite(reading.seconds) || reading.seconds <= 0) return { ...bound, format };
  // More seconds than the size bound allows is not audio these bytes can hold (e.g. a header claiming
  // 10 h with 1 s present); the bound is then the tighter truth.
  if (reading.seconds > bound.seconds || labelContradicts(contentType, reading.format)) return { ...bound, format: reading.format };
  return { seconds: reading.seconds, source: "container", format: reading.format };
}

/** Where ID3v2 tags end (MP3, ADTS and some FLAC files start with them), or 0 when there are none. */
function afterId3(b: Uint8Array): number {
  let at = 0;
  while (at + 10 <= b.length && b[at] === 0x49 && b[at + 1] === 0x44 && b[at + 2] === 0x33) {
    // Four 7-bit bytes of size, plus a 10-byte footer when flagged.
    const size = (b[at + 6]! << 21) | (b[at + 7]! << 14) | (b[at + 8]! << 7) | b[at + 9]!;
    at += 10 + size + (b[at + 5]! & 0x10 ? 10 : 0);
  }
  return at;
}

/** The container the bytes are (by magic number) and what its parser reads from them. */
function readContainer(b: Uint8Array): { format?: AudioFormat; reading: Reading | null } {
  if (isWav(b)) return { format: "wav", reading: readWav(b) };
  if (isOgg(b)) return { format: "ogg", reading: readOgg(b) };
  if (isMatroska(b)) return { format: "webm", reading: readMatroska(b) };
  if (isMp4(b)) return { format: "mp4", reading: readMp4(b) };
  const start = afterId3(b);
  if (isFlac(b, start)) return { format: "flac", reading: readFlac(b, start) };
  // MPEG audio and ADTS have no magic number: a run of frames near the start says which it is.
  const format = mpegFormat(b, start);
  return { format, reading: format ? readMpeg(b, start) : null };
}

/** Media types by the container family they name; labels not listed here are not checked. */
const LABELS: Record<string, AudioFormat[]> = {
  "audio/wav": ["wav"],
  "audio/x-wav": ["wav"],
  "audio/wave": ["wav"],
  "audio/vnd.wave": ["wav"],
  "audio/mpeg": ["mp3"],
  "audio/mp3": ["mp3"],
  "audio/mpeg3": ["mp3"],
  "audio/x-mpeg": ["mp3"],
  "audio/mpga": ["mp3"],
  "audio/flac": ["flac"],
  "audio/x-flac": ["flac"],
  "audio/ogg": ["ogg"],
  "audio/opus": ["ogg"],
  "application/ogg": ["ogg"],
  "audio/vorbis": ["ogg"],
  "audio/webm": ["webm"],
  "video/webm": ["webm"],
  "audio/x-matroska": ["webm"],
  "video/x-matroska": ["webm"],
  // AAC is labelled audio/aac whether raw ADTS or in an M4A.
  "audio/aac": ["aac", "mp4"],
  "audio/x-aac": ["aac", "mp4"],
  "audio/mp4": ["mp4"],
  "audio/m4a": ["mp4"],
  "audio/x-m4a": ["mp4"],
  "video/mp4": ["mp4"],
  "video/quicktime": ["mp4"],
  "audio/3gpp": ["mp4"],
  "video/3gpp": ["mp4"],
};

function labelContradicts(contentType: string | undefined, format: AudioFormat): boolean {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  const families = LABELS[type];
  return families !== undefined && !families.includes(format);
}

/**
 * File-name extensions per container, the first one canonical. OpenAI and Groq tell an upload's format by
 * its name's extension alone (their spec asks for "an extension-bearing filename"; `.opus`, `.bin` or none
 * is refused), so an upload goes out under an extension that names what its bytes are.
 */
const EXTENSIONS: Record<AudioFormat, readonly string[]> = {
  wav: ["wav"],
  mp3: ["mp3", "mpeg", "mpga"],
  // Raw ADTS is often named .m4a, a name OpenAI takes (its decoder probes the bytes); .aac it refuses.
  aac: ["aac", "m4a"],
  flac: ["flac"],
  ogg: ["ogg", "oga"],
  webm: ["webm"],
  mp4: ["m4a", "mp4"],
};

/** `filename` with the extension of the container `format` (kept when it already names it); unchanged when unknown. */
export function fileNameFor(filename: string, format: AudioFormat | undefined): string {
  if (!format) return filename;
  const dot = filename.lastIndexOf(".");
  const extension = dot > 0 ? filename.slice(dot + 1).toLowerCase() : "";
  if (EXTENSIONS[format].includes(extension)) return filename;
  const stem = dot > 0 ? filename.slice(0, dot) : filename;
  return `${stem || "audio"}.${EXTENSIONS[format][0]}`;
}
