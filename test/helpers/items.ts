// Indexed reads that say what they expect, for noUncheckedIndexedAccess: each throws (failing the test
// with a message) where a bare `xs[i]` would hand on `undefined`.

/** The first item; throws when there is none. */
export function first<T>(items: readonly T[], what = "item"): T {
  return nth(items, 0, what);
}

/** The item at `index`; throws when there is none. */
export function nth<T>(items: readonly T[], index: number, what = "item"): T {
  if (index < 0 || index >= items.length) throw new Error(`expected a ${what} at index ${index}, got ${items.length}`);
  return items[index] as T;
}

/** The item at `n` counted round the list (a generated choice among a few); throws on an empty list. */
export function cycle<T>(items: readonly T[], n: number): T {
  return nth(items, n % items.length);
}
