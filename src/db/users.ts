// The users table (and the operator audit trail that records every change made to a user's plan or
// balance). Plan and balance changes go through the user's Account object, which calls these.
import { and, desc, eq, lte, ne } from "drizzle-orm";
import { apiKeys, creditAudit, providerKeys, users } from "../../schema";
import { keyStateColumns } from "./api-keys";
import { orm } from "./orm";

export type UserRow = typeof users.$inferSelect;

export async function getUser(d1: D1Database, userId: string): Promise<UserRow | undefined> {
  return orm(d1).select().from(users).where(eq(users.id, userId)).get();
}

/** The user behind a JWT `sub`, created on first sight on the free plan. */
export async function userForSubject(d1: D1Database, subject: string, now: number): Promise<UserRow> {
  const db = orm(d1);
  await db
    .insert(users)
    .values({ id: `usr_${crypto.randomUUID().replaceAll("-", "")}`, jwtSubject: subject, createdAt: now })
    .onConflictDoNothing({ target: users.jwtSubject });
  const row = await db.select().from(users).where(eq(users.jwtSubject, subject)).get();
  if (!row) throw new Error("user row vanished after insert");
  return row;
}

/** The user behind a verified portal phone number, created on first sight. */
export async function userForPhone(d1: D1Database, phoneNumber: string, now: number): Promise<UserRow> {
  const db = orm(d1);
  await db
    .insert(users)
    .values({ id: `usr_${crypto.randomUUID().replaceAll("-", "")}`, phoneNumber, createdAt: now })
    .onConflictDoNothing({ target: users.phoneNumber });
  const row = await db.select().from(users).where(eq(users.phoneNumber, phoneNumber)).get();
  if (!row) throw new Error("user row vanished after insert");
  return row;
}

export async function loadAccount(d1: D1Database, userId: string) {
  const db = orm(d1);
  const [user, keys, pkeys] = await db.batch([
    db.select().from(users).where(eq(users.id, userId)),
    db
      .select({ id: apiKeys.id, ...keyStateColumns })
      .from(apiKeys)
      .where(eq(apiKeys.userId, userId)),
    db.select().from(providerKeys).where(eq(providerKeys.userId, userId)),
  ]);
  return { user: user[0], keys, providerKeys: pkeys };
}

export async function updateUser(
  d1: D1Database,
  userId: string,
  patch: { plan?: string; planExpiresAt?: number | null; paygMc?: number; role?: string },
  audit: { actor: string; reason?: string },
  now: number,
) {
  const db = orm(d1);
  const set: Partial<UserRow> = {};
  if (patch.plan !== undefined) set.plan = patch.plan;
  if (patch.planExpiresAt !== undefined) set.planExpiresAt = patch.planExpiresAt;
  if (patch.paygMc !== undefined) set.paygBalanceMc = patch.paygMc;
  if (patch.role !== undefined) set.role = patch.role;
  await db.batch([
    db.update(users).set(set).where(eq(users.id, userId)),
    db.insert(creditAudit).values({
      id: crypto.randomUUID(),
      userId,
      actor: audit.actor,
      change: JSON.stringify(patch),
      amountMc: patch.paygMc ?? null,
      reason: audit.reason ?? null,
      createdAt: now,
    }),
  ]);
}

/**
 * Record a PAYG top-up in the audit trail. The balance itself is the user's Account object's: it adds
 * the amount after this succeeded and mirrors the balance to the users row (mirrorPayg).
 */
export async function auditTopUp(d1: D1Database, userId: string, amountMc: number, audit: { actor: string; reason?: string }, now: number) {
  await orm(d1)
    .insert(creditAudit)
    .values({
      id: crypto.randomUUID(),
      userId,
      actor: audit.actor,
      change: "payg_credit",
      amountMc,
      reason: audit.reason ?? null,
      createdAt: now,
    })
    .run();
}

export async function mirrorPayg(d1: D1Database, userId: string, balanceMc: number) {
  await orm(d1).update(users).set({ paygBalanceMc: balanceMc }).where(eq(users.id, userId));
}

export async function auditTrail(d1: D1Database, userId: string) {
  return orm(d1).select().from(creditAudit).where(eq(creditAudit.userId, userId)).orderBy(desc(creditAudit.createdAt)).limit(100).all();
}

/** Users whose paid plan has expired: the scheduled job moves them to free. */
export async function expiredPlanUsers(d1: D1Database, now: number): Promise<string[]> {
  const rows = await orm(d1)
    .select({ id: users.id })
    .from(users)
    .where(and(ne(users.plan, "free"), lte(users.planExpiresAt, now)))
    .limit(500)
    .all();
  return rows.map((r) => r.id);
}
