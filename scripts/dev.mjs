// `npm run dev [-- wrangler dev args]`: install, create .dev.vars, migrate the local D1, serve.
import { execFileSync, spawn } from "node:child_process";
import { databaseArgs } from "./dev-args.mjs";
import { ensureDependencies, ensureDevVars, OFFLINE_ENV, ROOT } from "./setup.mjs";

const args = process.argv.slice(2);
ensureDependencies();
await ensureDevVars();
const env = { ...process.env, ...OFFLINE_ENV };
execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", ...databaseArgs(args)], {
  cwd: ROOT,
  stdio: "inherit",
  env,
});
const child = spawn("npx", ["wrangler", "dev", ...args], { cwd: ROOT, stdio: "inherit", env });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
