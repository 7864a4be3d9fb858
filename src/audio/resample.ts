// Streaming sample-rate conversion of mono s16 audio: a polyphase windowed-sinc FIR.
//
// Output sample n sits at input time t = n·M/L (L/M = output/input rate in lowest terms) and is the
// sum of the input samples around t weighted by a Kaiser-windowed sinc whose cutoff is 0.9 × the lower
// rate's Nyquist frequency. The L possible fractional positions of t each get a precomputed row of
// coefficients (a "phase"), so a sample costs one dot product and no trigonometry.
//
// Why this length: 48 taps at the lower rate (24 each side of t) with a Kaiser window (β = 8), the order
// of the Speex resampler's default quality. The transition band is ~0.8–1.0 × the lower Nyquist (3.2–4 kHz
// at 8 kHz, above the 3.4 kHz telephone band) and tones beyond it come out ~85 dB down (measured in the
// tests), so nothing aliases into speech. Cost: 48 multiply-adds per output sample when upsampling,
// 48 × in/out when downsampling: 1.2 M per second of audio for 24 kHz → 8 kHz, ~2 ms of CPU (Node 20).
// Longer filters buy a sharper edge speech doesn't need, and every extra tap adds look-ahead (below).
//
// The filter is centred on t, so output n needs input up to t + 24 samples at the lower rate (3 ms):
// that look-ahead is the only delay, and the stream starts with silence before its first sample so the
// first output is ready as soon as those few samples have arrived. At the end the missing future is
// silence too, and the output has exactly ceil(inputSamples × L / M) samples — no drift however long.
//
// `!` on typed-array reads: the loops keep every index in range by construction; a `?? 0` would cost time.

const HALF_TAPS_AT_LOWER_RATE = 24;
const CUTOFF_OF_LOWER_NYQUIST = 0.9;
const KAISER_BETA = 8;
const MAX_TABLE_COEFFICIENTS = 1 << 20; // 4 MB: refuses rate pairs whose ratio has no small terms

export interface Resampler {
  readonly inputRate: number;
  readonly outputRate: number;
  /** Feed the next input samples; returns the output samples they complete (may be empty). */
  process(samples: Int16Array): Int16Array;
  /** The input has ended: returns the remaining output. The resampler can't be used afterwards. */
  flush(): Int16Array;
}

interface Filter {
  up: number; // L
  down: number; // M
  half: number; // H: taps each side of t, in input samples
  taps: number; // 2H
  coefficients: Float32Array; // L rows of 2H
}

const filters = new Map<string, Filter>();

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for β ≤ 10). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50 && term > sum * 1e-12; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

function filterFor(inputRate: number, outputRate: number): Filter {
  const key = `${inputRate}:${outputRate}`;
  const cached = filters.get(key);
  if (cached) return cached;
  const g = gcd(inputRate, outputRate);
  const up = outputRate / g;
  const down = inputRate / g;
  const ratio = Math.min(1, up / down); // the kernel widens by 1/ratio when downsampling
  const half = 2 * Math.ceil(HALF_TAPS_AT_LOWER_RATE / ratio / 2); // taps a multiple of 4: the loop does 4 at a time
  const taps = 2 * half;
  if (up * taps > MAX_TABLE_COEFFICIENTS) throw new RangeError(`cannot resample ${inputRate} Hz to ${outputRate} Hz`);
  const cutoff = CUTOFF_OF_LOWER_NYQUIST * ratio; // as a fraction of the input Nyquist
  const i0Beta = besselI0(KAISER_BETA);
  const coefficients = new Float32Array(up * taps);
  const row = new Float64Array(taps);
  for (let phase = 0; phase < up; phase++) {
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const u = phase / up + half - 1 - k; // distance from t to the input sample, in input samples
      const x = u / half;
      const window = Math.abs(x) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - x * x)) / i0Beta;
      const arg = Math.PI * cutoff * u;
      row[k] = window * (arg === 0 ? 1 : Math.sin(arg) / arg);
      sum += row[k]!;
    }
    // Each phase sums to exactly 1, so DC and slow signals pass at unit gain whatever the phase.
    for (let k = 0; k < taps; k++) coefficients[phase * taps + k] = row[k]! / sum;
  }
  const filter = { up, down, half, taps, coefficients };
  filters.set(key, filter);
  return filter;
}

function checkRate(rate: number): void {
  if (!Number.isInteger(rate) || rate < 1000 || rate > 384000) throw new RangeError(`unsupported sample rate ${rate}`);
}

/** A streaming resampler from `inputRate` to `outputRate` (Hz); equal rates pass samples through untouched. */
export function createResampler(inputRate: number, outputRate: number): Resampler {
  checkRate(inputRate);
  checkRate(outputRate);
  let flushed = false;
  const guard = () => {
    if (flushed) throw new Error("resampler already flushed");
  };
  if (inputRate === outputRate) {
    return {
      inputRate,
      outputRate,
      process(samples) {
        guard();
        return samples;
      },
      flush() {
        guard();
        flushed = true;
        return new Int16Array(0);
      },
    };
  }

  const { up, down, half, taps, coefficients } = filterFor(inputRate, outputRate);
  const stepWhole = Math.floor(down / up);
  const stepPhase = down % up;
  // Input history: buffer[0] is input sample number `bufferStart`; the stream starts with silence.
  let buffer = new Float32Array(half - 1);
  let bufferStart = -(half - 1);
  let received = 0; // input samples so far
  let whole = 0; // the next output sits at input time whole + phase / up
  let phase = 0;

  const append = (samples: Int16Array | Float32Array) => {
    const keepFrom = Math.max(0, whole - half + 1 - bufferStart); // older samples are never needed again
    const next = new Float32Array(buffer.length - keepFrom + samples.length);
    next.set(buffer.subarray(keepFrom));
    next.set(samples, buffer.length - keepFrom);
    buffer = next;
    bufferStart += keepFrom;
  };

  // Produces every output whose window lies inside the buffer and whose time is < `limit`.
  const run = (limit: number): Int16Array => {
    const lastWhole = Math.min(bufferStart + buffer.length - 1 - half, limit - 1);
    if (whole > lastWhole) return new Int16Array(0);
    const out = new Int16Array(Math.ceil(((lastWhole - whole + 1) * up) / down) + 1);
    // Locals, not the closure's variables, in the hot loop: V8 keeps them in registers.
    const input = buffer;
    const offset = 1 - half - bufferStart;
    let w = whole;
    let p = phase;
    let n = 0;
    while (w <= lastWhole) {
      const first = w + offset;
      const row = p * taps;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let k = 0; k < taps; k += 4) {
        a0 += input[first + k]! * coefficients[row + k]!;
        a1 += input[first + k + 1]! * coefficients[row + k + 1]!;
        a2 += input[first + k + 2]! * coefficients[row + k + 2]!;
        a3 += input[first + k + 3]! * coefficients[row + k + 3]!;
      }
      const r = Math.round(a0 + a1 + a2 + a3);
      out[n++] = r > 32767 ? 32767 : Math.max(r, -32768);
      w += stepWhole;
      p += stepPhase;
      if (p >= up) {
        p -= up;
        w++;
      }
    }
    whole = w;
    phase = p;
    return out.subarray(0, n);
  };

  return {
    inputRate,
    outputRate,
    process(samples) {
      guard();
      if (samples.length === 0) return new Int16Array(0);
      append(samples);
      received += samples.length;
      return run(Number.POSITIVE_INFINITY);
    },
    flush() {
      guard();
      flushed = true;
      append(new Float32Array(half)); // the silence after the end completes the last windows
      return run(received); // outputs at times ≥ the input's end would be pure filter tail
    },
  };
}
