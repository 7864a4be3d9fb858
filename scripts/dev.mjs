// `npm run dev [-- wrangler dev args]`: install, create .dev.vars, migrate the local D1, serve.
import { spawn } from "node:child_process";
import { ensureDependencies, ensureDevVars, OFFLINE_ENV, ROOT, run } from "./setup.mjs";

ensureDependencies();
await ensureDevVars();
run("npx wrangler d1 migrations apply DB --local");
const child = spawn("npx", ["wrangler", "dev", ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: "inherit",
  env: { ...process.env, ...OFFLINE_ENV },
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
