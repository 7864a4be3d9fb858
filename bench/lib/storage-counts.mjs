// Hot-path storage work per request, read from the X-Voxgate-Storage header (DEBUG_STORAGE_COUNTS).

/** Send `n` requests (after a warm-up one) and read X-Voxgate-Storage from each. */
export async function storageCounts(base, s, n, { warmup = true } = {}) {
  const send = async () => {
    const res = await fetch(base + s.path, {
      method: "POST",
      headers: { "content-type": "application/json", ...s.headers() },
      body: JSON.stringify(s.body),
    });
    await res.arrayBuffer();
    return { status: res.status, header: res.headers.get("x-voxgate-storage") };
  };
  if (warmup) await send();
  const samples = [];
  for (let i = 0; i < n; i++) samples.push(await send());
  const parsed = samples.map((x) => parseCounts(x.header));
  const max = { d1: 0, durableObject: 0, kvRead: 0, kvWrite: 0 };
  for (const c of parsed) for (const k of Object.keys(max)) max[k] = Math.max(max[k], c?.[k] ?? NaN);
  return {
    samples: samples.length,
    statuses: [...new Set(samples.map((x) => x.status))],
    headers: [...new Set(samples.map((x) => x.header))],
    max,
  };
}

function parseCounts(header) {
  const m = /d1=(\d+), do=(\d+), kv_read=(\d+), kv_write=(\d+)/.exec(header ?? "");
  return m ? { d1: +m[1], durableObject: +m[2], kvRead: +m[3], kvWrite: +m[4] } : null;
}
