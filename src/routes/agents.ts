// Voice agents (API.md §4): a user's saved configuration — system prompt, voice, TTS and LLM
// providers and models — under /v1/agents, and its chat and speak, which run through the same
// gateway pipeline as /v1/chat and /v1/synthesize with the agent's settings applied.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv, Ctx } from "../context";
import * as catalog from "../db/catalog";
import { chooseProvider, synthesize } from "../gateway/pipeline";
import { ApiError } from "../http/errors";
import { admit } from "../metering/admit";
import { idempotencyFor } from "../metering/idempotency";
import { findProvider, offers, PROVIDERS } from "../providers/registry";
import { AUDIO_FORMATS, type Operation } from "../providers/types";
import { chatResponse, ChatMessageSchema, ChatResponseSchema } from "./gateway";
import { admitted } from "./middleware";
import { errors, iso, security, SuccessSchema } from "./schemas";

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
  name: z.string().min(1).max(100),
  systemPrompt: z.string().max(10_000).nullish(),
  firstMessage: z.string().max(10_000).nullish(),
  voiceId: z.string().min(1).max(200).nullish(),
  ttsProvider: providerOffering("tts", "speech synthesis").nullish(),
  ttsModel: z.string().min(1).max(200).nullish(),
  llmProvider: providerOffering("llm", "chat").nullish(),
  llmModel: z.string().min(1).max(200).nullish(),
  language: z.string().min(1).max(32).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  maxTokens: z.number().int().min(1).max(16_384).nullish(),
  metadata: z
    .record(z.string(), z.unknown())
    .refine((m) => new TextEncoder().encode(JSON.stringify(m)).byteLength <= METADATA_MAX_BYTES, { error: `at most ${METADATA_MAX_BYTES} bytes as JSON` })
    .nullish(),
};

export const CreateAgentBody = z.object(fields).openapi("CreateAgent");
/** PUT changes the fields it names (null clears one) and keeps the others. */
export const UpdateAgentBody = z.object(fields).partial().openapi("UpdateAgent");
export const AgentChatBody = z.object({ messages: z.array(ChatMessageSchema).min(1).max(500), stream: z.boolean().optional() }).openapi("AgentChatRequest");
export const AgentSpeakBody = z.object({ text: z.string().min(1).max(5000), format: z.enum(AUDIO_FORMATS).optional() }).openapi("AgentSpeakRequest");

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
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Agent");
const AgentEnvelope = z.object({ success: z.literal(true), agent: AgentSchema }).openapi("AgentResponse");
const AgentList = z.object({ success: z.literal(true), agents: z.array(AgentSchema) }).openapi("AgentList");
const IdParam = z.object({ id: z.string().min(1).max(200).openapi({ param: { name: "id", in: "path" } }) });
const IdempotencyHeader = z.object({ "idempotency-key": z.string().min(1).max(255).optional() });

export function agentView(row: catalog.AgentRow): z.infer<typeof AgentSchema> {
  const { userId: _owner, metadata, createdAt, updatedAt, ...rest } = row;
  return { ...rest, metadata: metadata === null ? null : JSON.parse(metadata), createdAt: iso(createdAt)!, updatedAt: iso(updatedAt)! };
}

/** Validated body → stored columns: provider aliases resolved to ids, metadata as JSON text. */
function toColumns(body: z.infer<typeof UpdateAgentBody>): Partial<catalog.AgentFields> {
  const { ttsProvider, llmProvider, metadata, ...plain } = body;
  const out: Partial<catalog.AgentFields> = { ...plain };
  if (ttsProvider !== undefined) out.ttsProvider = ttsProvider && findProvider(ttsProvider)!.id;
  if (llmProvider !== undefined) out.llmProvider = llmProvider && findProvider(llmProvider)!.id;
  if (metadata !== undefined) out.metadata = metadata && JSON.stringify(metadata);
  return out;
}

const EMPTY_AGENT: Omit<catalog.AgentFields, "name"> = {
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
};

/** The caller's agent, or 404 (also for another user's). */
async function ownAgent(c: Ctx, id: string): Promise<catalog.AgentRow> {
  const row = await catalog.getAgent(c.var.storage.db, c.var.principal.userId, id);
  if (row) return row;
  // chat and speak are admitted by the pipeline, later: admit now so a revoked key gets 401, not 404.
  if (!c.var.admission) await admit(c);
  throw new ApiError("not_found", "No agent with this id.");
}

async function agentChat(c: Ctx, id: string, body: z.infer<typeof AgentChatBody>) {
  const agent = await ownAgent(c, id);
  const provider = agent.llmProvider ?? undefined;
  return chatResponse(
    c,
    {
      provider,
      model: agent.llmModel ?? chooseProvider(c, "llm", provider).llm!.defaultModel,
      system: agent.systemPrompt ?? undefined,
      messages: body.messages,
      temperature: agent.temperature ?? undefined,
      maxTokens: agent.maxTokens ?? undefined,
      stream: body.stream,
    },
    await idempotencyFor(c, body),
  );
}

async function agentSpeak(c: Ctx, id: string, body: z.infer<typeof AgentSpeakBody>) {
  const agent = await ownAgent(c, id);
  const input = { provider: agent.ttsProvider ?? undefined, voiceId: agent.voiceId ?? undefined, model: agent.ttsModel ?? undefined };
  return synthesize(c, { ...input, text: body.text, format: body.format }, await idempotencyFor(c, body));
}

export function registerAgents(app: OpenAPIHono<AppEnv>) {
  // CRUD only: chat and speak are admitted (rate limit + credits) by the pipeline, once.
  app.use("/v1/agents", admitted);
  app.use("/v1/agents/:id", admitted);
  const tags = ["Agents"];
  const json = <T extends z.ZodType>(schema: T) => ({ "application/json": { schema } });

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/agents",
      tags,
      summary: "Create a voice agent",
      security,
      request: { body: { content: json(CreateAgentBody), required: true } },
      responses: { 201: { description: "Created", content: json(AgentEnvelope) }, ...errors(400, 401, 413, 415, 429) },
    }),
    async (c) => {
      const columns = { ...EMPTY_AGENT, ...toColumns(c.req.valid("json")) } as catalog.AgentFields;
      const id = `agt_${crypto.randomUUID().replaceAll("-", "")}`;
      const row = await catalog.createAgent(c.var.storage.db, c.var.principal.userId, id, columns, Date.now());
      return c.json({ success: true as const, agent: agentView(row) }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/agents",
      tags,
      summary: "List your agents (newest first)",
      security,
      responses: { 200: { description: "Agents", content: json(AgentList) }, ...errors(401, 429) },
    }),
    async (c) => c.json({ success: true as const, agents: (await catalog.listAgents(c.var.storage.db, c.var.principal.userId)).map(agentView) }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/agents/{id}",
      tags,
      summary: "Get an agent",
      security,
      request: { params: IdParam },
      responses: { 200: { description: "Agent", content: json(AgentEnvelope) }, ...errors(401, 404, 429) },
    }),
    async (c) => c.json({ success: true as const, agent: agentView(await ownAgent(c, c.req.valid("param").id)) }, 200),
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/v1/agents/{id}",
      tags,
      summary: "Update an agent: the fields given change (null clears one), the others are kept",
      security,
      request: { params: IdParam, body: { content: json(UpdateAgentBody), required: true } },
      responses: { 200: { description: "Updated", content: json(AgentEnvelope) }, ...errors(400, 401, 404, 413, 415, 429) },
    }),
    async (c) => {
      const row = await catalog.updateAgent(c.var.storage.db, c.var.principal.userId, c.req.valid("param").id, toColumns(c.req.valid("json")), Date.now());
      if (!row) throw new ApiError("not_found", "No agent with this id.");
      return c.json({ success: true as const, agent: agentView(row) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/agents/{id}",
      tags,
      summary: "Delete an agent",
      security,
      request: { params: IdParam },
      responses: { 200: { description: "Deleted", content: json(SuccessSchema) }, ...errors(401, 404, 429) },
    }),
    async (c) => {
      if (!(await catalog.deleteAgent(c.var.storage.db, c.var.principal.userId, c.req.valid("param").id))) {
        throw new ApiError("not_found", "No agent with this id.");
      }
      return c.json({ success: true as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/agents/{id}/chat",
      tags,
      summary: "Chat with an agent (its system prompt, model, temperature and maxTokens applied); answered like /v1/chat",
      security,
      request: { params: IdParam, headers: IdempotencyHeader, body: { content: json(AgentChatBody), required: true } },
      responses: { 200: { description: "The answer, or with stream:true an SSE stream as /v1/chat", content: json(ChatResponseSchema) }, ...errors(400, 401, 402, 404, 409, 413, 415, 422, 429, 502, 504) },
    }),
    async (c) => (await agentChat(c, c.req.valid("param").id, c.req.valid("json"))) as never,
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/agents/{id}/speak",
      tags,
      summary: "Speak text in the agent's voice (its TTS provider, model and voice); answered like /v1/synthesize",
      security,
      request: { params: IdParam, headers: IdempotencyHeader, body: { content: json(AgentSpeakBody), required: true } },
      responses: {
        200: { description: "Audio, streamed", content: { "audio/mpeg": { schema: z.any().openapi({ type: "string", format: "binary" }) } } },
        ...errors(400, 401, 402, 404, 409, 413, 415, 422, 429, 502, 504),
      },
    }),
    async (c) => (await agentSpeak(c, c.req.valid("param").id, c.req.valid("json"))) as never,
  );
}
