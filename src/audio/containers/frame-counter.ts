// Seconds of a track's frames, counted codec by codec from the frames themselves (as a decoder would
// produce them), for containers that hand us each frame: Matroska/WebM blocks. A codec not listed
// here has no counter; its container's stated duration is then all there is.
// `!` on reads checked just before: Xiph lacing's size bytes, and the three Vorbis headers.
import { AAC_FRAME_SAMPLES, ascCoreRate } from "./aac-config";
import { mpegFramesSeconds } from "./mpeg";
import { OPUS_SAMPLE_RATE, opusPacketSamples } from "./opus";
import { VorbisCounter, vorbisStream } from "./vorbis";

export interface TrackInfo {
  codec: string;
  codecPrivate: Uint8Array | null;
  /** From the container's audio fields (Matroska defaults: 8 kHz, 1 channel, no bit depth). */
  rate: number;
  channels: number;
  bitDepth: number;
}

export interface FrameCounter {
  add(b: Uint8Array, at: number, length: number): void;
  readonly seconds: number;
}

function counter(add: FrameCounter["add"], seconds: () => number): FrameCounter {
  return {
    add,
    get seconds() {
      return seconds();
    },
  };
}

export function frameCounterFor(track: TrackInfo): FrameCounter | null {
  const { codec } = track;
  if (codec === "A_OPUS") {
    let samples = 0;
    return counter(
      (b, at, length) => {
        samples += opusPacketSamples(length > 0 ? b[at] : undefined, length > 1 ? b[at + 1] : undefined);
      },
      () => samples / OPUS_SAMPLE_RATE,
    );
  }
  if (codec === "A_VORBIS") {
    const headers = track.codecPrivate && xiphPackets(track.codecPrivate);
    const stream = headers && headers.length === 3 ? vorbisStream(headers[0]!, headers[2]!) : null;
    if (!stream) return null;
    const vorbis = new VorbisCounter(stream);
    return counter(
      (b, at, length) => vorbis.add(length > 0 ? b[at] : undefined),
      () => vorbis.seconds,
    );
  }
  if (codec === "A_AAC" && track.codecPrivate) {
    // Old-style ids (A_AAC/MPEG4/LC/SBR…) carry no AudioSpecificConfig; their rate may be SBR's doubled one.
    const rate = ascCoreRate(track.codecPrivate, 0, track.codecPrivate.length);
    if (rate === 0) return null;
    let frames = 0;
    return counter(
      () => {
        frames++;
      },
      () => (frames * AAC_FRAME_SAMPLES) / rate,
    );
  }
  if (codec.startsWith("A_MPEG/L")) {
    let seconds = 0;
    return counter(
      (b, at, length) => {
        seconds += mpegFramesSeconds(b, at, at + length);
      },
      () => seconds,
    );
  }
  if (codec.startsWith("A_PCM/") && track.bitDepth > 0 && track.rate > 0) {
    const bytesPerSecond = track.rate * track.channels * Math.ceil(track.bitDepth / 8);
    let bytes = 0;
    return counter(
      (_b, _at, length) => {
        bytes += length;
      },
      () => bytes / bytesPerSecond,
    );
  }
  return null;
}

/** Packets in Xiph lacing (Matroska's CodecPrivate for Vorbis): count − 1, then all sizes but the last. */
function xiphPackets(data: Uint8Array): Uint8Array[] | null {
  if (data.length === 0) return null;
  const count = data[0]! + 1;
  let p = 1;
  const sizes: number[] = [];
  for (let k = 1; k < count; k++) {
    let size = 0;
    while (p < data.length && data[p] === 255) size += data[p++]!;
    if (p >= data.length) return null;
    sizes.push(size + data[p++]!);
  }
  const packets: Uint8Array[] = [];
  for (const size of sizes) {
    packets.push(data.subarray(p, p + size));
    p += size;
  }
  if (p > data.length) return null;
  packets.push(data.subarray(p));
  return packets;
}
