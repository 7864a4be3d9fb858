// What an API key may be scoped to (API.md §7.1), and which scope each route needs — the one table.
// A key's scopes are checked by the user's Account object in the admission call (no extra round trip);
// JWTs and portal sessions are not scoped. Routes the table does not name (the caller's own account,
// usage, models, providers, the request log) are open to every key of the user.

export const SCOPES = ["tts", "stt", "llm", "realtime", "agents", "keys", "provider-keys", "webhooks"] as const;
export type Scope = (typeof SCOPES)[number];

/** First match wins: the agent routes come before anything their paths might also match. */
const ROUTE_SCOPES: [RegExp, Scope][] = [
  [/^\/v1\/agents(\/|$)/, "agents"],
  [/^\/v1\/(synthesize|audio\/speech)$/, "tts"],
  [/^\/v1\/(transcribe|audio\/transcriptions)$/, "stt"],
  [/^\/v1\/(chat|chat\/completions)$/, "llm"],
  [/^\/v1\/realtime(\/|$)/, "realtime"],
  [/^\/(v1\/keys|api\/v1\/user\/api-keys)(\/|$)/, "keys"],
  [/^\/v1\/provider-keys(\/|$)/, "provider-keys"],
  [/^\/v1\/webhooks(\/|$)/, "webhooks"],
];

/** The scope a request to `path` needs from an API key, or undefined when any key may call it. */
export function scopeFor(path: string): Scope | undefined {
  return ROUTE_SCOPES.find(([pattern]) => pattern.test(path))?.[1];
}
