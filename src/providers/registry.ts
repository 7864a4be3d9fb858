// Every provider Voxgate speaks to: adding one is a new file in this folder and one line here
// (plus its prices and its mock: docs/ARCHITECTURE.md, "Adding a provider").
import { anthropic } from "./anthropic";
import { cartesia } from "./cartesia";
import { deepgram } from "./deepgram";
import { elevenlabs } from "./elevenlabs";
import { fishaudio } from "./fishaudio";
import { groq } from "./groq";
import { huggingface } from "./huggingface";
import { inworld } from "./inworld";
import { openai } from "./openai";
import { resembleai } from "./resembleai";
import type { Operation, ProviderAdapter } from "./types";

export const PROVIDERS: readonly ProviderAdapter[] = [
  elevenlabs,
  openai,
  anthropic,
  cartesia,
  deepgram,
  fishaudio,
  inworld,
  resembleai,
  groq,
  huggingface,
];

export const PROVIDER_IDS = PROVIDERS.map((p) => p.id) as [string, ...string[]];

const byName = new Map<string, ProviderAdapter>();
for (const p of PROVIDERS) {
  byName.set(p.id, p);
  for (const alias of p.aliases ?? []) byName.set(alias, p);
}

/** The adapter for a provider id or alias (case-insensitive), or undefined. */
export function findProvider(name: string): ProviderAdapter | undefined {
  return byName.get(name.toLowerCase());
}

export function offers<Op extends Operation>(
  p: ProviderAdapter,
  op: Op,
): p is ProviderAdapter & { [K in Op]-?: NonNullable<ProviderAdapter[K]> } {
  return p[op] !== undefined;
}

/** BYOK header for a provider, as documented: X-Provider-Key-<Name> (looked up case-insensitively, as HTTP headers are). */
export function byokHeader(p: ProviderAdapter): string {
  return `X-Provider-Key-${p.name}`;
}

/** The platform key's secret name, e.g. ELEVENLABS_API_KEY. */
export function platformKeyVar(p: ProviderAdapter): string {
  return `${p.id.toUpperCase()}_API_KEY`;
}

export interface BaseUrlVariable {
  /** e.g. ELEVENLABS_BASE_URL, RESEMBLEAI_MANAGEMENT_BASE_URL */
  name: string;
  provider: string;
  /** The entry of the adapter's baseUrls it overrides. */
  entry: string;
  defaultUrl: string;
}

/** Every base-URL variable, derived from the adapters' own defaults (config.ts validates them). */
export const BASE_URL_VARIABLES: readonly BaseUrlVariable[] = PROVIDERS.flatMap((p) =>
  Object.entries(p.baseUrls).map(([entry, defaultUrl]) => ({
    name: entry === "api" ? `${p.id.toUpperCase()}_BASE_URL` : `${p.id.toUpperCase()}_${entry.toUpperCase()}_BASE_URL`,
    provider: p.id,
    entry,
    defaultUrl,
  })),
);
