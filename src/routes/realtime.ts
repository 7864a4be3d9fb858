// Realtime voice over WebSockets (API.md §4.3): GET /v1/realtime/listen and /v1/realtime/speak (Voxgate's
// uniform protocol over each provider's WebSocket API), GET /v1/realtime?model=openai/<model> (OpenAI's
// Realtime protocol passed through), and POST /v1/realtime/tokens (short-lived client tokens for browsers).
// Sessions are opened, governed and settled by src/realtime/ and the user's Account object.
import { createRoute, type OpenAPIHono, type z } from "@hono/zod-openapi";
import { parseModel } from "../api/openai-shapes";
import {
  ListenQuery,
  OpenAiRealtimeQuery,
  RealtimeTokenBody,
  RealtimeTokenSchema,
  SpeakQuery,
  TOKEN_TTL_DEFAULT_SECONDS,
} from "../api/realtime";
import { errors, iso, json, portalSecurity, security } from "../api/schemas";
import type { AppEnv, Ctx } from "../context";
import { sha256Hex } from "../crypto/sha256";
import { admit, admittedElsewhere } from "../gateway/admission";
import { ApiError } from "../http/errors";
import { listenSlice, realtimeSlice, speakSlice } from "../metering/realtime";
import { findProvider } from "../providers/registry";
import type { ProviderAdapter } from "../providers/types";
import { newClientToken } from "../realtime/client-token";
import { jwtExpiresAt, portalSessionOf } from "../realtime/credential";
import { relayListen } from "../realtime/listen";
import { openRealtime } from "../realtime/open";
import { relayOpenAi } from "../realtime/passthrough";
import { openaiRealtimeTarget, RealtimeMeter } from "../realtime/providers/openai";
import {
  DEFAULT_LISTEN_PROVIDER,
  DEFAULT_SPEAK_PROVIDER,
  LISTEN_PROVIDERS,
  listenProvider,
  OPENAI_REALTIME_PROVIDER,
  SPEAK_PROVIDERS,
  speakProvider,
} from "../realtime/providers/registry";
import { relaySpeak } from "../realtime/speak";

const UPGRADE_ERRORS = errors(400, 401, 402, 403, 426, 429, 502, 504);
const upgraded = { 101: { description: "Switching Protocols: the session's WebSocket" } };

/** The HTTP adapter of a realtime provider (its key, BYOK header, error messages), or a 400. */
function providerFor<T extends { id: string }>(name: string, offered: readonly T[], what: string): { adapter: ProviderAdapter; rt: T } {
  const adapter = findProvider(name);
  if (!adapter) throw new ApiError("unknown_provider", `Unknown provider '${name}'.`, { provider: name });
  const rt = offered.find((p) => p.id === adapter.id);
  if (!rt) {
    const ids = offered.map((p) => p.id).join(", ");
    throw new ApiError("unsupported_operation", `${adapter.name} offers no ${what} here (providers: ${ids}).`, { provider: adapter.id });
  }
  return { adapter, rt };
}

export function registerRealtime(app: OpenAPIHono<AppEnv>) {
  // The same route for the portal's "try it" (the session cookie): tokens for the page's own sessions.
  for (const [path, tag, sec] of [
    ["/v1/realtime/tokens", "Realtime", security],
    ["/portal/api/realtime/tokens", "Portal", portalSecurity],
  ] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path,
        tags: [tag],
        summary: "A short-lived client token that opens one realtime session (for browsers, which cannot set headers)",
        security: sec,
        request: { body: { content: json(RealtimeTokenBody), required: true } },
        responses: { 201: { description: "The token (shown once)", content: json(RealtimeTokenSchema) }, ...errors(400, 401, 429) },
      }),
      async (c) => c.json(await issueToken(c, c.req.valid("json")), 201),
    );
  }

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/realtime/listen",
      tags: ["Realtime"],
      summary: "Live transcription over a WebSocket: binary audio in, {type:transcript} events out",
      security,
      request: { query: ListenQuery },
      responses: { ...upgraded, ...UPGRADE_ERRORS },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const fallback = listenProvider(c.get("config").DEFAULT_STT_PROVIDER)
        ? c.get("config").DEFAULT_STT_PROVIDER
        : DEFAULT_LISTEN_PROVIDER;
      const { adapter, rt } = providerFor(q.provider ?? fallback, LISTEN_PROVIDERS, "live transcription");
      const encoding = q.encoding ?? "linear16";
      const sampleRate = q.sampleRate ?? (encoding === "mulaw" ? 8000 : 16000);
      if (!rt.supports(encoding, sampleRate)) {
        throw new ApiError("unsupported_format", `${adapter.name} does not take ${encoding} audio at ${sampleRate} Hz live.`);
      }
      const params = { model: q.model ?? rt.defaultModel, language: q.language, encoding, sampleRate };
      let stream: ReturnType<typeof rt.start> | undefined;
      return (await openRealtime(c, {
        operation: "listen",
        adapter,
        slice: listenSlice(adapter.id, c.get("prices")),
        admitted: () => admittedElsewhere(c),
        target: (up) => {
          stream = rt.start(params, up);
          return stream.target;
        },
        relay: (session) => stream && relayListen(session, stream, adapter.id, params, c.get("prices")),
      })) as never;
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/realtime/speak",
      tags: ["Realtime"],
      summary: "Streaming speech over a WebSocket: {type:text} / {type:flush} in, binary audio and {type:done} out",
      security,
      request: { query: SpeakQuery },
      responses: { ...upgraded, ...UPGRADE_ERRORS },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const fallback = speakProvider(c.get("config").DEFAULT_TTS_PROVIDER) ? c.get("config").DEFAULT_TTS_PROVIDER : DEFAULT_SPEAK_PROVIDER;
      const { adapter, rt } = providerFor(q.provider ?? fallback, SPEAK_PROVIDERS, "streaming speech");
      const format = q.format ?? "pcm";
      const sampleRate = q.sampleRate ?? rt.defaultRate(format);
      if (!rt.supports(format, sampleRate)) {
        throw new ApiError("unsupported_format", `${adapter.name} does not stream ${format} at ${sampleRate} Hz.`);
      }
      const params = { voiceId: q.voiceId ?? rt.defaultVoice, model: q.model ?? rt.defaultModel, format, sampleRate };
      let stream: ReturnType<typeof rt.start> | undefined;
      return (await openRealtime(c, {
        operation: "speak",
        adapter,
        slice: speakSlice(adapter.id, c.get("prices")),
        admitted: () => admittedElsewhere(c),
        target: (up) => {
          stream = rt.start(params, up);
          return stream.target;
        },
        relay: (session, opened) => stream && relaySpeak(session, stream, rt, opened.credential === "api_key", c.get("prices")),
      })) as never;
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/realtime",
      tags: ["Realtime"],
      summary:
        "OpenAI Realtime over a WebSocket, passed through both ways (the openai SDK's realtime client works with baseURL at Voxgate)",
      security,
      request: { query: OpenAiRealtimeQuery },
      responses: { ...upgraded, ...UPGRADE_ERRORS },
    }),
    async (c) => {
      const { provider, model } = parseModel(c.req.valid("query").model);
      const { adapter } = providerFor(provider, [{ id: OPENAI_REALTIME_PROVIDER }], "realtime sessions");
      if (!/^[A-Za-z0-9._:-]{1,200}$/.test(model))
        throw new ApiError("validation_failed", "The model id has characters a model id cannot have.");
      const beta = c.req.header("openai-beta");
      return (await openRealtime(c, {
        operation: "realtime",
        adapter,
        slice: realtimeSlice(model, c.get("prices")),
        openAiProtocol: true,
        admitted: () => admittedElsewhere(c),
        target: (up) => openaiRealtimeTarget(model, up, beta),
        relay: (session) => relayOpenAi(session, new RealtimeMeter(model, c.get("prices"))),
      })) as never;
    },
  );
}

/**
 * Mint a client token: its hash, operation, provider and caps go to the user's Account object. A token
 * minted with a JWT does not outlive it: it expires at the JWT's exp at the latest, and the session it
 * opens ends (4401) when that exp passes, as a session opened with the JWT itself does. One minted with a
 * portal session likewise: it expires with that session at the latest, and its session ends (4401) within
 * a check interval of the portal session's end (signed out, expired, deleted).
 */
async function issueToken(c: Ctx, body: z.infer<typeof RealtimeTokenBody>) {
  if (body.provider !== undefined) {
    const offered =
      body.operation === "listen" ? LISTEN_PROVIDERS : body.operation === "speak" ? SPEAK_PROVIDERS : [{ id: OPENAI_REALTIME_PROVIDER }];
    const { adapter } = providerFor(body.provider, offered, body.operation === "realtime" ? "realtime sessions" : `live ${body.operation}`);
    // A key with a provider allow-list (API.md §7.1) mints no token for another provider: 403 scope_denied now,
    // as every other route answers, not only when the session opens (admitted once more for the provider; the
    // rate limit counts the request once).
    if (c.get("principal").keyId) await admit(c, undefined, undefined, adapter.id);
  }
  const p = c.get("principal");
  const token = newClientToken(p.userId);
  const jwtExpiry = jwtExpiresAt(c);
  const portal = portalSessionOf(c);
  const expiresAt = Math.min(
    Date.now() + (body.ttlSeconds ?? TOKEN_TTL_DEFAULT_SECONDS) * 1000,
    jwtExpiry ?? Number.POSITIVE_INFINITY,
    portal?.expiresAt ?? Number.POSITIVE_INFINITY,
  );
  await c
    .get("bindings")
    .account(p.userId)
    .issueRealtimeToken({
      userId: p.userId,
      keyId: p.keyId,
      jwtExpiresAt: jwtExpiry,
      portalSessionId: portal?.id,
      // Portal sessions pay as JWTs do (the API-key discount is for developer usage).
      credential: p.kind === "api_key" ? "api_key" : "jwt",
      tokenHash: await sha256Hex(token),
      operation: body.operation,
      provider: body.provider === undefined ? undefined : findProvider(body.provider)?.id,
      maxSeconds: body.maxSeconds,
      maxCreditsMc: body.maxCredits === undefined ? undefined : Math.round(body.maxCredits * 1000),
      expiresAt,
    });
  return { success: true as const, token, expiresAt: iso(expiresAt) };
}
