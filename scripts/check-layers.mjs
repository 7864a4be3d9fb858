// `npm run lint` (with Biome): the source's layers point one way, and nothing imports a route file but
// the app. Each folder of src/ has a rank; a file may import (at run time) from its own folder or from a
// folder of lower rank. Type-only imports are free (they vanish at build time); import circles of any
// kind are madge's job (`npx madge --circular --extensions ts src`, also run here).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = join(ROOT, "src");

/** Lower ranks know nothing of higher ones. */
const RANKS = {
  // building blocks that know nothing of the product
  "env.ts": 0,
  encoding: 0,
  audio: 0,
  http: 1,
  providers: 1,
  ratelimit: 1,
  // secrets, configuration, the catalog in D1, the bindings, what a request carries
  crypto: 2,
  "config.ts": 2,
  db: 2,
  "bindings.ts": 2,
  "context.ts": 2,
  // who is calling; what things cost and how credits move
  auth: 3,
  metering: 3,
  // the user's Durable Object
  account: 4,
  // the request path: admission, settlement, the operations, realtime sessions, webhooks, the request log
  gateway: 5,
  realtime: 5,
  webhooks: 5,
  requestlog: 5,
  // the API's shapes, the portal's pieces, the route files
  api: 6,
  portal: 7,
  routes: 8,
  // the composition: the app and the Worker's entry points
  "app.ts": 9,
  "scheduled.ts": 9,
  "queue.ts": 9,
  "index.ts": 10,
};

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") && !path.endsWith(".d.ts") ? [path] : [];
  });
}

const layerOf = (file) => relative(SRC, file).split("/")[0];

/** Runtime imports of a file: static, re-exports and dynamic import(); `import type` is skipped. */
function runtimeImports(text) {
  const out = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of text.matchAll(re)) {
    if (m[4]) out.push(m[4]);
    else if (!m[2]) out.push(m[3]);
  }
  return out.filter((s) => s.startsWith("."));
}

const problems = [];
for (const file of files(SRC)) {
  const from = layerOf(file);
  const rank = RANKS[from];
  if (rank === undefined) {
    problems.push(`${relative(ROOT, file)}: src/${from} has no rank in scripts/check-layers.mjs`);
    continue;
  }
  for (const spec of runtimeImports(readFileSync(file, "utf8"))) {
    const target = normalize(join(dirname(file), spec));
    if (!target.startsWith(SRC)) continue; // schema/: the tables, below everything
    const to = layerOf(target.endsWith(".ts") ? target : `${target}.ts`);
    if (to === from) continue;
    const toRank = RANKS[to] ?? RANKS[`${to}.ts`];
    if (toRank === undefined || toRank >= rank) {
      problems.push(`${relative(ROOT, file)} (${from}, rank ${rank}) imports ${spec} (${to}, rank ${toRank ?? "?"})`);
    }
    if (to === "routes" && from !== "app.ts") problems.push(`${relative(ROOT, file)} uses a route file as a library: ${spec}`);
  }
}

try {
  execFileSync("npx", ["madge", "--circular", "--extensions", "ts", "--warning", "src"], { cwd: ROOT, stdio: "pipe" });
} catch (e) {
  problems.push(`import circles (madge):\n${e.stdout?.toString() ?? e.message}`);
}

if (problems.length) {
  console.error(`check-layers: ${problems.length} problem(s)\n${problems.join("\n")}`);
  process.exit(1);
}
console.log("check-layers: layers point one way, no route file is imported, no import circles");
