// PRICES through a real `wrangler dev` (the harness sets it: test/e2e/harness.ts): the worker prices requests
// and the Account object limits plans from the same JSON, and GET /v1/providers shows it.
import { describe, expect, it } from "vitest";
// @ts-expect-error plain JS module shared with the mock server
import { mockChat } from "../mocks/audio.mjs";
import { bearer, call, payingUser } from "./client";

describe("PRICES", () => {
  it("a plan's credits come from PRICES (the Account object reads it)", async () => {
    const u = await payingUser("scale");
    const usage = (await (await call("/v1/usage", { headers: bearer(u.key) })).json()) as any;
    expect(usage.credits.limit).toBe(1_200_000);
  });

  it("a model family priced only by PRICES is metered at that price (the worker reads it)", async () => {
    const u = await payingUser("scale");
    const messages = [{ role: "user", content: "price this please" }];
    const res = await call("/v1/chat", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "openai", model: "e2e-priced-1", messages },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const expected = mockChat(messages);
    // 7 and 11 credits per 1,000 tokens = 7 and 11 millicredits a token, on the tokens the provider reported.
    expect(Number(res.headers.get("x-usage-cost"))).toBe((7 * expected.promptTokens + 11 * expected.completionTokens) / 1000);
    const unpriced = await call("/v1/chat", {
      method: "POST",
      headers: bearer(u.key),
      json: { provider: "openai", model: "e2e-unpriced", messages },
    });
    expect(((await unpriced.json()) as any).error.code).toBe("model_not_priced");
  });

  it("GET /v1/providers lists the effective prices", async () => {
    const u = await payingUser("scale");
    const body = (await (await call("/v1/providers", { headers: bearer(u.key) })).json()) as any;
    expect(body.llmPrices).toContainEqual({ modelPrefix: "e2e-priced", inputCreditsPer1000Tokens: 7, outputCreditsPer1000Tokens: 11 });
  });
});
