// The caller's account as the API shows it (API.md §4, §7): /v1/me, /v1/usage, Sonna's credits, and the
// portal's variants. Everything here renders the usage snapshot the Account object answered admission with.
import { z } from "@hono/zod-openapi";
import type { Principal } from "../context";
import type { UsageSnapshot } from "../metering/contract";
import { toCredits, type UsageKind } from "../metering/plans";
import { IsoDate, iso } from "./schemas";

export const MeSchema = z
  .object({
    success: z.literal(true),
    user: z.object({ id: z.string(), plan: z.string(), planExpiresAt: IsoDate, paygCredits: z.number(), role: z.string() }),
  })
  .openapi("Me");

export const UsageSchema = z
  .object({
    period: z.string().openapi({ example: "2026-11" }),
    credits: z.object({ used: z.number(), limit: z.number(), remaining: z.number() }),
    breakdown: z.object({ tts: z.number(), stt: z.number(), llm: z.number() }),
    requestCount: z.number().int(),
  })
  .openapi("Usage");

export const CreditsSchema = z
  .object({ credits: z.number(), payg_credits: z.number(), plan: z.string(), expiresAt: IsoDate })
  .openapi("SonnaCredits");

export const PortalMe = MeSchema.extend({
  user: MeSchema.shape.user.extend({ phoneNumber: z.string() }),
}).openapi("PortalMe");

export const PortalUsage = UsageSchema.extend({
  daily: z
    .array(z.object({ day: z.string().openapi({ example: "2026-11-22" }), tts: z.number(), stt: z.number(), llm: z.number() }))
    .openapi({ description: "Credits used per day (UTC) of the billing period, one entry per calendar day of the month" }),
}).openapi("PortalUsage");

export function meView(p: Principal, u: UsageSnapshot) {
  return {
    success: true as const,
    user: {
      id: p.userId,
      plan: u.plan,
      planExpiresAt: iso(u.planExpiresAt),
      paygCredits: toCredits(u.paygMc),
      role: p.isAdmin ? "admin" : u.role,
    },
  };
}

export function usageView(u: UsageSnapshot) {
  return {
    period: u.period,
    credits: { used: toCredits(u.usedMc), limit: toCredits(u.limitMc), remaining: toCredits(u.remainingMc) },
    breakdown: { tts: toCredits(u.breakdownMc.tts), stt: toCredits(u.breakdownMc.stt), llm: toCredits(u.breakdownMc.llm) },
    requestCount: u.requestCount,
  };
}

export function creditsView(u: UsageSnapshot) {
  return {
    credits: toCredits(Math.max(0, u.remainingMc - u.paygMc)),
    payg_credits: toCredits(u.paygMc),
    plan: u.plan,
    expiresAt: iso(u.planExpiresAt),
  };
}

/** One entry per calendar day of `period` (YYYY-MM), credits split by kind; days without usage are 0. */
export function dailySeries(period: string, rows: { day: string; kind: UsageKind; mc: number }[]) {
  const [year, month] = period.split("-").map(Number) as [number, number];
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const byDay = new Map<string, Record<UsageKind, number>>();
  for (const r of rows) {
    const d = byDay.get(r.day) ?? { tts: 0, stt: 0, llm: 0 };
    d[r.kind] += r.mc;
    byDay.set(r.day, d);
  }
  return Array.from({ length: days }, (_, i) => {
    const day = `${period}-${String(i + 1).padStart(2, "0")}`;
    const mc = byDay.get(day) ?? { tts: 0, stt: 0, llm: 0 };
    return { day, tts: toCredits(mc.tts), stt: toCredits(mc.stt), llm: toCredits(mc.llm) };
  });
}
