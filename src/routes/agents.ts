// Voice agents (API.md §4): a user's saved configuration — system prompt, voice, TTS and LLM
// providers and models — under /v1/agents, and its chat and speak, which run through the same
// gateway operations as /v1/chat and /v1/synthesize with the agent's settings applied.
import { createRoute, type OpenAPIHono, type z } from "@hono/zod-openapi";
import {
  AgentChatBody,
  AgentEnvelope,
  AgentList,
  AgentSpeakBody,
  agentView,
  CreateAgentBody,
  EMPTY_AGENT,
  speechModelProblem,
  toColumns,
  UpdateAgentBody,
} from "../api/agents";
import { chatAnswer, chatContent, speechAudio, sseResponse } from "../api/gateway";
import { errors, IdempotencyHeader, IdParam, json, SuccessSchema, security } from "../api/schemas";
import type { AppEnv, Ctx } from "../context";
import * as agentsTable from "../db/agents";
import { chat } from "../gateway/chat";
import type { FallbackEntry } from "../gateway/failover";
import { idempotencyFor } from "../gateway/idempotency";
import { chooseProvider } from "../gateway/provider";
import { synthesize } from "../gateway/synthesize";
import { ApiError } from "../http/errors";
import { findProvider, offers } from "../providers/registry";

/** The caller's agent, or 404 (also for another user's). */
async function ownAgent(c: Ctx, id: string): Promise<agentsTable.AgentRow> {
  const row = await agentsTable.getAgent(c.get("bindings").db, c.get("principal").userId, id);
  if (!row) throw new ApiError("not_found", "No agent with this id.");
  return row;
}

async function agentChat(c: Ctx, id: string, body: z.infer<typeof AgentChatBody>) {
  const agent = await ownAgent(c, id);
  const provider = agent.llmProvider ?? undefined;
  const input = {
    provider,
    model: agent.llmModel ?? chooseProvider(c, "llm", provider).llm.defaultModel,
    system: agent.systemPrompt ?? undefined,
    messages: body.messages,
    temperature: agent.temperature ?? undefined,
    maxTokens: agent.maxTokens ?? undefined,
    stream: body.stream,
    fallback: body.fallback ?? fallbackFor(agent, "llm"), // the request's own list replaces the stored one
  };
  const out = await chat(c, input, await idempotencyFor(c, body), { render: chatAnswer });
  return out.kind === "stream" ? sseResponse(out.body) : c.json(out.body, 200);
}

async function agentSpeak(c: Ctx, id: string, body: z.infer<typeof AgentSpeakBody>) {
  const agent = await ownAgent(c, id);
  const input = { provider: agent.ttsProvider ?? undefined, voiceId: agent.voiceId ?? undefined, model: agent.ttsModel ?? undefined };
  // The request's own list, when sent, replaces the stored one (see AgentSpeakBody).
  const fallback = body.fallback ?? fallbackFor(agent, "tts");
  return synthesize(
    c,
    { ...input, text: body.text, format: body.format, sampleRate: body.sampleRate, fallback },
    await idempotencyFor(c, body),
  );
}

/**
 * The agent's stored fallback entries whose provider offers the operation (one list serves speak and chat).
 * Used only when the request sends no `fallback` of its own: a request's list replaces it (AgentChatBody).
 */
function fallbackFor(agent: agentsTable.AgentRow, op: "tts" | "llm"): FallbackEntry[] | undefined {
  if (!agent.fallback) return undefined;
  const entries = JSON.parse(agent.fallback) as { provider: string; model?: string; voiceId?: string }[];
  return entries.filter((e) => {
    const p = findProvider(e.provider);
    return p !== undefined && offers(p, op);
  });
}

export function registerAgents(app: OpenAPIHono<AppEnv>) {
  const tags = ["Agents"];

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
      const columns = { ...EMPTY_AGENT, ...toColumns(c.req.valid("json")) } as agentsTable.AgentFields;
      const id = `agt_${crypto.randomUUID().replaceAll("-", "")}`;
      const row = await agentsTable.createAgent(c.get("bindings").db, c.get("principal").userId, id, columns, Date.now());
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
    async (c) =>
      c.json(
        { success: true as const, agents: (await agentsTable.listAgents(c.get("bindings").db, c.get("principal").userId)).map(agentView) },
        200,
      ),
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
      const [db, userId, id] = [c.get("bindings").db, c.get("principal").userId, c.req.valid("param").id];
      const columns = toColumns(c.req.valid("json"));
      // A PUT naming only one of the speech provider and model is checked with the other as stored.
      if (columns.ttsProvider !== undefined || columns.ttsModel !== undefined) {
        const stored = await agentsTable.getAgent(db, userId, id);
        if (!stored) throw new ApiError("not_found", "No agent with this id.");
        const problem = speechModelProblem(columns.ttsProvider ?? stored.ttsProvider, columns.ttsModel ?? stored.ttsModel);
        if (problem)
          throw new ApiError("validation_failed", `Invalid request: ttsModel: ${problem}`, {
            fields: [{ path: "ttsModel", message: problem }],
          });
      }
      const row = await agentsTable.updateAgent(db, userId, id, columns, Date.now());
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
      if (!(await agentsTable.deleteAgent(c.get("bindings").db, c.get("principal").userId, c.req.valid("param").id))) {
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
      responses: {
        200: { description: "The answer, or with stream:true an SSE stream as /v1/chat", content: chatContent() },
        ...errors(400, 401, 402, 404, 409, 413, 415, 422, 429, 502, 504),
      },
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
        200: {
          description: "Audio, streamed (Content-Type as /v1/synthesize's: by format and sampleRate)",
          content: speechAudio({ sampleRate: true }),
        },
        ...errors(400, 401, 402, 404, 409, 413, 415, 422, 429, 502, 504),
      },
    }),
    async (c) => (await agentSpeak(c, c.req.valid("param").id, c.req.valid("json"))) as never,
  );
}
