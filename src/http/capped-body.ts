// Reading a request body a caller controls with a running byte count: the stream is cancelled as soon as
// it passes the cap (413 payload_too_large), so a chunked body without Content-Length is never read whole.
import { ApiError } from "./errors";

/** The body's bytes, at most `maxBytes`; a longer body (declared or streamed) → 413 `payload_too_large`. */
export async function readCappedBody(req: Request, maxBytes: number, limitText: string): Promise<Uint8Array> {
  const tooLarge = () => new ApiError("payload_too_large", `The body is larger than ${limitText}.`);
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const step = await reader.read();
    if (step.done) break;
    total += step.value.byteLength;
    if (total > maxBytes) {
      reader.cancel().catch(() => {}); // nothing more of it is read
      throw tooLarge();
    }
    chunks.push(step.value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}
