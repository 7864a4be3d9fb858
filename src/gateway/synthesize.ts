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
import { audioTypeFits, firstAudio, IDEMPOTENT_AUDIO_MAX_BYTES } from "./first-audio";
import { admitOperation, callProvider, chooseProvider, invalidAnswer } from "./provider";
import { redact } from "./upstream";

export interface SynthesizeInput {
  provider?: string;
  text: string;
  voiceId?: string;
  model?: string;
  format?: AudioFormat;
  sampleRate?: number;
}

export async function synthesize(c: Ctx, input: SynthesizeInput, idempotency?: IdempotencyClaim): Promise<Response> {
  const adapter = chooseProvider(c, "tts", input.provider);
  const tts = adapter.tts;
  const format = input.format ?? "mp3";
  if (!tts.supports(format, input.sampleRate)) {
    throw new ApiError(
      "unsupported_format",
      `${adapter.name} cannot produce ${format}${input.sampleRate ? ` at ${input.sampleRate} Hz` : ""}.`,
      { provider: adapter.id, format },
    );
  }
  const characters = [...input.text].length;
  const costMc = ttsCostMc(adapter.id, characters, c.var.principal.kind === "api_key", c.var.prices);
  const { settlement, upstream } = await admitOperation(c, { adapter, kind: "tts", estimateMc: costMc, exact: true, idempotency });
  const key = upstream.key;
  try {
    const { upstream: req, envelope } = tts.request(
      {
        text: input.text,
        voiceId: input.voiceId ?? tts.defaultVoice,
        model: input.model ?? tts.defaultModel,
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
    if (audio.failure === "timeout") {
      throw new ApiError("provider_timeout", `${adapter.name} sent no audio within ${c.var.config.PROVIDER_TIMEOUT_MS} ms.`, {
        provider: adapter.id,
      });
    }
    if (audio.failure) throw invalidAnswer(adapter, `audio that could not be read (${redact(audio.failure.message, key)})`);
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
