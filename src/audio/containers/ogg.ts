// Ogg with Opus or Vorbis. Every page is walked (a decoder reads them all, chained streams included)
// and every packet counted from its own first bytes, so forged granule positions change nothing.
// Opus: samples from each packet's TOC byte; pre-skip is not subtracted (a few ms on real files;
// counting it only over-reserves). Vorbis: each packet's block size from its mode (vorbis.ts).
// Other codecs (Speex, FLAC, video) → null.
// `!` on byte reads: a page header and its lacing values are read only once all their bytes are present.
import { OPUS_SAMPLE_RATE, opusPacketSamples } from "./opus";
import { fourcc, LOSSY_MAX_BITS_PER_SECOND, MAX_TRACKS, nextByte, plausible, type Reading } from "./reading";
import { VORBIS_SETUP_MAX_BYTES, VorbisCounter, vorbisStream } from "./vorbis";

const PAGE_HEADER_BYTES = 27;
const CONTINUED_PACKET = 1;
/** Bytes kept from a stream's first packet: enough for OpusHead and the Vorbis identification header. */
const ID_HEADER_BYTES = 30;
const VORBIS_SETUP_PACKET = 2;

interface Stream {
  codec: "opus" | "vorbis" | "other" | null;
  packets: number;
  opusSamples: number;
  idHeader: number[];
  vorbis: VorbisCounter | null;
  /** Page body bytes, for the plausibility rule. */
  bytes: number;
  /** First bytes of a packet that continues on the stream's next page. */
  open: number[] | null;
}

/** How many of a packet's bytes the stream needs: all of Vorbis's setup header, else the first few. */
function bytesToKeep(s: Stream): number {
  if (s.packets === 0) return ID_HEADER_BYTES;
  return s.codec === "vorbis" && s.packets === VORBIS_SETUP_PACKET ? VORBIS_SETUP_MAX_BYTES : 2;
}

function finishPacket(s: Stream, first: number[]): void {
  const index = s.packets++;
  if (index === 0) {
    const magic = String.fromCharCode(...first.slice(0, 8));
    s.codec = magic === "OpusHead" ? "opus" : magic.startsWith("\x01vorbis") ? "vorbis" : "other";
    s.idHeader = first;
  } else if (s.codec === "opus" && index >= 2) {
    // Two header packets (OpusHead, OpusTags); everything after is audio.
    s.opusSamples += opusPacketSamples(first[0], first[1]);
  } else if (s.codec === "vorbis" && index === VORBIS_SETUP_PACKET) {
    // A setup header we can't read is one a decoder can't either: not measured.
    const stream = vorbisStream(s.idHeader, first);
    if (stream) s.vorbis = new VorbisCounter(stream);
    else s.codec = "other";
  } else if (s.vorbis) s.vorbis.add(first[0]);
}

function nextPage(b: Uint8Array, from: number): number {
  for (let i = nextByte(b, 0x4f, from); i >= 0 && i + 4 <= b.length; i = nextByte(b, 0x4f, i + 1)) {
    if (isPageAt(b, i)) return i;
  }
  return -1;
}

/** "OggS" then stream structure version 0. */
function isPageAt(b: Uint8Array, i: number): boolean {
  return b[i] === 0x4f && b[i + 1] === 0x67 && b[i + 2] === 0x67 && b[i + 3] === 0x53 && b[i + 4] === 0;
}

export function isOgg(b: Uint8Array): boolean {
  return fourcc(b, 0) === "OggS";
}

export function readOgg(b: Uint8Array): Reading | null {
  const streams = new Map<number, Stream>();
  let pos = 0;
  while (pos >= 0 && pos + PAGE_HEADER_BYTES <= b.length) {
    if (!isPageAt(b, pos)) {
      // Decoders resync on the next capture pattern; so do we.
      pos = nextPage(b, pos + 1);
      continue;
    }
    const continued = (b[pos + 5]! & CONTINUED_PACKET) !== 0;
    const serial = (b[pos + 14]! | (b[pos + 15]! << 8) | (b[pos + 16]! << 16) | (b[pos + 17]! << 24)) >>> 0;
    const segments = b[pos + 26]!;
    const lacing = pos + PAGE_HEADER_BYTES;
    if (lacing + segments > b.length) break;
    let s = streams.get(serial);
    if (!s) {
      if (streams.size >= MAX_TRACKS) return null;
      s = { codec: null, packets: 0, opusSamples: 0, idHeader: [], vorbis: null, bytes: 0, open: null };
      streams.set(serial, s);
    }
    // A packet left open by a page that this one doesn't continue is still a packet to a decoder.
    if (!continued && s.open) finishPacket(s, s.open);
    // A continuation of a packet whose start we never saw (after a resync) is skipped, as decoders do.
    let skipping = continued && !s.open;
    let packet = continued ? s.open : null;
    let at = lacing + segments;
    for (let k = 0; k < segments; k++) {
      const length = b[lacing + k]!;
      if (length > 0 && at >= b.length) break;
      if (skipping) skipping = length === 255;
      else {
        packet ??= [];
        const keep = bytesToKeep(s);
        for (let q = at; q < at + length && q < b.length && packet.length < keep; q++) packet.push(b[q]!);
        if (length < 255) {
          finishPacket(s, packet);
          packet = null;
        }
      }
      at += length;
    }
    s.open = packet;
    s.bytes += Math.min(at, b.length) - (lacing + segments);
    if (s.codec === "other") return null;
    pos = at;
  }
  let seconds = 0;
  let audio = false;
  for (const s of streams.values()) {
    if (s.open) finishPacket(s, s.open);
    if (s.codec === "other") return null;
    let count: number;
    if (s.codec === "opus") count = s.opusSamples / OPUS_SAMPLE_RATE;
    else if (s.vorbis) count = s.vorbis.seconds;
    else if (s.codec === "vorbis") {
      return null; // cut before its setup header
    } else continue;
    // A count is held to the plausibility rule too (against a bug of ours, or packets that aren't Opus).
    const checked = plausible(count, s.bytes, LOSSY_MAX_BITS_PER_SECOND);
    if (checked === null) return null;
    seconds += checked;
    audio = true;
  }
  return audio ? { format: "ogg", seconds } : null;
}
