// Transcription: choose the provider → reserve the audio's duration at its price → (fetch an audioUrl
// the provider cannot fetch itself) → call the provider → charge the seconds it reports.
import type { Ctx } from "../context";
import { ApiError } from "../http/errors";
import type { IdempotencyClaim } from "../metering/contract";
import { sttEstimateMc } from "../metering/estimates";
import { sttCostMc } from "../metering/prices";
import type { SttInput, SttResult } from "../providers/types";
import { jsonResult } from "./idempotency";
import { admitOperation, callProvider, chooseProvider, invalidAnswer } from "./provider";

export interface TranscribeInput extends SttInput {
  provider?: string;
}

export interface Transcription extends SttResult {
  success: true;
  provider: string;
  model: string;
}

export async function transcribe(c: Ctx, input: TranscribeInput, idempotency?: IdempotencyClaim): Promise<Transcription> {
  const adapter = chooseProvider(c, "stt", input.provider);
  const stt = adapter.stt;
  const model = input.model ?? stt.defaultModel;
  const estimateMc = sttEstimateMc(adapter.id, input.audio?.data.size);
  const { settlement, upstream } = await admitOperation(c, { adapter, kind: "stt", estimateMc, idempotency });
  try {
    let sttInput: SttInput & { model: string } = { ...input, model };
    if (!input.audio && input.audioUrl && !stt.acceptsUrl) sttInput = { ...sttInput, audio: await download(c, input.audioUrl) };
    const res = await callProvider(c, adapter, upstream.key, await stt.request(sttInput, upstream));
    let result: SttResult;
    try {
      result = stt.parse(await res.json(), sttInput);
    } catch {
      throw invalidAnswer(adapter, "a transcription that is not valid JSON");
    }
    const body: Transcription = {
      success: true,
      text: result.text,
      durationSeconds: result.durationSeconds,
      language: result.language,
      provider: adapter.id,
      model,
      words: result.words,
    };
    settlement.charge(sttCostMc(adapter.id, result.durationSeconds), () => jsonResult(body));
    return body;
  } catch (e) {
    settlement.refund();
    throw e;
  }
}

/** Fetch an audioUrl for a provider that only takes uploads. */
async function download(c: Ctx, url: string): Promise<NonNullable<SttInput["audio"]>> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(c.var.config.PROVIDER_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const data = await res.blob();
    return {
      data,
      filename: new URL(url).pathname.split("/").pop() || "audio",
      contentType: res.headers.get("content-type") ?? "application/octet-stream",
    };
  } catch (e) {
    throw new ApiError("bad_request", `Could not download audioUrl: ${(e as Error).message}`);
  }
}
