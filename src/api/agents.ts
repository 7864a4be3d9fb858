// Voice agents' shapes (API.md §4): the stored configuration's schemas, and rows rendered as agents.
import { z } from "@hono/zod-openapi";
import type { AgentFields, AgentRow } from "../db/agents";
import { Fallback } from "../gateway/failover";
import { ModelId, VoiceId } from "../providers/ids";
import { findProvider, offers, PROVIDERS } from "../providers/registry";
import { AUDIO_FORMATS, type Operation } from "../providers/types";
import { UnsafeUpstreamValue } from "../providers/wire";
import { displayText } from "./display-text";
import { ChatMessageSchema, SynthesizeBody } from "./gateway";
import { IsoTime, iso } from "./schemas";

/** The metadata object, serialized, may take this much room in the agent's row. */
const METADATA_MAX_BYTES = 16_384;

const providerOffering = (op: Operation, what: string) => {
  const ids = PROVIDERS.filter((p) => offers(p, op)).map((p) => p.id);
  return z
    .string()
    .min(1)
    .max(64)
    .refine((name) => ids.includes(findProvider(name)?.id ?? ""), { error: `must be a provider offering ${what}: ${ids.join(", ")}` });
};

const fields = {
  name: displayText(100),
  systemPrompt: z.string().max(10_000).nullish(),
  firstMessage: z.string().max(10_000).nullish(),
  voiceId: VoiceId.nullish(),
  ttsProvider: providerOffering("tts", "speech synthesis").nullish(),
  ttsModel: ModelId.nullish(),
  llmProvider: providerOffering("llm", "chat").nullish(),
  llmModel: ModelId.nullish(),
  language: z.string().min(1).max(32).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  maxTokens: z.number().int().min(1).max(16_384).nullish(),
  // Checked on the raw body (preprocess): the record schema drops a "__proto__" key before any refine sees it.
  metadata: z
    .preprocess(refuseUnsafeKeys, z.record(z.string(), z.unknown()))
    .refine((m) => new TextEncoder().encode(JSON.stringify(m)).byteLength <= METADATA_MAX_BYTES, {
      error: `at most ${METADATA_MAX_BYTES} bytes as JSON`,
    })
    .nullish(),
  fallback: Fallback.refine((list) => list.every((e) => findProvider(typeof e === "string" ? e : e.provider)), {
    error: "every fallback entry must name a known provider",
  }).nullish(),
};

/**
 * Why an agent's speech model cannot go to its provider (Hugging Face's go into its URL path as `org/name`), or
 * undefined: checked when the agent is stored — a create, or a PUT with what it changes over what is stored —
 * not found out at every speak (the same check as a request's: TtsAdapter.checkModel).
 */
export function speechModelProblem(ttsProvider: string | null | undefined, ttsModel: string | null | undefined): string | undefined {
  if (!ttsProvider || !ttsModel) return undefined;
  try {
    findProvider(ttsProvider)?.tts?.checkModel?.(ttsModel, "ttsModel");
    return undefined;
  } catch (e) {
    if (!(e instanceof UnsafeUpstreamValue)) throw e;
    return e.message;
  }
}

function speechModelFits(body: { ttsProvider?: string | null; ttsModel?: string | null }, ctx: z.RefinementCtx): void {
  const problem = speechModelProblem(body.ttsProvider, body.ttsModel);
  if (problem) ctx.addIssue({ code: "custom", path: ["ttsModel"], message: problem });
}

/**
 * Keys that a JS object cannot hold as plain data: `__proto__` is dropped (or swaps the prototype) when
 * copied, and `constructor`/`prototype` shadow what code expects. Metadata is stored verbatim, so rather
 * than keep some of it, such a key (at any depth) is refused: 400 validation_failed naming where.
 */
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

function refuseUnsafeKeys(value: unknown, ctx: z.RefinementCtx): unknown {
  // Iterative, and linear in the body's size: the nesting depth is the caller's to choose, so each node
  // links to its parent and a path is spelled out only for a key that is refused (copying the path at
  // every level made a 300,000-deep body of 600 KB cost minutes of CPU).
  type Step = { node: unknown; key: string | number; parent: Step | undefined };
  const pathOf = (step: Step | undefined): (string | number)[] => {
    const path: (string | number)[] = [];
    for (let s = step; s?.parent !== undefined; s = s.parent) path.push(s.key);
    return path.reverse();
  };
  const stack: Step[] = [{ node: value, key: "", parent: undefined }];
  while (stack.length > 0) {
    const step = stack.pop() as Step;
    const { node } = step;
    if (node === null || typeof node !== "object") continue;
    for (const [key, child] of Object.entries(node)) {
      const here: Step = { node: child, key: Array.isArray(node) ? Number(key) : key, parent: step };
      if (!Array.isArray(node) && UNSAFE_KEYS.has(key)) {
        ctx.addIssue({ code: "custom", path: pathOf(here), message: `the key "${key}" is not allowed in metadata` });
      } else stack.push(here);
    }
  }
  return value;
}

/**
 * A request's own fallback on an agent's chat or speak replaces the agent's stored list for that request
 * (it is not appended: a caller who sends one has said which providers may serve it; [] means none).
 * It is checked like /v1/chat's and /v1/synthesize's, for that one operation.
 */
const RequestFallback = Fallback.optional().openapi({
  description:
    'Providers to try in order when the one before fails before its first byte: ids ("cartesia") or {"provider","model"?,"voiceId"?}; ' +
    "at most 4, an entry asking what the chain already has tried once. " +
    "When sent, it replaces the agent's stored fallback for this request ([] means no fallback).",
});

// Every request body here is strict (as src/api/keys.ts): a misspelt field is refused (400 validation_failed
// naming it), not ignored — `sytemPrompt` would make an agent without its prompt, or a PUT that changes nothing.
export const CreateAgentBody = z.object(fields).strict().superRefine(speechModelFits).openapi("CreateAgent");
/** PUT changes the fields it names (null clears one) and keeps the others. */
/** The agent's own read-only fields, accepted and ignored on PUT: what GET answered can be sent back as it is. */
const READ_ONLY = { id: z.string().max(100), createdAt: z.string().max(100), updatedAt: z.string().max(100) };
export const UpdateAgentBody = z
  .object({ ...fields, ...READ_ONLY })
  .partial()
  .strict()
  .superRefine(speechModelFits)
  .openapi("UpdateAgent");
export const AgentChatBody = z
  .object({ messages: z.array(ChatMessageSchema).min(1).max(500), stream: z.boolean().optional(), fallback: RequestFallback })
  .strict()
  .openapi("AgentChatRequest");
export const AgentSpeakBody = z
  .object({
    text: z.string().min(1).max(5000),
    format: z.enum(AUDIO_FORMATS).optional(),
    // As /v1/synthesize takes it (a telephony caller's 8 kHz µ-law from the agent's voice).
    sampleRate: SynthesizeBody.shape.sampleRate,
    fallback: RequestFallback,
  })
  .strict()
  .openapi("AgentSpeakRequest");

const nullable = z.string().nullable();
export const AgentSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    systemPrompt: nullable,
    firstMessage: nullable,
    voiceId: nullable,
    ttsProvider: nullable,
    ttsModel: nullable,
    llmProvider: nullable,
    llmModel: nullable,
    language: nullable,
    temperature: z.number().nullable(),
    maxTokens: z.number().int().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    fallback: z.array(z.object({ provider: z.string(), model: z.string().optional(), voiceId: z.string().optional() })).nullable(),
    createdAt: IsoTime,
    updatedAt: IsoTime,
  })
  .openapi("Agent");
export const AgentEnvelope = z.object({ success: z.literal(true), agent: AgentSchema }).openapi("AgentResponse");
export const AgentList = z.object({ success: z.literal(true), agents: z.array(AgentSchema) }).openapi("AgentList");

export function agentView(row: AgentRow): z.infer<typeof AgentSchema> {
  const { userId: _owner, metadata, fallback, createdAt, updatedAt, ...rest } = row;
  return {
    ...rest,
    metadata: metadata === null ? null : JSON.parse(metadata),
    fallback: fallback === null ? null : JSON.parse(fallback),
    createdAt: iso(createdAt),
    updatedAt: iso(updatedAt),
  };
}

/** Validated body → stored columns: provider aliases resolved to ids, metadata as JSON text. */
export function toColumns(body: z.infer<typeof UpdateAgentBody>): Partial<AgentFields> {
  const { ttsProvider, llmProvider, metadata, fallback, id: _id, createdAt: _created, updatedAt: _updated, ...plain } = body;
  const out: Partial<AgentFields> = { ...plain };
  if (ttsProvider !== undefined) out.ttsProvider = ttsProvider && findProvider(ttsProvider)?.id;
  if (llmProvider !== undefined) out.llmProvider = llmProvider && findProvider(llmProvider)?.id;
  if (metadata !== undefined) out.metadata = metadata && JSON.stringify(metadata);
  // Stored as objects with provider ids (aliases resolved).
  if (fallback !== undefined) {
    out.fallback =
      fallback &&
      JSON.stringify(
        fallback
          .map((e) => (typeof e === "string" ? { provider: e } : e))
          .map((e) => ({ ...e, provider: findProvider(e.provider)?.id ?? e.provider })),
      );
  }
  return out;
}

export const EMPTY_AGENT: Omit<AgentFields, "name"> = {
  systemPrompt: null,
  firstMessage: null,
  voiceId: null,
  ttsProvider: null,
  ttsModel: null,
  llmProvider: null,
  llmModel: null,
  language: null,
  temperature: null,
  maxTokens: null,
  metadata: null,
  fallback: null,
};
