// Provider faults (issue 5 §3): every fault the mock provider can inject — 500s, 429 with Retry-After,
// timeouts (PROVIDER_TIMEOUT_MS is 2000 in tests), connection resets, truncated streams, invalid JSON,
// JSON that is not the provider's answer ({"error":…} under a 200), wrong content types — on speech (raw bytes, SSE, NDJSON and one-JSON-document providers),
// transcription, chat and streamed chat. The client gets 502/504 (audio that already started is
// aborted; a chat stream answers from its first token on, so a cut before it is a 502 too), and nothing
// stays reserved. Money (issue 12): a failure before anything was delivered is refunded in full; speech
// whose audio had started is charged in full (providers bill the whole text once they accept it).
import { afterAll, describe, expect, it } from "vitest";
import { ttsCostMc } from "../../../src/metering/prices";
import { bearer } from "../../helpers/api";
import { call, fault, keyOf, ledgerOf, pendingFaults, pool, until, userOn } from "../../helpers/reliability";

type Kind = "tts-raw" | "tts-sse" | "tts-ndjson" | "tts-json" | "stt" | "chat" | "chat-stream";

interface Operation {
  kind: Kind;
  provider: string;
  label: string;
  send(auth: Record<string, string>, nonce: string): Promise<Response>;
}

const ttsText = (nonce: string) => `Fault ${nonce}, please speak this.`;
const tts = (kind: Kind, provider: string, format: string): Operation => ({
  kind,
  provider,
  label: `${provider} ${format} (${kind})`,
  send: (auth, nonce) => call("/v1/synthesize", { method: "POST", headers: auth, json: { provider, format, text: ttsText(nonce) } }),
});

const stt = (provider: string): Operation => ({
  kind: "stt",
  provider,
  label: `${provider} transcription`,
  send: (auth, nonce) => {
    const form = new FormData();
    const bytes = new TextEncoder().encode(`RIFF${nonce}${"\u0000".repeat(4000)}`);
    form.append("file", new File([bytes], "clip.wav", { type: "audio/wav" }));
    form.append("provider", provider);
    return call("/v1/transcribe", { method: "POST", headers: auth, body: form });
  },
});

const chat = (provider: string, model: string, stream: boolean): Operation => ({
  kind: stream ? "chat-stream" : "chat",
  provider,
  label: `${provider} ${stream ? "streamed chat" : "chat"}`,
  send: (auth, nonce) =>
    call("/v1/chat", {
      method: "POST",
      headers: auth,
      json: { provider, model, stream, maxTokens: 256, messages: [{ role: "user", content: `fault ${nonce} one two three` }] },
    }),
});

const OPERATIONS: Operation[] = [
  tts("tts-raw", "elevenlabs", "mp3"),
  tts("tts-raw", "deepgram", "mp3"),
  tts("tts-raw", "cartesia", "mp3"),
  tts("tts-sse", "cartesia", "pcm"),
  tts("tts-ndjson", "inworld", "mp3"),
  tts("tts-json", "resembleai", "mp3"),
  stt("openai"),
  stt("deepgram"),
  chat("openai", "gpt-4.1-mini", false),
  chat("anthropic", "claude-3-5-haiku-latest", false),
  chat("openai", "gpt-4.1-mini", true),
  chat("anthropic", "claude-sonnet-4-20250514", true),
  chat("groq", "meta-llama/llama-4-scout-17b-16e-instruct", true),
];

interface Fault {
  name: string;
  spec: Record<string, unknown>;
}

const FAULTS: Fault[] = [
  { name: "500", spec: { mode: "error", status: 500 } },
  { name: "503", spec: { mode: "error", status: 503 } },
  { name: "429 + Retry-After", spec: { mode: "error", status: 429, retryAfter: 7 } },
  { name: "timeout", spec: { mode: "timeout", delayMs: 4000 } },
  { name: "connection reset", spec: { mode: "reset" } },
  { name: "truncated", spec: { mode: "truncate" } },
  { name: "invalid JSON", spec: { mode: "invalid_json" } },
  // A 200 that is no answer is a provider failure like a 5xx (refunded, failed over): a JSON-audio
  // provider's speech without audio and a transcription without a transcript were once a 200, charged.
  { name: "unexpected JSON", spec: { mode: "unexpected_json" } },
  { name: "wrong content type", spec: { mode: "wrong_content_type" } },
];

type Outcome = { status: 502 | 504 } | { status: 200; stream: "aborted" };

/** What the client must see: an error status before anything was sent, the stream's own failure after. */
function expected(op: Operation, f: Fault): Outcome {
  if (f.spec.mode === "timeout") return { status: 504 };
  if (f.spec.mode === "truncate") {
    // The first chunk/event went out before the cut: audio had started. A chat stream's first event carries
    // no token (OpenAI's role chunk, Anthropic's message_start): nothing was delivered, an error status —
    // as for one JSON document (or a non-streamed answer), useless half-read. A chat stream cut after its
    // first token ends in band (SSE error event, no done): failover.test.ts, money.test.ts.
    if (op.kind === "tts-raw" || op.kind === "tts-sse" || op.kind === "tts-ndjson") return { status: 200, stream: "aborted" };
  }
  return { status: 502 };
}

const counts = { faults: 0, byMode: new Map<string, number>() };
afterAll(() => {
  console.info(
    `faults: ${counts.faults} injected (${[...counts.byMode].map(([m, n]) => `${m}×${n}`).join(", ")}) over ${OPERATIONS.length} operations`,
  );
});

async function scenario(op: Operation, f: Fault): Promise<string[]> {
  const problems: string[] = [];
  const user = await userOn("pro");
  const { key } = await keyOf(user);
  const nonce = `n${crypto.randomUUID().replaceAll("-", "")}`;
  await fault({ provider: op.provider, bodyIncludes: nonce, ...f.spec });
  const res = await op.send(bearer(key), nonce);
  const exp = expected(op, f);
  const pending = (await pendingFaults()).some((x) => x.bodyIncludes === nonce);
  if (pending) return [`the fault was never used (the request did not reach ${op.provider}? status ${res.status})`];
  counts.faults++;
  counts.byMode.set(f.name, (counts.byMode.get(f.name) ?? 0) + 1);

  // The mock cuts a truncated answer 25 ms after its first chunk: on a loaded machine the gateway may see the
  // cut before the first chunk, and then nothing was sent yet — a 502 is the right answer for that too.
  const cutEarly = f.spec.mode === "truncate" && exp.status === 200 && res.status === 502;
  // Speech whose audio had started is charged in full; everything else is refunded in full.
  const audioStarted = res.status === 200 && op.kind.startsWith("tts");
  const chargedMc = audioStarted ? (ttsCostMc(op.provider, [...ttsText(nonce)].length, true) ?? 0) : 0;
  if (res.status !== exp.status && !cutEarly)
    problems.push(
      `status ${res.status}, expected ${exp.status}: ${(await res.text().catch((e) => `(the body failed: ${e.message})`)).slice(0, 300)}`,
    );
  else if (res.status !== 200) {
    const body = (await res.json()) as any;
    const code = res.status === 504 ? "provider_timeout" : ["provider_error", "provider_unreachable"];
    if (!(Array.isArray(code) ? code.includes(body.error?.code) : body.error?.code === code))
      problems.push(`error.code ${body.error?.code}`);
    if (body.error?.provider !== op.provider) problems.push(`error.provider ${body.error?.provider}`);
    // A 2xx that was no answer: its HTTP status (200) is not a provider status to pass on.
    if (["invalid_json", "unexpected_json", "wrong_content_type"].includes(String(f.spec.mode)) && body.error?.providerStatus !== undefined)
      problems.push(`providerStatus ${body.error.providerStatus} on a 200`);
    if (f.spec.mode === "error") {
      if (body.error.providerStatus !== f.spec.status) problems.push(`providerStatus ${body.error.providerStatus}`);
      if (f.spec.retryAfter !== undefined && body.error.providerRetryAfter !== String(f.spec.retryAfter))
        problems.push(`providerRetryAfter ${body.error.providerRetryAfter}`);
    }
    if (JSON.stringify(body).includes(`platform-${op.provider}-key`)) problems.push("the platform key is in the error");
    if (typeof body.requestId !== "string") problems.push("no requestId");
  } else {
    const read = await res.arrayBuffer().then(
      () => "complete",
      () => "aborted",
    );
    if (read !== "aborted") problems.push("a cut audio stream ended as if it were complete");
  }

  // Refunded in full (or, for speech that had started, charged in full), nothing reserved.
  const ledger = await until(
    () => ledgerOf(user.id),
    (s) => s.reservedMc === 0 && s.usedMc === chargedMc,
  );
  if (ledger.reservedMc !== 0) problems.push(`reservedMc ${ledger.reservedMc}`);
  if (ledger.usedMc !== chargedMc) problems.push(`usedMc ${ledger.usedMc}, expected ${chargedMc}`);
  if (ledger.requestCount !== (chargedMc ? 1 : 0)) problems.push(`requestCount ${ledger.requestCount}`);
  if (ledger.remainingMc !== ledger.limitMc - chargedMc) problems.push(`remaining ${ledger.remainingMc} of ${ledger.limitMc}`);
  return problems.map((p) => `${op.label} × ${f.name}: ${p}`);
}

describe("provider faults", () => {
  const timeout = FAULTS.find((f) => f.spec.mode === "timeout")!;
  for (const op of OPERATIONS) {
    it(`${op.label}: every fault → 502 or the stream's own failure; refunded unless audio had started; nothing reserved`, {
      timeout: 60_000,
    }, async () => {
      const problems = (
        await pool(
          FAULTS.filter((f) => f !== timeout),
          4,
          (f) => scenario(op, f),
        )
      ).flat();
      expect(problems).toEqual([]);
    });
  }

  // Each timeout waits PROVIDER_TIMEOUT_MS (2 s): all operations at once.
  it("a silent provider → 504 on every operation, refunded in full, nothing reserved", { timeout: 60_000 }, async () => {
    const problems = (await Promise.all(OPERATIONS.map((op) => scenario(op, timeout)))).flat();
    expect(problems).toEqual([]);
  });

  it("the provider's Retry-After and message are passed on in the 502, never its key", async () => {
    const user = await userOn("pro");
    const nonce = `n${crypto.randomUUID().replaceAll("-", "")}`;
    await fault({ provider: "elevenlabs", bodyIncludes: nonce, mode: "error", status: 429, retryAfter: 12 });
    const res = await call("/v1/synthesize", {
      method: "POST",
      headers: bearer(user.jwt),
      json: { provider: "elevenlabs", text: `429 ${nonce}` },
    });
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.error).toMatchObject({ code: "provider_error", provider: "elevenlabs", providerStatus: 429, providerRetryAfter: "12" });
    expect(body.error.message).toMatch(/429/);
    expect(JSON.stringify(body)).not.toContain("platform-elevenlabs-key");
    counts.faults++;
  });
});
