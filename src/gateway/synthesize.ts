// Speech: choose the provider → plan the format (native, converted at the edge, or 400) → admit (speech
// is priced exactly, so it is charged at admission) → call the provider → wait for the first audio →
// stream the rest as it arrives, converting chunk by chunk where planned. A provider that fails before
// any audio is refunded; once audio was sent the charge stands.
import type { Ctx } from "../context";
import { bytesToBase64 } from "../encoding/base64";
import { ApiError, invalidField } from "../http/errors";
import { mediaType } from "../http/media-type";
import type { IdempotencyClaim } from "../metering/contract";
import { ttsCostMc } from "../metering/prices";
import { providerText } from "../providers/provider-text";
import { refuseSpeechOptions, type SpeechOptions } from "../providers/speech-options";
import { maxTextChars, textChars } from "../providers/text-limit";
import type { AudioFormat } from "../providers/types";
import { audioDecoder } from "./decoders";
import { type Candidate, candidates, chainTaking, type FallbackEntry, withFailover } from "./failover";
import { audioTypeFits, firstAudio, IDEMPOTENT_AUDIO_MAX_BYTES } from "./first-audio";
import { admitOperation, callProvider, unusable, upstreamRequest } from "./provider";
import { converting, modelAudioSource, planSpeech, type SpeechPlan } from "./speech-output";

export interface SynthesizeInput extends SpeechOptions {
  provider?: string;
  text: string;
  voiceId?: string;
  model?: string;
  format?: AudioFormat;
  sampleRate?: number;
  /** Providers to try, in order, when the one before fails before its first audio. */
  fallback?: readonly FallbackEntry[];
  /** The request field that carries `text`, named when it is too long ("input" on /v1/audio/speech). */
  textField?: string;
}

export async function synthesize(c: Ctx, input: SynthesizeInput, idempotency?: IdempotencyClaim): Promise<Response> {
  const characters = textChars(input.text);
  const planned = candidates(c, "tts", { provider: input.provider, model: input.model, voiceId: input.voiceId }, input.fallback).map(
    (candidate) => {
      const plan = planSpeech(candidate.adapter.tts, input.format, input.sampleRate);
      return { candidate, plan, maxChars: textLimit(candidate, plan), model: upstreamModelOf(candidate) };
    },
  );
  // The format and the text's length, checked for every provider before any is tried (failover.ts, chainTaking).
  // Speed and instructions too (speech-options.ts), so a refusal reserves and sends nothing.
  const servable = chainTaking(planned, ({ candidate, plan, maxChars, model }) => {
    const name = candidate.adapter.name;
    const refused = refuseSpeechOptions(name, candidate.adapter.tts, model, input);
    if (refused) return invalidField(refused.field, refused.message);
    if (plan.kind === "unsupported") {
      const asked = `${input.format ?? "audio"}${input.sampleRate ? ` at ${input.sampleRate} Hz` : ""}`;
      return new ApiError("unsupported_format", `${name} cannot serve ${asked}: ${plan.reason}.`, {
        provider: candidate.adapter.id,
        format: input.format ?? null,
      });
    }
    if (characters > maxChars) {
      const message = `${name} takes at most ${maxChars} characters in one request; this text has ${characters} (split it, or choose another provider).`;
      return invalidField(input.textField ?? "text", message);
    }
    return undefined;
  });
  const plans = new Map(servable.map((p) => [p.candidate, p.plan as Servable]));
  return withFailover(
    c,
    servable.map((p) => p.candidate),
    (candidate) => synthesizeWith(c, candidate, plans.get(candidate) as Servable, input, idempotency),
  );
}

type Servable = Exclude<SpeechPlan, { kind: "unsupported" }>;

/** The model the provider runs for this candidate (its voice may name it: TtsAdapter.upstreamModel). */
function upstreamModelOf({ adapter, model, voiceId }: Candidate<"tts">): string {
  const tts = adapter.tts;
  const chosen = model ?? tts.defaultModel;
  return tts.upstreamModel?.(chosen, voiceId ?? tts.defaultVoice) ?? chosen;
}

/** The most characters this provider takes in one request, for the model it runs and the format asked of it. */
function textLimit(candidate: Candidate<"tts">, plan: SpeechPlan): number {
  const ask = plan.kind === "native" ? plan : plan.kind === "convert" ? plan.ask : undefined;
  return maxTextChars(candidate.adapter.tts.maxText, upstreamModelOf(candidate), ask?.format);
}

/** One provider's attempt: speech is priced exactly, so it is charged at admission. */
async function synthesizeWith(
  c: Ctx,
  { adapter, model: chosenModel, voiceId }: Candidate<"tts">,
  plan: Servable,
  input: SynthesizeInput,
  idempotency: IdempotencyClaim | undefined,
): Promise<Response> {
  const tts = adapter.tts;
  const model = chosenModel ?? tts.defaultModel;
  const characters = textChars(input.text);
  const costMc = ttsCostMc(adapter.id, characters, c.get("principal").kind === "api_key", c.get("prices"));
  const { settlement, upstream } = await admitOperation(c, { adapter, kind: "tts", estimateMc: costMc, exact: true, idempotency });
  const key = upstream.key;
  try {
    const ask = plan.kind === "native" ? plan : plan.kind === "convert" ? plan.ask : undefined;
    const { upstream: req, envelope } = await upstreamRequest(() =>
      tts.request(
        {
          text: input.text,
          voiceId: voiceId ?? tts.defaultVoice,
          model,
          // A model that chooses its own format is sent none (the adapter ignores these).
          format: ask?.format ?? "wav",
          sampleRate: ask?.sampleRate,
          // Checked against the adapter's range before admission; 1 and empty ask for nothing (the request is as before).
          speed: input.speed === 1 ? undefined : input.speed,
          instructions: input.instructions || undefined,
        },
        upstream,
      ),
    );
    const res = await callProvider(c, adapter, key, req);
    const upstreamType = res.headers.get("content-type");
    // JSON or HTML where audio was expected (an error under a 200, a captive portal): nothing reached the
    // client, so it is a provider failure another provider may answer.
    if (!res.body || !audioTypeFits(envelope, upstreamType)) {
      res.body?.cancel().catch(() => {});
      throw unusable(adapter, `an unexpected content type (${upstreamType ?? "none"})`);
    }
    let decoder = audioDecoder(envelope);
    if (plan.kind === "convert") {
      // A model that chose its own format: read it by its content type (WAV or FLAC can be decoded here).
      const source = plan.source ?? modelAudioSource(upstreamType);
      if (!source) {
        res.body.cancel().catch(() => {});
        throw new ApiError(
          "unsupported_format",
          `${model} answers ${mediaType(upstreamType) || "audio of an unnamed type"}, which cannot be converted to ${input.format}: ` +
            "name no format to get the model's audio as it is, or a model that answers WAV or FLAC.",
          { provider: adapter.id, format: input.format ?? null },
        );
      }
      decoder = converting(decoder, source, plan.target);
    }
    const contentType = plan.kind === "as-is" ? (upstreamType ?? "application/octet-stream") : plan.contentType;
    const audio = await firstAudio(res.body, c.get("config").PROVIDER_TIMEOUT_MS, idempotency ? IDEMPOTENT_AUDIO_MAX_BYTES : 0, decoder);
    // For speech the provider's first byte that counts is its first audio.
    const timing = c.get("timing");
    if (timing) timing.upstreamFirstByte = performance.now();
    if (audio.failure === "timeout") {
      throw new ApiError("provider_timeout", `${adapter.name} sent no audio within ${c.get("config").PROVIDER_TIMEOUT_MS} ms.`, {
        provider: adapter.id,
      });
    }
    // Before its first audio (a body that is not its envelope, an error event, a cut): another provider may still answer.
    if (audio.failure) throw unusable(adapter, `audio that could not be read (${providerText(audio.failure.message, key)})`);
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
