// `npm run dev:jwt -- [--sub alice] [--role admin] [--ttl 1h]`: mint a JWT signed by the local dev key
// (created with .dev.vars by `npm run dev`). Only a local .dev.vars trusts this key: production config
// has no JWT_JWKS of it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { importJWK, SignJWT } from "jose";
import { ROOT } from "./setup.mjs";

const args = Object.fromEntries(process.argv.slice(2).flatMap((a, i, all) => (a.startsWith("--") ? [[a.slice(2), all[i + 1]]] : [])));
const vars = Object.fromEntries(
  readFileSync(join(ROOT, ".dev.vars"), "utf8")
    .split("\n")
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
);
const key = await importJWK(JSON.parse(readFileSync(join(ROOT, ".dev-jwt-key.json"), "utf8")), "ES256");
const payload = args.role ? { role: args.role } : {};
const token = await new SignJWT(payload)
  .setProtectedHeader({ alg: "ES256", kid: "dev" })
  .setSubject(args.sub ?? "dev-user")
  .setIssuer(vars.JWT_ISSUER)
  .setAudience(vars.JWT_AUDIENCE)
  .setIssuedAt()
  .setExpirationTime(args.ttl ?? "1h")
  .sign(key);
console.log(token);
