// `node bench/audio-duration.mjs`: how long measureAudio (src/audio/duration.ts) takes on 25 MiB, the
// largest upload, for each container and for the worst non-audio inputs. Node runs the same V8 as
// workerd; a Worker has ~30 s of CPU by default, and a scan should stay well under 100 ms.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tsImport } from "tsx/esm/api";

const ROOT = new URL("..", import.meta.url).pathname;
const { measureAudio } = await tsImport(join(ROOT, "src/audio/duration.ts"), import.meta.url);
const MIB_25 = 25 * 1024 * 1024;
const RUNS = 7;

const fixture = (name) => new Uint8Array(readFileSync(join(ROOT, "test/fixtures/audio", name)));
/** A fixture repeated to 25 MiB: for MP3 a valid longer stream, for the others a worst case of the same shape. */
function repeated(name) {
  const one = fixture(name);
  const out = new Uint8Array(MIB_25);
  for (let at = 0; at < out.length; at += one.length) out.set(one.subarray(0, Math.min(one.length, out.length - at)), at);
  return out;
}
function wav() {
  const out = new Uint8Array(MIB_25);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode("RIFF\0\0\0\0WAVEfmt "));
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, 16000, true);
  v.setUint32(28, 32000, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  out.set(new TextEncoder().encode("data"), 36);
  return out;
}
function noise() {
  const out = new Uint8Array(MIB_25);
  let x = 0x9e3779b9;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
/** A real file's start, then a pattern repeated to 25 MiB: forged input shaped to cost the scans most. */
function forged(name, pattern) {
  const out = new Uint8Array(MIB_25);
  const head = fixture(name);
  for (let i = head.length; i < out.length; i++) out[i] = pattern[(i - head.length) % pattern.length];
  out.set(head);
  return out;
}

/** A fragmented MP4's header and moov once, then its moof/mdat fragments repeated to 25 MiB: a valid stream. */
function mp4Fragments(name) {
  const one = fixture(name);
  const moof = Buffer.from(one).indexOf("moof") - 4;
  const out = new Uint8Array(MIB_25);
  out.set(one.subarray(0, moof));
  const body = one.subarray(moof);
  let at = moof;
  for (; at + body.length <= out.length; at += body.length) out.set(body, at);
  return out.subarray(0, at);
}

const inputs = {
  "mp3 (bare frames, valid)": [repeated("speech-44k-plain.mp3"), "audio/mpeg"],
  "forged: mp3 + FF bytes": [forged("speech-44k-plain.mp3", [0xff]), "audio/mpeg"],
  "forged: mp3 + unconfirmed headers": [forged("speech-44k-plain.mp3", [0xff, 0xfb, 0x90, 0x64]), "audio/mpeg"],
  "flac (file repeated)": [repeated("speech.flac"), "audio/flac"],
  "forged: flac + FF F8 bytes": [forged("speech.flac", [0xff, 0xf8, 0x69, 0x08, 0x00]), "audio/flac"],
  "ogg opus (file repeated)": [repeated("speech.opus"), "audio/ogg"],
  "forged: ogg + 'O' bytes": [forged("speech.opus", [0x4f]), "audio/ogg"],
  "webm opus (file repeated)": [repeated("speech-live.webm"), "audio/webm"],
  "forged: webm + empty blocks": [forged("speech-live.webm", [0xa3, 0x84, 0x81, 0, 0, 0x80]), "audio/webm"],
  "m4a aac fragmented (moofs repeated)": [mp4Fragments("speech-fragmented.m4a"), "audio/mp4"],
  "mp4 opus fragmented (moofs repeated)": [mp4Fragments("speech-opus-fragmented.mp4"), "audio/mp4"],
  "wav 16 kHz": [wav(), "audio/wav"],
  "random bytes": [noise(), "audio/mpeg"],
  zeros: [new Uint8Array(MIB_25), undefined],
};

console.log(`measureAudio on 25 MiB, median of ${RUNS} runs (Node ${process.version})`);
for (const [label, [bytes, type]] of Object.entries(inputs)) {
  const times = [];
  let result;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    result = await measureAudio(bytes, type);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const ms = times[RUNS >> 1].toFixed(1);
  console.log(`${label.padEnd(36)} ${ms.padStart(7)} ms   ${result.source} ${result.format ?? "-"} ${result.seconds.toFixed(1)} s`);
}
