// `npm test`: install what is missing, run the checks (lint, typecheck), then every test (workerd tests,
// then end-to-end against a real `wrangler dev`), and end with the line "N passed, N failed". Each check
// counts as one test; a failed check fails the run, but the suites still run so the output shows everything.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureChromium, ensureDependencies, OFFLINE_ENV, ROOT } from "./setup.mjs";

ensureDependencies();
ensureChromium();
const out = join(ROOT, "test", "artifacts");
mkdirSync(out, { recursive: true });

const checks = ["lint", "typecheck"];
const suites = [
  { name: "workerd", config: "vitest.config.ts" },
  { name: "e2e", config: "vitest.e2e.config.ts" },
];
let passed = 0;
let failed = 0;
let broken = false;
for (const check of checks) {
  const res = spawnSync("npm", ["run", check], { cwd: ROOT, stdio: "inherit", env: { ...process.env, ...OFFLINE_ENV } });
  if (res.status === 0) passed++;
  else failed++;
}
for (const suite of suites) {
  const report = join(out, `vitest-${suite.name}.json`);
  const res = spawnSync(
    "npx",
    [
      "vitest",
      "run",
      "--config",
      suite.config,
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${report}`,
      ...process.argv.slice(2),
    ],
    { cwd: ROOT, stdio: "inherit", env: { ...process.env, ...OFFLINE_ENV } },
  );
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, "utf8"));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    if (res.status !== 0 && r.numFailedTests === 0) broken = true; // e.g. a suite that failed to load
  } else {
    broken = true;
  }
  if (res.status !== 0) broken = true;
}
if (broken && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
