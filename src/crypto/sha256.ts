// SHA-256 as lowercase hex: API-key hashes, idempotency fingerprints. Bytes are hashed as they are
// (an upload is never turned into a string first: that would cost several times its size in memory).

export async function sha256Hex(input: string | ArrayBuffer | Uint8Array): Promise<string> {
  const data = typeof input === "string" ? new TextEncoder().encode(input) : input;
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}
