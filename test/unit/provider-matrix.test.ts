// docs/PROVIDERS.md is generated from the registry (scripts/provider-matrix-render.ts): this fails when an adapter,
// the planner or a default price changed and the committed table was not regenerated.
import { describe, expect, it } from "vitest";
import committed from "../../docs/PROVIDERS.md?raw";
import { renderProviderMatrix } from "../../scripts/provider-matrix-render";

describe("docs/PROVIDERS.md", () => {
  it("is what the registry generates (run `node scripts/provider-matrix.mjs` after changing a provider)", () => {
    expect(committed === renderProviderMatrix(), "docs/PROVIDERS.md is stale: run node scripts/provider-matrix.mjs").toBe(true);
  });
});
