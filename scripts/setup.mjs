// Shared by `npm run dev` and `npm test`: install what is missing, offline-safe wrangler env,
// and a local .dev.vars (created from .dev.vars.example, never overwritten).
import { execSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** No internet here: keep wrangler from phoning home. */
export const OFFLINE_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

export function run(cmd, opts = {}) {
  execSync(cmd, { cwd: ROOT, stdio: "inherit", env: { ...process.env, ...OFFLINE_ENV }, ...opts });
}

/** `npm ci` when node_modules is missing or does not match package-lock.json. */
export function ensureDependencies() {
  const installed = join(ROOT, "node_modules", ".package-lock.json");
  let stale = !existsSync(installed);
  if (!stale) {
    const want = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")).packages;
    const have = JSON.parse(readFileSync(installed, "utf8")).packages;
    stale = Object.entries(want).some(([path, p]) => path !== "" && !p.optional && have[path]?.version !== p.version);
  }
  if (stale) {
    console.log("[voxgate] installing dependencies (npm ci)…");
    run("npm ci --no-audit --no-fund");
  }
}

/** The portal's browser test drives Debian's Chromium: install it (as root, with apt-get) when missing. */
export function ensureChromium() {
  const path = process.env.VOXGATE_CHROMIUM ?? "/usr/bin/chromium";
  if (existsSync(path)) return;
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  if (!root || !existsSync("/usr/bin/apt-get")) {
    console.warn(`[voxgate] ${path} is missing: install Debian's chromium package (the portal browser test needs it).`);
    return;
  }
  console.log("[voxgate] installing chromium (apt-get)…");
  run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null");
}

/** Create .dev.vars from .dev.vars.example with fresh local secrets and a dev JWT key pair. */
export async function ensureDevVars() {
  const path = join(ROOT, ".dev.vars");
  if (existsSync(path)) return;
  const { generateKeyPair, exportJWK } = await import("jose");
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const pub = { ...(await exportJWK(publicKey)), kid: "dev", alg: "ES256", use: "sig" };
  const priv = { ...(await exportJWK(privateKey)), kid: "dev", alg: "ES256" };
  writeFileSync(join(ROOT, ".dev-jwt-key.json"), JSON.stringify(priv), { mode: 0o600 });
  let text = readFileSync(join(ROOT, ".dev.vars.example"), "utf8");
  text = text
    .replace(/^PROVIDER_KEY_ENCRYPTION_KEY=.*$/m, `PROVIDER_KEY_ENCRYPTION_KEY=${randomBytes(32).toString("base64")}`)
    .replace(/^BETTER_AUTH_SECRET=.*$/m, `BETTER_AUTH_SECRET=${randomBytes(32).toString("base64")}`)
    .replace(/^JWT_JWKS=.*$/m, `JWT_JWKS=${JSON.stringify({ keys: [pub] })}`);
  writeFileSync(path, text, { mode: 0o600 });
  console.log("[voxgate] created .dev.vars (local secrets and a dev JWT signing key; mint tokens with `npm run dev:jwt`)");
}
