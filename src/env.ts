// The Worker's bindings and variables: generated from wrangler.toml by `npm run types`
// (src/worker-configuration.d.ts), plus the secrets and optional variables wrangler.toml does not
// list (provider keys, PROVIDER_KEY_ENCRYPTION_KEY, JWT_JWKS, …) — config.ts validates all of them.
/// <reference path="./worker-configuration.d.ts" />

export type Env = Cloudflare.Env & { [secretOrOptional: string]: unknown };
