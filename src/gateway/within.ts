// A promise raced with a timer: the time-to-first-byte limits (chat's first token, speech's first audio)
// wait for something that may never come, and must not leave a timer behind when it does come.

/** `promise`, or "timeout" when `ms` pass first (the timer is cleared either way). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<"timeout">((ok) => (timer = setTimeout(() => ok("timeout"), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
