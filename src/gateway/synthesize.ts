// Speech: choose the provider → admit (speech is priced exactly, so it is charged at admission) →
// call the provider → wait for the first audio → stream the rest as it arrives. A provider that fails
// before any audio is refunded; once audio was sent the charge stands.
import type { Ctx } from "../context";
import { bytesToBase64 } from "../encoding/base64";
import { ApiError } from "../http/errors";
import type { IdempotencyClaim } from "../metering/contract";
import { ttsCostMc } from "../metering/prices";
import { AUDIO_CONTENT_TYPES, type AudioFormat } from "../providers/types";
import { audioDecoder } from "./decoders";
import { type Candidate, candidates, type FallbackEntry, withFailover } from "./failover";
import { audioTypeFits, firstAudio, IDEMPOTENT_AUDIO_MAX_BYTES } from "./first-audio";
import { admitOperation, callProvider, invalidAnswer } from "./provider";
import { redact } from "./upstream";

export interface SynthesizeInput {
  provider?: string;
  text: string;
  voiceId?: string;
  model?: string;
  format?: AudioFormat;
  sampleRate?: number;
  /** Providers to try, in order, when the one before fails before its first audio. */
  fallback?: readonly FallbackEntry[];
}

export async function synthesize(c: Ctx, input: SynthesizeInput, idempotency?: IdempotencyClaim): Promise<Response> {
  const chain = candidates(c, "tts", { provider: input.provider, model: input.model, voiceId: input.voiceId }, input.fallback);
  const format = input.format ?? "mp3";
  // Every provider in the chain must be able to answer in the format asked for: checked before any is tried.
  for (const { adapter } of chain) {
    if (!adapter.tts.supports(format, input.sampleRate)) {
      throw new ApiError(
        "unsupported_format",
        `${adapter.name} cannot produce ${format}${input.sampleRate ? ` at ${input.sampleRate} Hz` : ""}.`,
        { provider: adapter.id, format },
      );
    }
  }
  return withFailover(c, chain, (candidate) => synthesizeWith(c, candidate, { ...input, format }, idempotency));
}

/** One provider's attempt: speech is priced exactly, so it is charged at admission. */
async function synthesizeWith(
  c: Ctx,
  { adapter, model, voiceId }: Candidate<"tts">,
  input: SynthesizeInput & { format: AudioFormat },
  idempotency: IdempotencyClaim | undefined,
): Promise<Response> {
  const tts = adapter.tts;
  const format = input.format;
  const characters = [...input.text].length;
  const costMc = ttsCostMc(adapter.id, characters, c.var.principal.kind === "api_key");
  const { settlement, upstream } = await admitOperation(c, { adapter, kind: "tts", estimateMc: costMc, exact: true, idempotency });
  const key = upstream.key;
  try {
    const { upstream: req, envelope } = tts.request(
      {
        text: input.text,
        voiceId: voiceId ?? tts.defaultVoice,
        model: model ?? tts.defaultModel,
        format,
        sampleRate: input.sampleRate,
      },
      upstream,
    );
    const res = await callProvider(c, adapter, key, req);
    if (!res.body || !audioTypeFits(envelope, res.headers.get("content-type"))) {
      res.body?.cancel().catch(() => {});
      throw invalidAnswer(adapter, `an unexpected content type (${res.headers.get("content-type") ?? "none"})`);
    }
    const contentType = AUDIO_CONTENT_TYPES[format];
    const audio = await firstAudio(
      res.body,
      c.var.config.PROVIDER_TIMEOUT_MS,
      idempotency ? IDEMPOTENT_AUDIO_MAX_BYTES : 0,
      audioDecoder(envelope),
    );
    // For speech the provider's first byte that counts is its first audio.
    if (c.var.timing) c.var.timing.upstreamFirstByte = performance.now();
    if (audio.failure === "timeout") {
      throw new ApiError("provider_timeout", `${adapter.name} sent no audio within ${c.var.config.PROVIDER_TIMEOUT_MS} ms.`, {
        provider: adapter.id,
      });
    }
    if (audio.failure) {
      const e = invalidAnswer(adapter, `audio that could not be read (${redact(audio.failure.message, key)})`);
      e.beforeFirstByte = true; // another provider may still answer (failover)
      throw e;
    }
    // From its first audio on, the request is charged in full: providers bill the whole text once they
    // accept it (ElevenLabs' character-cost comes before any audio), whether the client listens to the
    // end or the provider breaks off — only a provider that fails before any audio is refunded.
    const charged = costMc ?? 0;
    c.set("usageCostMc", settlement.metered ? charged : 0);
    settlement.charge(
      audio.ended.then(() => charged),
      () => {
        const bytes = audio.kept();
        return bytes && { status: 200, contentType, headers: { "x-provider-used": adapter.id }, bodyBase64: bytesToBase64(bytes) };
      },
    );
    return new Response(audio.stream, { status: 200, headers: { "content-type": contentType, "cache-control": "no-store" } });
  } catch (e) {
    settlement.refund();
    throw e;
  }
}
