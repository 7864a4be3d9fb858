// Environment → typed, validated config (zod), parsed once per isolate and per env object.
import { z } from "zod";
import type { Env } from "./env";
import { parseCorsOrigins } from "./http/cors";
import { parseAllowHosts } from "./http/public-url";
import { BASE_URL_VARIABLES } from "./providers/registry";
import type { BaseUrls } from "./providers/types";

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));
/** A string variable with a default: unset, empty or blank is the default; surrounding spaces are dropped. */
const withDefault = (fallback: string) => optionalString.transform((v) => v ?? fallback);
const bool = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === "") return false;
    if (v === "true" || v === "1") return true;
    if (v === "false" || v === "0") return false;
    ctx.addIssue({ code: "custom", message: "must be true or false" });
    return z.NEVER;
  });
const positiveInt = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) {
        ctx.addIssue({ code: "custom", message: "must be a positive integer" });
        return z.NEVER;
      }
      return n;
    });
const url = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const value = v === undefined || v === "" ? fallback : v;
      try {
        const u = new URL(value);
        if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
      } catch {
        ctx.addIssue({ code: "custom", message: "must be an http(s) URL" });
        return z.NEVER;
      }
      return value.replace(/\/+$/, "");
    });

/** A variable `parse` reads (a list of hosts, of origins): what it throws is the variable's issue, named at start. */
const parsedBy = <T>(parse: (value: string | undefined) => T, what: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        return parse(v);
      } catch (e) {
        ctx.addIssue({ code: "custom", message: e instanceof Error ? e.message : what });
        return z.NEVER;
      }
    });

/** CORS_ORIGINS (src/http/cors.ts): `*`, `none` or a comma-separated list of origins. */
const corsOrigins = parsedBy(parseCorsOrigins, "not a list of origins");

/** A comma-separated list of hosts (or host:port) let past the public-URL policy (src/http/public-url.ts). */
const allowHosts = parsedBy(parseAllowHosts, "not a list of hosts");

function isJwks(text: string): boolean {
  try {
    const doc = JSON.parse(text);
    return Array.isArray(doc?.keys) && doc.keys.length > 0;
  } catch {
    return false;
  }
}

function isKey32(b64: string): boolean {
  try {
    return atob(b64).length === 32;
  } catch {
    return false;
  }
}

/**
 * PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS: the older master keys rows may still be sealed under, as
 * "<version>:<base64 of 32 bytes>" entries separated by commas → version → key. A malformed entry, a key
 * that is not 32 bytes or a version listed twice is refused, naming the entry but never its key: a typo
 * here would otherwise only show later, as every row sealed under that version failing to decrypt.
 */
const previousMasterKeys = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const keys = new Map<number, string>();
    const problem = (message: string) => ctx.addIssue({ code: "custom", message });
    for (const [i, raw] of (v ?? "").split(",").entries()) {
      const entry = raw.trim();
      if (entry === "") continue; // blank, or a trailing comma
      const m = /^(\d+)\s*:\s*(\S+)$/.exec(entry);
      const version = Number(m?.[1]);
      if (!m?.[2] || !Number.isSafeInteger(version) || version <= 0) {
        problem(`entry ${i + 1} must be <version>:<base64 key>, the version a positive integer (e.g. 1:<base64>,2:<base64>)`);
      } else if (!isKey32(m[2])) problem(`entry ${i + 1} (version ${version}): the key must be 32 bytes, base64-encoded`);
      else if (keys.has(version)) problem(`version ${version} is listed twice`);
      else keys.set(version, m[2]);
    }
    return keys as ReadonlyMap<number, string>;
  });

const ConfigSchema = z.object({
  API_KEY_PREFIX: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? "plabs_" : v))
    .pipe(z.string().regex(/^[A-Za-z0-9_]{1,32}$/, "letters, digits and _ only, at most 32")),
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: optionalString,
  JWT_JWKS_URL: optionalString.pipe(z.url().optional()),
  JWT_JWKS: optionalString.refine((v) => v === undefined || isJwks(v), 'must be a JWKS JSON document {"keys":[…]}'),
  DEFAULT_TTS_PROVIDER: withDefault("elevenlabs"),
  DEFAULT_STT_PROVIDER: withDefault("openai"),
  DEFAULT_LLM_PROVIDER: withDefault("openai"),
  PROVIDER_TIMEOUT_MS: positiveInt(30_000),
  PROVIDER_KEY_ENCRYPTION_KEY: optionalString.refine((v) => v === undefined || isKey32(v), "must be 32 bytes, base64-encoded"),
  PROVIDER_KEY_ENCRYPTION_KEY_VERSION: positiveInt(1),
  PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS: previousMasterKeys,
  DEBUG_STORAGE_COUNTS: bool,
  SMS_PROVIDER: withDefault("console").pipe(z.enum(["console", "twilio"])),
  /** Portal sign-in codes sent per hour across everyone (SMS pumping from many addresses): beyond it, 429. */
  OTP_SENDS_PER_HOUR: positiveInt(1000),
  AUDIO_URL_ALLOW_HOSTS: allowHosts,
  /** Failover's circuit breaker: failures within a minute that open it, and how long it stays open. */
  BREAKER_FAILURES: positiveInt(5),
  BREAKER_COOLDOWN_MS: positiveInt(30_000),
  AUDIO_URL_MAX_BYTES: positiveInt(25 * 1024 * 1024),
  /** Webhook URLs follow the audioUrl rules; these hosts (or host:port) are let past them, http too. */
  WEBHOOK_ALLOW_HOSTS: allowHosts,
  /** Browser origins that may call the bearer-credential APIs (src/http/cors.ts). */
  CORS_ORIGINS: corsOrigins,
  // Realtime sessions (API.md §4.3): the longest a session may run, and how often it renews its lease,
  // checks its credential and reports usage — at most 30 s, the longest a revoked key may keep one open;
  // and how long one may stay idle (no frame from the client, nothing from the provider to it) before it
  // ends — a client gone without a close (half-open TCP) must not hold its slot until REALTIME_MAX_SECONDS.
  REALTIME_MAX_SECONDS: positiveInt(3600),
  REALTIME_CHECK_INTERVAL_SECONDS: positiveInt(10).pipe(z.number().max(30, "must be at most 30 (seconds)")),
  REALTIME_IDLE_SECONDS: positiveInt(300),
});

/**
 * The current key's version listed among the previous ones with another key: rows sealed under that older
 * key would silently stop decrypting (the current key wins the version).
 */
const CheckedConfigSchema = ConfigSchema.superRefine((c, ctx) => {
  const current = c.PROVIDER_KEY_ENCRYPTION_KEY_VERSION;
  const listed = c.PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS.get(current);
  if (c.PROVIDER_KEY_ENCRYPTION_KEY && listed !== undefined && listed !== c.PROVIDER_KEY_ENCRYPTION_KEY) {
    ctx.addIssue({
      code: "custom",
      path: ["PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS"],
      message: `version ${current} is PROVIDER_KEY_ENCRYPTION_KEY_VERSION, the current key's, with another key (raise the version when you rotate)`,
    });
  }
});

/** Every provider's <ID>_BASE_URL (and second hosts), with the adapter's default when unset. */
const BaseUrlSchema = z.object(Object.fromEntries(BASE_URL_VARIABLES.map((v) => [v.name, url(v.defaultUrl)])));

export type Config = z.infer<typeof ConfigSchema> & {
  /** Each provider's base URLs (by provider id), as its adapter addresses them. */
  providerUrls: Record<string, BaseUrls>;
};

export class ConfigError extends Error {}

const cache = new WeakMap<object, Config>();

/** Parse the env once per env object; a bad variable throws a ConfigError that names it. */
export function getConfig(env: Env): Config {
  let config = cache.get(env);
  if (config) return config;
  const parsed = CheckedConfigSchema.safeParse(env);
  const urls = BaseUrlSchema.safeParse(env);
  const issues = [...(parsed.error?.issues ?? []), ...(urls.error?.issues ?? [])];
  if (!parsed.success || !urls.success || issues.length) {
    const names = issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`Invalid configuration: ${names}`);
  }
  const providerUrls: Record<string, BaseUrls> = {};
  for (const v of BASE_URL_VARIABLES) {
    const entries = providerUrls[v.provider] ?? { api: "" };
    entries[v.entry] = urls.data[v.name] as string;
    providerUrls[v.provider] = entries;
  }
  config = { ...parsed.data, providerUrls };
  cache.set(env, config);
  return config;
}
