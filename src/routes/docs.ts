// GET /openapi.json (generated from the same zod schemas the routes validate with) and GET /docs,
// a small self-contained reference page (no CDN: it renders offline).
import type { OpenAPIHono } from "@hono/zod-openapi";
import { speechAudio } from "../api/gateway";
import { errors } from "../api/schemas";
import { scopeFor } from "../auth/scopes";
import type { AppEnv } from "../context";

const DOCS_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Voxgate API reference</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h1{margin-bottom:.2rem}.op{border:1px solid #d0d7de;border-radius:6px;margin:.6rem 0;padding:.5rem .8rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700;font-family:monospace}.get{color:#0969da}.post{color:#1a7f37}
.delete{color:#cf222e}.put,.patch{color:#9a6700}code{font-family:monospace}small{color:#57606a}</style></head>
<body><h1>Voxgate API</h1><p>Machine-readable: <a href="/openapi.json"><code>/openapi.json</code></a> (OpenAPI 3.1).</p>
<div id="ops">Loading…</div><script>
fetch('/openapi.json').then(r=>r.json()).then(doc=>{const el=document.getElementById('ops');el.textContent='';
for(const [path,ops] of Object.entries(doc.paths)){for(const [m,op] of Object.entries(ops)){
const d=document.createElement('div');d.className='op';const s=document.createElement('span');s.className='m '+m;s.textContent=m.toUpperCase();
const c=document.createElement('code');c.textContent=path;const p=document.createElement('div');p.innerHTML='';const t=document.createElement('small');
t.textContent=(op.summary||'')+'  — responses: '+Object.keys(op.responses||{}).join(', ');d.append(s,c,p,t);el.append(d);}}});
</script></body></html>`;

/** Every route a scoped API key can be refused on says which scope it needs, and documents the 403. */
function documentScopes(app: OpenAPIHono<AppEnv>) {
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== "route") continue;
    const scope = scopeFor(def.route.path.replace(/\{[^}]+\}/g, "x"));
    if (!scope) continue;
    def.route.responses[403] ??= errors(403)[403] as (typeof def.route.responses)[string];
    const note = `API keys need the '${scope}' scope (403 scope_denied otherwise).`;
    def.route.description = def.route.description ? `${def.route.description} ${note}` : note;
  }
}

/**
 * Every route that takes an API key or a JWT can also answer 400 (Authorization and X-API-Key differ)
 * and 503 auth_unavailable (the JWKS could not be fetched), whatever else it does (API.md §1, §8); every
 * state change under the portal's session 403 when it does not come from the portal's own Origin (§7).
 */
function documentCredentialErrors(app: OpenAPIHono<AppEnv>) {
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== "route") continue;
    const { security, method, responses } = def.route;
    const statuses = security?.some((s) => "bearerAuth" in s)
      ? [400, 503]
      : security?.some((s) => "portalSession" in s) && method !== "get"
        ? [403]
        : [];
    for (const status of statuses) responses[status] ??= errors(status)[status] as (typeof responses)[string];
  }
}

/**
 * Every POST, PUT and PATCH can answer 413 (a body over the route's limit) and 415 (a body of a type it does
 * not take): the envelope (src/http/envelope.ts) checks each one's body before any route runs — a route that
 * declares no body too (a rotate, a verify, a webhook test sent a text/plain body) — and the portal's sign-in
 * reads its own the same way. Documented here, once, as the envelope applies it, rather than route by route.
 */
function documentBodyErrors(app: OpenAPIHono<AppEnv>) {
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== "route") continue;
    const { method, responses } = def.route;
    if (method !== "post" && method !== "put" && method !== "patch") continue;
    for (const status of [413, 415]) responses[status] ??= errors(status)[status] as (typeof responses)[string];
  }
}

/**
 * /v1/audio/speech (src/routes/openai-compat.ts) answers the audio /v1/synthesize does, each format at its
 * default rate (it takes no sampleRate): every Content-Type that can be, not only mp3's.
 */
function documentOpenAiSpeech(app: OpenAPIHono<AppEnv>) {
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== "route" || def.route.method !== "post" || def.route.path !== "/v1/audio/speech") continue;
    const ok = def.route.responses[200];
    if (ok && !("$ref" in ok)) ok.content = speechAudio({ sampleRate: false });
  }
}

export function registerDocs(app: OpenAPIHono<AppEnv>) {
  documentScopes(app);
  documentCredentialErrors(app);
  documentBodyErrors(app);
  documentOpenAiSpeech(app);
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "An API key (e.g. plabs_…) or a JWT from the identity provider",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKeyHeader", { type: "apiKey", in: "header", name: "X-API-Key" });
  app.openAPIRegistry.registerComponent("securitySchemes", "portalSession", {
    type: "apiKey",
    in: "cookie",
    name: "better-auth.session_token",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Voxgate",
      version: "0.1.0",
      description:
        "Edge API gateway for voice and LLM providers. Every error is JSON {success:false,error:{code,message},requestId}, " +
        "except on the OpenAI-compatible routes (/v1/chat/completions, /v1/audio/speech, /v1/audio/transcriptions, /v1/models), " +
        "which answer OpenAI's {error:{message,type,param,code}} with the same statuses. " +
        "Idempotency-Key on gateway POSTs (synthesize, transcribe, chat, and the agent and OpenAI-compatible equivalents): " +
        "a retry with the same key and body within 24 hours is never charged twice. While the first is still running it gets " +
        "409 idempotency_in_progress; once it completed, the stored result is replayed byte for byte with Idempotent-Replayed: true " +
        "(JSON answers, and audio up to 1 MiB that the client read to the end); a result that was not kept (a streamed chat, " +
        "longer audio, audio the client stopped reading) gets 409 conflict. A first attempt that failed was refunded and may be " +
        "retried. The same key with a different body (or on another route) gets 422 idempotency_key_reused. " +
        "Scoped API keys (POST/PATCH /v1/keys: scopes, providers, monthlyCreditLimit, requestsPerMinute) get 403 scope_denied " +
        "outside their scopes or providers and 402 key_credit_limit_reached past their monthly limit. " +
        "Webhooks (POST /v1/webhooks) are signed as Standard Webhooks: headers webhook-id (the event id, the same on every retry), " +
        "webhook-timestamp (Unix seconds) and webhook-signature: v1,<base64 HMAC-SHA256 of '<id>.<timestamp>.<body>' keyed with the " +
        "secret's bytes (the secret is whsec_ + base64)>; events usage.threshold, credits.low, key.created, key.rotated, key.revoked " +
        "and webhook.test, body {id, type, createdAt, data}; a non-2xx or a 10 s timeout is retried with exponential backoff for 24 hours. " +
        "GET /v1/requests is the request log of the last 30 days (no bodies, keys or header values).",
    },
  });
  app.get("/docs", (c) => c.html(DOCS_HTML));
}
