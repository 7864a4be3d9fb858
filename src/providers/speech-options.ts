// Speech options only some providers take: a speaking rate (TtsAdapter.speed, each with its own range) and
// instructions on how to speak (TtsAdapter.instructions). The gateway asks this before anything is reserved
// or sent (src/gateway/synthesize.ts): a provider or model without the option, or a speed outside its range,
// is the caller's 400 naming the field — never silently dropped, never clamped.
import type { SpeechKnob, TtsAdapter } from "./types";

/** What the caller asked for beyond text, voice and format (the OpenAI-compatible surface's `speed`, `instructions`). */
export interface SpeechOptions {
  /** 1 (the normal pace) or undefined asks for nothing. */
  speed?: number;
  instructions?: string;
}

/** Why a provider cannot take the options as asked: the request field at fault and why. */
export interface SpeechRefusal {
  field: "speed" | "instructions";
  message: string;
}

const takes = (knob: SpeechKnob | undefined, model: string): knob is SpeechKnob =>
  knob !== undefined &&
  (knob.models === undefined || knob.models.some((m) => model.startsWith(m))) &&
  !(knob.notModels ?? []).some((m) => model.startsWith(m));

/** Where a knob exists for some models only, which, for the refusal. */
function onlyFor(knob: SpeechKnob | undefined): string {
  if (knob?.models) return ` (only ${knob.models.join(", ")} ${knob.models.length > 1 ? "take" : "takes"} it)`;
  if (knob?.notModels) return ` (no ${knob.notModels.join(" or ")} model does; its others do)`;
  return "";
}

/**
 * The refusal for `name`'s speech adapter running `model` (the model the provider runs: upstreamModel), or
 * undefined when it takes every option asked (a speed of 1 and empty instructions ask for nothing).
 */
export function refuseSpeechOptions(name: string, tts: TtsAdapter, model: string, asked: SpeechOptions): SpeechRefusal | undefined {
  const { speed, instructions } = asked;
  if (speed !== undefined && speed !== 1) {
    const range = tts.speed;
    if (!takes(range, model)) {
      const which = range ? `${name}'s ${model || "model"}` : name;
      return { field: "speed", message: `${which} has no speed setting${onlyFor(range)}: leave speed out, or 1.` };
    }
    if (speed < range.min || speed > range.max) {
      return {
        field: "speed",
        message: `${name} takes speed ${range.min}–${range.max} (its ${range.field}); ${speed} is outside that range.`,
      };
    }
  }
  if (instructions) {
    const knob = tts.instructions;
    if (!takes(knob, model)) {
      const which = knob ? `${name}'s ${model}` : name;
      return { field: "instructions", message: `${which} takes no instructions${onlyFor(knob)}: leave instructions out.` };
    }
  }
  return undefined;
}
