// What an isolate remembers about credentials it has seen, so a recently used API key costs no D1
// query: who a key hash belongs to (never whether it is still valid — the user's Account object answers
// that on every request), which hashes are unknown, which user a JWT subject is, when it last wrote each
// key's lastUsedAt, and how many D1 look-ups of keys it does not know each client address may still cause.

/** How many entries each map holds (oldest dropped first). */
const CACHE_ENTRIES_MAX = 10_000;

export interface KnownKey {
  keyId: string;
  userId: string;
  expiresAt: number | null;
}

export const keysByHash = new Map<string, KnownKey>();
/** Hashes no key has: keys are random and server-made, so a hash unknown now stays unknown. */
export const unknownHashes = new Set<string>();
/** Hashes of revoked keys (revocation is final): a leaked, revoked key sent again costs no D1 read. */
export const revokedHashes = new Set<string>();
export const usersBySubject = new Map<string, string>();
/** Key id → when this isolate last wrote its lastUsedAt (only for requests the Account object admitted). */
export const lastUsedWrites = new Map<string, number>();

export function remember<K, V>(map: Map<K, V>, key: K, value: V): void;
export function remember<K>(set: Set<K>, key: K): void;
export function remember<K, V>(store: Map<K, V> | Set<K>, key: K, value?: V) {
  if (store.size >= CACHE_ENTRIES_MAX && !store.has(key)) store.delete(store.keys().next().value as K);
  if (store instanceof Map) store.set(key, value as V);
  else store.add(key);
}

/** A key just created (or rotated in) through this isolate: known at once, never "unknown". */
export function rememberNewKey(hash: string, key: KnownKey) {
  unknownHashes.delete(hash);
  remember(keysByHash, hash, key);
}

// ---- look-ups of keys this isolate does not know, per client address --------------------------------

/**
 * Each client address (CF-Connecting-IP) may make this isolate look up at most a burst of keys it
 * does not know in D1, then one more per interval: a caller spraying made-up keys costs a bounded
 * number of unauthenticated D1 reads. A look-up that finds a key gives its token back, so only misses
 * count; a key this isolate already knows never needs a look-up at all.
 */
// Generous enough that a developer (or a whole test suite, every request from one address) trying hundreds
// of wrong keys still gets the 401 API.md §8 promises; tight enough that spraying made-up keys costs at most
// 200 D1 reads, then 2 a second (120 a minute), per address and isolate. (It was 60, then 1 a second: an
// audit's run of distinct wrong keys met 429 where §8 says 401.)
export const UNKNOWN_KEY_LOOKUPS_BURST = 200;
export const UNKNOWN_KEY_LOOKUP_INTERVAL_MS = 500;

/** Per address; bounded like the other maps (CACHE_ENTRIES_MAX, oldest dropped first). */
interface Bucket {
  tokens: number;
  at: number;
}
const lookupBuckets = new Map<string, Bucket>();

function bucketFor(address: string, now: number): Bucket {
  let b = lookupBuckets.get(address);
  if (!b) {
    b = { tokens: UNKNOWN_KEY_LOOKUPS_BURST, at: now };
    remember(lookupBuckets, address, b);
  }
  const refill = (now - b.at) / UNKNOWN_KEY_LOOKUP_INTERVAL_MS;
  b.tokens = Math.min(UNKNOWN_KEY_LOOKUPS_BURST, b.tokens + refill);
  b.at = now;
  return b;
}

/** Take one look-up for `address`: 0 when allowed, else whole seconds until the next one is. */
export function takeKeyLookup(address: string, now: number): number {
  const b = bucketFor(address, now);
  if (b.tokens < 1) return Math.max(1, Math.ceil(((1 - b.tokens) * UNKNOWN_KEY_LOOKUP_INTERVAL_MS) / 1000));
  b.tokens -= 1;
  return 0;
}

/** The look-up found a key: it does not count against the address. */
export function returnKeyLookup(address: string, now: number): void {
  const b = bucketFor(address, now);
  b.tokens = Math.min(UNKNOWN_KEY_LOOKUPS_BURST, b.tokens + 1);
}

/** Drop a key from this isolate's memory (the Account object said it is no longer valid). */
export function forgetKey(keyId: string) {
  for (const [hash, k] of keysByHash) if (k.keyId === keyId) keysByHash.delete(hash);
}
