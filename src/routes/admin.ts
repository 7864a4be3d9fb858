// Operator routes (API.md §7), admin JWT only: read and change a user's plan, PAYG balance and role.
// Every change goes through the user's Account object (which writes D1 and the audit trail), so the
// hot path sees it on the user's next request.
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { MAX_PAYG_BALANCE_MC } from "../account/catalog-changes";
import { UsageSchema, usageView } from "../api/account";
import { displayText } from "../api/display-text";
import { errors, IsoDate, IsoTime, iso } from "../api/schemas";
import type { AppEnv, Ctx } from "../context";
import { getUser, type UserRow } from "../db/users";
import { ApiError } from "../http/errors";
import type { UsageSnapshot } from "../metering/contract";
import { MC_PER_CREDIT, PLAN_IDS, toCredits } from "../metering/plans";

const adminSecurity = [{ bearerAuth: [] }];
const UserParam = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: "id", in: "path" } }),
});

const AdminUser = z
  .object({
    success: z.literal(true),
    user: z.object({
      id: z.string(),
      jwtSubject: z.string().nullable(),
      phoneNumber: z.string().nullable(),
      plan: z.string(),
      effectivePlan: z.string(),
      planExpiresAt: IsoDate,
      paygCredits: z.number(),
      role: z.string(),
      createdAt: IsoTime,
    }),
  })
  .openapi("AdminUser");

/** The balance ceiling in credits (catalog-changes.ts says why it keeps millicredits exact). */
const MAX_BALANCE = MAX_PAYG_BALANCE_MC / MC_PER_CREDIT;
/** One top-up: 10^9 credits, far more than any real purchase, so a typo of a few zeros is refused outright. */
const MAX_TOP_UP = 1e9;

const PatchUser = z
  .object({
    plan: z.enum(PLAN_IDS).optional().openapi({
      description:
        "The plan. Given without planExpiresAt it keeps the stored expiry, unless that has passed: then the plan is granted with no expiry (as for a user the scheduled job already moved to free).",
    }),
    planExpiresAt: z.iso
      .datetime({ offset: true })
      .nullable()
      .optional()
      .openapi({ description: "When the plan lapses to free; null for never." }),
    paygCredits: z
      .number()
      .min(0)
      .max(MAX_BALANCE)
      .optional()
      .openapi({ description: `The PAYG balance, at most ${MAX_BALANCE} credits.` }),
    role: z.enum(["user", "admin"]).optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "Give at least one of plan, planExpiresAt, paygCredits, role")
  .openapi("AdminUserPatch");

const AddCredits = z
  .object({
    amount: z
      .number()
      .positive()
      .max(MAX_TOP_UP)
      .openapi({ description: `Credits to add, at most ${MAX_TOP_UP}; refused if the balance would pass ${MAX_BALANCE}.` }),
    reason: displayText(500).openapi({ description: "Why (kept in the credit audit); stored trimmed, not only whitespace" }),
  })
  .strict() // a misspelt field is refused, not ignored: credits are added only as asked
  .openapi("AdminAddCredits");

/** Credits (possibly fractional, e.g. 16.6) → exact integer millicredits; more than 3 decimals is refused. */
function creditsToMc(credits: number, field: string): number {
  const mc = Math.round(credits * MC_PER_CREDIT);
  // Exactly three decimals or fewer iff mc/1000 is the same double: a fixed tolerance on credits × 1000 also
  // refused about 1 in 80 valid amounts above 10^7 credits (e.g. 543610791.57 × 1000 = …570.00006).
  if (mc / MC_PER_CREDIT !== credits)
    throw new ApiError("validation_failed", `${field} has more than 3 decimals.`, {
      fields: [{ path: field, message: "at most 3 decimals" }],
    });
  return mc;
}

async function userOr404(c: Ctx, id: string) {
  const user = await getUser(c.get("bindings").db, id);
  if (!user) throw new ApiError("not_found", "No such user.");
  return user;
}

function adminUserView(user: UserRow, snap: UsageSnapshot) {
  return {
    success: true as const,
    user: {
      id: user.id,
      jwtSubject: user.jwtSubject,
      phoneNumber: user.phoneNumber,
      plan: user.plan,
      effectivePlan: snap.plan,
      planExpiresAt: iso(snap.planExpiresAt),
      paygCredits: toCredits(snap.paygMc),
      role: snap.role,
      createdAt: iso(user.createdAt),
    },
  };
}

export function registerAdmin(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/admin/users/{id}",
      tags: ["Admin"],
      summary: "A user's plan, balance and role",
      security: adminSecurity,
      request: { params: UserParam },
      responses: { 200: { description: "User", content: { "application/json": { schema: AdminUser } } }, ...errors(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const user = await userOr404(c, id);
      return c.json(adminUserView(user, await c.get("bindings").account(id).summary(id)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/api/admin/users/{id}",
      tags: ["Admin"],
      summary: "Change plan, plan expiry, PAYG balance or role (audited)",
      security: adminSecurity,
      request: { params: UserParam, body: { content: { "application/json": { schema: PatchUser } }, required: true } },
      responses: {
        200: { description: "Updated", content: { "application/json": { schema: AdminUser } } },
        ...errors(400, 401, 403, 404, 415),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const patch = c.req.valid("json");
      const user = await userOr404(c, id);
      const snap = await c
        .get("bindings")
        .account(id)
        .updateUser(
          id,
          {
            plan: patch.plan,
            planExpiresAt:
              patch.planExpiresAt === undefined ? undefined : patch.planExpiresAt === null ? null : Date.parse(patch.planExpiresAt),
            paygMc: patch.paygCredits === undefined ? undefined : creditsToMc(patch.paygCredits, "paygCredits"),
            role: patch.role,
          },
          { actor: c.get("principal").userId },
        );
      return c.json(adminUserView({ ...user, plan: patch.plan ?? user.plan }, snap), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/admin/users/{id}/credits",
      tags: ["Admin"],
      summary: "Add PAYG credits (audited)",
      security: adminSecurity,
      request: { params: UserParam, body: { content: { "application/json": { schema: AddCredits } }, required: true } },
      responses: {
        200: { description: "Updated", content: { "application/json": { schema: AdminUser } } },
        ...errors(400, 401, 403, 404, 415),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const user = await userOr404(c, id);
      const amountMc = creditsToMc(body.amount, "amount");
      // The Account object decides, counting top-ups racing this one: null is over the balance's ceiling.
      const snap = await c
        .get("bindings")
        .account(id)
        .addCredits(id, amountMc, { actor: c.get("principal").userId, reason: body.reason });
      if (!snap)
        throw new ApiError("validation_failed", `The PAYG balance would exceed ${MAX_BALANCE} credits.`, {
          fields: [{ path: "amount", message: `the balance may hold at most ${MAX_BALANCE} credits` }],
        });
      return c.json(adminUserView(user, snap), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/admin/users/{id}/usage",
      tags: ["Admin"],
      summary: "A user's usage in the current billing period",
      security: adminSecurity,
      request: { params: UserParam },
      responses: {
        200: {
          description: "Usage",
          content: { "application/json": { schema: z.object({ success: z.literal(true), usage: UsageSchema }).openapi("AdminUsage") } },
        },
        ...errors(401, 403, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      await userOr404(c, id);
      const usage = await c.get("bindings").account(id).usage(id);
      return c.json({ success: true as const, usage: usageView(usage) }, 200);
    },
  );
}
