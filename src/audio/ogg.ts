// Ogg with Opus or Vorbis. Every page is walked (a decoder reads them all, chained streams included).
// Opus: the samples of every packet, from its TOC byte, so a forged granule position changes
// nothing; pre-skip is not subtracted (≤ a few ms on real files; counting it only over-reserves).
// Vorbis: a packet's length in samples depends on the setup header's modes, so the highest granule
// position is used, under the plausibility rule. Other codecs (Speex, FLAC, video) → null.
import { OPUS_SAMPLE_RATE, opusPacketSamples } from "./opus";
import { fourcc, LOSSY_MAX_BITS_PER_SECOND, MAX_TRACKS, nextByte, plausible, type Reading, view } from "./reading";

const PAGE_HEADER_BYTES = 27;
const CONTINUED_PACKET = 1;
/** Bytes kept from a stream's first packet to identify its codec; later packets need only the TOC. */
const ID_HEADER_BYTES = 16;

interface Stream {
  codec: "opus" | "vorbis" | "other" | null;
  rate: number;
  packets: number;
  samples: number;
  granule: number;
  bytes: number;
  /** First bytes of a packet that continues on the stream's next page. */
  open: number[] | null;
}

function finishPacket(s: Stream, first: number[]): void {
  const index = s.packets++;
  if (index === 0) {
    const magic = String.fromCharCode(...first.slice(0, 8));
    if (magic === "OpusHead") {
      s.codec = "opus";
      s.rate = OPUS_SAMPLE_RATE;
    } else if (magic.startsWith("\x01vorbis") && first.length >= 16) {
      s.codec = "vorbis";
      s.rate = (first[12] | (first[13] << 8) | (first[14] << 16) | (first[15] << 24)) >>> 0;
    } else s.codec = "other";
    return;
  }
  // Opus has two header packets (OpusHead, OpusTags); everything after is audio.
  if (s.codec === "opus" && index >= 2) s.samples += opusPacketSamples(first[0], first[1]);
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
  const v = view(b);
  const streams = new Map<number, Stream>();
  let pos = 0;
  while (pos >= 0 && pos + PAGE_HEADER_BYTES <= b.length) {
    if (!isPageAt(b, pos)) {
      // Decoders resync on the next capture pattern; so do we.
      pos = nextPage(b, pos + 1);
      continue;
    }
    const continued = (b[pos + 5] & CONTINUED_PACKET) !== 0;
    const granule = Number(v.getBigInt64(pos + 6, true));
    const serial = v.getUint32(pos + 14, true);
    const segments = b[pos + 26];
    const lacing = pos + PAGE_HEADER_BYTES;
    if (lacing + segments > b.length) break;
    let s = streams.get(serial);
    if (!s) {
      if (streams.size >= MAX_TRACKS) return null;
      s = { codec: null, rate: 0, packets: 0, samples: 0, granule: 0, bytes: 0, open: null };
      streams.set(serial, s);
    }
    // A packet left open by a page that this one doesn't continue is still a packet to a decoder.
    if (!continued && s.open) finishPacket(s, s.open);
    // A continuation of a packet whose start we never saw (after a resync) is skipped, as decoders do.
    let skipping = continued && !s.open;
    let packet = continued ? s.open : null;
    let at = lacing + segments;
    for (let k = 0; k < segments; k++) {
      const length = b[lacing + k];
      if (length > 0 && at >= b.length) break;
      if (skipping) skipping = length === 255;
      else {
        packet ??= [];
        const keep = s.packets === 0 ? ID_HEADER_BYTES : 2;
        for (let q = at; q < at + length && q < b.length && packet.length < keep; q++) packet.push(b[q]);
        if (length < 255) {
          finishPacket(s, packet);
          packet = null;
        }
      }
      at += length;
    }
    s.open = packet;
    s.bytes += Math.min(at, b.length) - (lacing + segments);
    if (granule > s.granule) s.granule = granule;
    if (s.codec === "other") return null;
    pos = at;
  }
  let seconds = 0;
  let audio = false;
  for (const s of streams.values()) {
    if (s.open) finishPacket(s, s.open);
    if (s.codec === "other") return null;
    if (s.codec === "opus") seconds += s.samples / OPUS_SAMPLE_RATE;
    else if (s.codec === "vorbis") {
      const stated = s.rate > 0 ? plausible(s.granule / s.rate, s.bytes, LOSSY_MAX_BITS_PER_SECOND) : null;
      if (stated === null) return null;
      seconds += stated;
    } else continue;
    audio = true;
  }
  return audio ? { format: "ogg", seconds } : null;
}
