// Transcription: choose the provider → get the audio's bytes (an audioUrl is fetched under the
// public-URL policy, after the request was admitted) → measure its duration → reserve that at the
// provider's price → call the provider with the bytes → charge what it reports.
import { fileNameFor, measureAudio } from "../audio/duration";
import type { Ctx } from "../context";
import { ApiError, invalidField } from "../http/errors";
import { fetchPublic, PUBLIC_URL_UNAVAILABLE_MESSAGE, PublicUrlTooLarge, PublicUrlUnavailable } from "../http/fetch-public";
import type { IdempotencyClaim } from "../metering/contract";
import { plausibleSeconds, secondsFigure, sttBoundMc, sttChargeMc } from "../metering/estimates";
import type { SttInput, SttOption, SttResult } from "../providers/types";
import { admit } from "./admission";
import { type Candidate, candidates, chainTaking, type FallbackEntry, withFailover } from "./failover";
import { jsonResult } from "./idempotency";
import { admitOperation, callProvider, parsedAnswer, upstreamRequest } from "./provider";

export type Recording = SttInput["audio"];

const STT_OPTIONS: readonly SttOption[] = ["prompt", "temperature"];

export interface TranscribeRequest {
  /** The uploaded audio, or undefined when `audioUrl` is given. */
  audio?: Recording;
  audioUrl?: string;
  provider?: string;
  model?: string;
  language?: string;
  /** Timestamp granularities to ask the provider for (only those its adapter lists in `timestamps`). */
  timestamps?: SttInput["timestamps"];
  prompt?: string;
  temperature?: number;
  /** Providers to try, in order, when the one before fails before its first byte. */
  fallback?: readonly FallbackEntry[];
}

export interface Transcription extends Omit<SttResult, "usage"> {
  success: true;
  durationSeconds: number;
  provider: string;
  model: string;
}

export async function transcribe(c: Ctx, req: TranscribeRequest, idempotency?: IdempotencyClaim): Promise<Transcription> {
  // Options only some providers take, checked for every provider before any is tried (failover.ts,
  // chainTaking): never a transcript made without what was asked.
  const asked = STT_OPTIONS.filter((o) => req[o] !== undefined);
  // Likewise a language the provider has no field for, and a model it cannot be asked for.
  const chain = chainTaking(candidates(c, "stt", { provider: req.provider, model: req.model }, req.fallback), ({ adapter, model }) => {
    const stt = adapter.stt;
    const refused = asked.find((o) => !stt.takes?.includes(o));
    if (refused) return invalidField(refused, `${adapter.name} takes no ${refused}`);
    if (req.language !== undefined && stt.takesLanguage === false)
      return invalidField("language", `${adapter.name} takes no language (it detects the language itself)`);
    if (model !== undefined && stt.models && !stt.models.includes(model))
      return invalidField("model", `${adapter.name} transcribes with ${stt.models.join(", ")} only`);
    return undefined;
  });
  // A key's provider allow-list is checked against the whole chain before an audioUrl is fetched.
  c.set(
    "chainProviders",
    chain.map((candidate) => candidate.adapter.id),
  );
  const audio = req.audio ?? (await download(c, req.audioUrl, chain[0]?.adapter.id));
  // No bytes, no transcription: refused before anything is reserved (never a metered request charged 0).
  if (audio.data.size === 0) {
    const where = req.audio ? "file" : "audioUrl";
    throw new ApiError("validation_failed", `The audio (${where}) is empty.`, { fields: [{ path: where, message: "Empty audio" }] });
  }
  const measured = await measureAudio(audio.data, audio.contentType);
  // Named for what the bytes are (a raw body or an audioUrl has no useful name; "voice.opus" is Ogg).
  const named = { ...audio, filename: fileNameFor(audio.filename, measured.format) };
  return withFailover(c, chain, (candidate) => transcribeWith(c, candidate, req, named, measured.seconds, idempotency));
}

/** One provider's attempt, with the audio fetched and measured once for all of them. */
async function transcribeWith(
  c: Ctx,
  { adapter, model: chosen }: Candidate<"stt">,
  req: TranscribeRequest,
  audio: Recording,
  measuredSeconds: number,
  idempotency: IdempotencyClaim | undefined,
): Promise<Transcription> {
  const stt = adapter.stt;
  const model = chosen ?? stt.defaultModel;
  const measured = { seconds: measuredSeconds };
  const tokenBilled = stt.tokenBilled?.(model) ?? false;
  const estimateMc = sttBoundMc(adapter.id, model, measured.seconds, tokenBilled, c.get("prices"));
  const { settlement, upstream } = await admitOperation(c, { adapter, kind: "stt", estimateMc, idempotency });
  try {
    const offered = stt.timestamps?.(model) ?? [];
    const timestamps = req.timestamps?.filter((g) => offered.includes(g));
    const input: SttInput = {
      audio,
      model,
      language: req.language,
      timestamps: timestamps?.length ? timestamps : undefined,
      prompt: req.prompt,
      temperature: req.temperature,
    };
    const res = await callProvider(c, adapter, upstream.key, await upstreamRequest(() => stt.request(input, upstream)));
    const result = await parsedAnswer(
      adapter,
      res,
      (p) => stt.parse(p, input),
      { body: "a transcription", shape: "a transcription" },
      c.get("config").PROVIDER_TIMEOUT_MS,
    );
    // What the provider reports is charged, more than was reserved too (API.md §6: the excess is debt, never
    // dropped); far more than the audio measured is worth an operator's look.
    const reportedSeconds = secondsFigure(result.durationSeconds);
    if (reportedSeconds !== undefined && plausibleSeconds(reportedSeconds, measured.seconds) === undefined)
      console.warn(
        `[${c.get("requestId")}] ${adapter.id} reported ${reportedSeconds} s for audio measured at ${measured.seconds} s: charged as reported`,
      );
    const body: Transcription = {
      success: true,
      text: result.text,
      // Shown to the microsecond: frame durations summed as floats (0.9999999999999998) read as what they are.
      durationSeconds: Math.round((reportedSeconds ?? measured.seconds) * 1e6) / 1e6,
      language: result.language,
      provider: adapter.id,
      model,
      words: result.words,
      // Only when asked for (the native /v1/transcribe answer names none).
      ...(timestamps?.includes("segment") && result.segments ? { segments: result.segments } : {}),
    };
    const costMc = sttChargeMc(
      adapter.id,
      model,
      tokenBilled,
      measured.seconds,
      { seconds: reportedSeconds, usage: result.usage },
      c.get("prices"),
    );
    settlement.charge(costMc, () => jsonResult(body, adapter.id));
    c.set("usageCostMc", settlement.metered ? costMc : 0);
    return body;
  } catch (e) {
    settlement.refund();
    throw e;
  }
}

/**
 * Fetch an audioUrl: only after the request was admitted (a revoked key or a rate-limited caller makes
 * Voxgate fetch nothing), only from a public host (API.md §4.1), at most AUDIO_URL_MAX_BYTES.
 */
async function download(c: Ctx, url: string | undefined, provider: string | undefined): Promise<Recording> {
  if (!url)
    throw new ApiError("validation_failed", "Send an audio file or an audioUrl.", { fields: [{ path: "file", message: "Required" }] });
  // Credentials, rate limit, scope and providers before anything is fetched (the credits once it is measured).
  await admit(c, undefined, undefined, provider);
  const config = c.get("config");
  try {
    const got = await fetchPublic(url, {
      allowHosts: config.AUDIO_URL_ALLOW_HOSTS,
      maxBytes: config.AUDIO_URL_MAX_BYTES,
      timeoutMs: config.PROVIDER_TIMEOUT_MS,
    });
    const filename = new URL(got.url).pathname.split("/").pop() || "audio";
    // A remote server's word for what its bytes are counts only when it says audio.
    const contentType = /^(audio|video)\//.test(got.contentType) ? got.contentType : "application/octet-stream";
    return { data: new Blob([got.bytes], { type: contentType }), filename, contentType };
  } catch (e) {
    if (e instanceof PublicUrlTooLarge)
      throw new ApiError("payload_too_large", `The audio at audioUrl is larger than ${e.maxBytes} bytes.`);
    if (e instanceof PublicUrlUnavailable) throw invalidAudioUrl(c, e.reason);
    throw e;
  }
}

/**
 * The one answer for an audioUrl refused by the policy or unreachable, whatever the reason (which
 * goes to the log only): the caller cannot tell which hosts exist or answer.
 */
export function invalidAudioUrl(c: Ctx, reason: string): ApiError {
  console.warn(`[${c.get("requestId")}] audioUrl refused or unreachable: ${reason}`);
  return new ApiError("invalid_audio_url", `audioUrl: ${PUBLIC_URL_UNAVAILABLE_MESSAGE}`);
}
