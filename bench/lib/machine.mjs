// The machine and versions a run was measured on (results.json "machine").

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { round } from "./load.mjs";
import { ROOT } from "./services.mjs";

export function machineInfo() {
  const version = (pkg) => JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
  let workerd = "workerd (unknown)";
  try {
    workerd = execFileSync(join(ROOT, "node_modules", ".bin", "workerd"), ["--version"], { encoding: "utf8" }).trim();
  } catch {}
  let commit = null;
  let dirty = null;
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    dirty =
      execFileSync("git", ["status", "--porcelain", "--", "src", "schema", "wrangler.toml"], {
        cwd: ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim() !== "";
  } catch {}
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    loadAverageAtStart: loadavg().map((x) => round(x, 2)),
    node: process.versions.node,
    workerd,
    workerdPackage: version("workerd"),
    wrangler: version("wrangler"),
    miniflare: version("miniflare"),
    autocannon: version("autocannon"),
    gitCommit: commit,
    sourceDirty: dirty,
    tmpdir: tmpdir(),
  };
}
