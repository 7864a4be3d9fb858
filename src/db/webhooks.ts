// The webhooks table (a user's endpoints, secrets sealed) and the delivery log (one row per attempt).
import { and, desc, eq, lt } from "drizzle-orm";
import { webhookDeliveries, webhooks } from "../../schema";
import { orm } from "./orm";

export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** The most webhooks a user may have (API.md §7.1). */
export const MAX_WEBHOOKS = 10;

/**
 * Insert a webhook only while the user has fewer than MAX_WEBHOOKS: one statement, so concurrent creates
 * cannot pass the limit together. Null when the limit is reached.
 */
export async function createWebhook(d1: D1Database, row: WebhookRow): Promise<WebhookRow | null> {
  const res = await d1
    .prepare(
      `INSERT INTO webhooks (id, user_id, url, events, description, secret_ciphertext, secret_iv, secret_key_version, created_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
       WHERE (SELECT COUNT(*) FROM webhooks WHERE user_id = ?2) < ?10`,
    )
    .bind(
      row.id,
      row.userId,
      row.url,
      row.events,
      row.description,
      row.secretCiphertext,
      row.secretIv,
      row.secretKeyVersion,
      row.createdAt,
      MAX_WEBHOOKS,
    )
    .run();
  return res.meta.changes ? row : null;
}

export async function listWebhooks(d1: D1Database, userId: string): Promise<WebhookRow[]> {
  return orm(d1).select().from(webhooks).where(eq(webhooks.userId, userId)).orderBy(desc(webhooks.createdAt), desc(webhooks.id)).all();
}

export async function getWebhook(d1: D1Database, userId: string, id: string): Promise<WebhookRow | undefined> {
  return orm(d1)
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.id, id), eq(webhooks.userId, userId)))
    .get();
}

/** Delete a webhook and its delivery log (one batch); false when the user has no webhook with this id. */
export async function deleteWebhook(d1: D1Database, userId: string, id: string): Promise<boolean> {
  const db = orm(d1);
  const [gone] = await db.batch([
    db.delete(webhooks).where(and(eq(webhooks.id, id), eq(webhooks.userId, userId))),
    db.delete(webhookDeliveries).where(and(eq(webhookDeliveries.webhookId, id), eq(webhookDeliveries.userId, userId))),
  ]);
  return gone.meta.changes > 0;
}

export async function recordDeliveries(d1: D1Database, rows: DeliveryRow[]): Promise<void> {
  if (rows.length === 0) return;
  const db = orm(d1);
  const [first, ...rest] = rows.map((r) => db.insert(webhookDeliveries).values(r).onConflictDoNothing());
  if (first) await db.batch([first, ...rest]);
}

/** A webhook's delivery attempts, newest first. */
export async function listDeliveries(d1: D1Database, userId: string, webhookId: string, limit: number): Promise<DeliveryRow[]> {
  return orm(d1)
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.userId, userId)))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.attempt))
    .limit(limit)
    .all();
}

/** Delivery log rows older than `before` (the cron keeps 30 days); how many went. */
export async function pruneDeliveries(d1: D1Database, before: number): Promise<number> {
  const res = await orm(d1).delete(webhookDeliveries).where(lt(webhookDeliveries.createdAt, before)).run();
  return res.meta.changes;
}
