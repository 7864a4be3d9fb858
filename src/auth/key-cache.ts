// What an isolate remembers about credentials it has seen, so a recently used API key costs no D1
// query: who a key hash belongs to (never whether it is still valid — the user's Account object answers
// that on every request), which hashes are unknown, and which user a JWT subject is.

/** How many entries each map holds (oldest dropped first). */
const CACHE_ENTRIES_MAX = 10_000;

export interface KnownKey {
  keyId: string;
  userId: string;
  expiresAt: number | null;
  /** When this isolate last wrote the key's lastUsedAt. */
  lastUsedWrittenAt: number;
}

export const keysByHash = new Map<string, KnownKey>();
/** Hashes no key has: keys are random and server-made, so a hash unknown now stays unknown. */
export const unknownHashes = new Set<string>();
export const usersBySubject = new Map<string, string>();

export function remember<K, V>(map: Map<K, V>, key: K, value: V): void;
export function remember<K>(set: Set<K>, key: K): void;
export function remember<K, V>(store: Map<K, V> | Set<K>, key: K, value?: V) {
  if (store.size >= CACHE_ENTRIES_MAX) store.delete(store.keys().next().value as K);
  if (store instanceof Map) store.set(key, value as V);
  else store.add(key);
}

/** Drop a key from this isolate's memory (the Account object said it is no longer valid). */
export function forgetKey(keyId: string) {
  for (const [hash, k] of keysByHash) if (k.keyId === keyId) keysByHash.delete(hash);
}
