// The agents table: voice agents' stored configuration.
import { and, desc, eq } from "drizzle-orm";
import { agents } from "../../schema";
import { orm } from "./orm";

// Every query is scoped to the owner: another user's agent id behaves as an unknown one. Unlike the
// queries above, getAgent runs on the request path (agent chat and speak read their agent: one D1 read).

export type AgentRow = typeof agents.$inferSelect;
/** The stored fields of an agent; null clears a field. */
export type AgentFields = Omit<AgentRow, "id" | "userId" | "createdAt" | "updatedAt">;

export async function createAgent(d1: D1Database, userId: string, id: string, fields: AgentFields, now: number): Promise<AgentRow> {
  const row: AgentRow = { ...fields, id, userId, createdAt: now, updatedAt: now };
  await orm(d1).insert(agents).values(row).run();
  return row;
}

export async function listAgents(d1: D1Database, userId: string): Promise<AgentRow[]> {
  return orm(d1).select().from(agents).where(eq(agents.userId, userId)).orderBy(desc(agents.createdAt), desc(agents.id)).all();
}

export async function getAgent(d1: D1Database, userId: string, id: string): Promise<AgentRow | undefined> {
  return orm(d1)
    .select()
    .from(agents)
    .where(and(eq(agents.id, id), eq(agents.userId, userId)))
    .get();
}

/** Change the given fields; undefined when the agent is not the user's. */
export async function updateAgent(
  d1: D1Database,
  userId: string,
  id: string,
  patch: Partial<AgentFields>,
  now: number,
): Promise<AgentRow | undefined> {
  return orm(d1)
    .update(agents)
    .set({ ...patch, updatedAt: now })
    .where(and(eq(agents.id, id), eq(agents.userId, userId)))
    .returning()
    .get();
}

export async function deleteAgent(d1: D1Database, userId: string, id: string): Promise<boolean> {
  const res = await orm(d1)
    .delete(agents)
    .where(and(eq(agents.id, id), eq(agents.userId, userId)))
    .run();
  return res.meta.changes > 0;
}
