// `node scripts/provider-matrix.mjs` writes docs/PROVIDERS.md from the registry (scripts/provider-matrix-render.ts);
// `--check` exits 1 when the committed file is stale (test/unit/provider-matrix.test.ts checks the same).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tsImport } from "tsx/esm/api";

const ROOT = join(import.meta.dirname, "..");
const FILE = join(ROOT, "docs", "PROVIDERS.md");
const { renderProviderMatrix } = await tsImport("./provider-matrix-render.ts", import.meta.url);
const text = renderProviderMatrix();
if (process.argv.includes("--check")) {
  const current = readFileSync(FILE, "utf8");
  if (current !== text) {
    console.error("docs/PROVIDERS.md is stale: run node scripts/provider-matrix.mjs");
    process.exit(1);
  }
  console.log("docs/PROVIDERS.md is up to date");
} else {
  writeFileSync(FILE, text);
  console.log(`wrote ${FILE}`);
}
