// GET /portal: the developer portal, one self-contained page (no CDN, no external fonts: it renders
// offline). A small inline script signs in with a phone number and drives the JSON API under
// /portal/api/*; the usage chart is an SVG it draws itself. Webhooks, the request log and a key's rules
// are in page-integrations.ts. The Content-Security-Policy (routes.ts)
// allows only this page's own script and style (by nonce) and requests to its own origin.
import { escapeHtml, INTEGRATIONS_STYLE, integrationSections, keyRulesFields } from "./page-integrations";
import { INTEGRATIONS_SCRIPT } from "./page-integrations-script";
import { PORTAL_SCRIPT } from "./page-script";
import { TRY_REALTIME_SCRIPT, TRY_REALTIME_SECTION, TRY_REALTIME_STYLE } from "./try-realtime";

export interface PortalPageOptions {
  nonce: string;
  providers: { id: string; name: string }[];
}

export function portalPage({ nonce, providers }: PortalPageOptions): string {
  const options = providers.map((p) => `<option value="${escapeHtml(p.id)}">${escapeHtml(p.name)}</option>`).join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Voxgate · Developer portal</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${STYLE}${INTEGRATIONS_STYLE}${TRY_REALTIME_STYLE}</style>
</head>
<body>
<header class="top">
  <div class="brand">
    <svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true"><rect width="24" height="24" rx="6" fill="#4f46e5"/><path d="M5 9v6M9 6v12M13 8v8M17 10v4M21 11v2" stroke="#fff" stroke-width="2" stroke-linecap="round"/></svg>
    <span class="name">Voxgate</span><span class="sub">Developer portal</span>
  </div>
  <nav>
    <a href="/docs">API reference</a>
    <span id="who" hidden><span id="who-phone" class="phone"></span><button id="sign-out" class="ghost" type="button">Sign out</button></span>
  </nav>
</header>
<main>
  <section id="signin" class="card narrow" hidden>
    <h1>Sign in</h1>
    <p class="muted">Enter your phone number and we will text you a 6-digit code. New here? The first sign-in creates your account.</p>
    <form id="phone-form">
      <label for="phone">Phone number</label>
      <div class="row"><input id="phone" type="tel" placeholder="+15551234567" autocomplete="tel" required><button id="send-code" type="submit">Send code</button></div>
      <p class="hint">International format: a plus, the country code, then the number.</p>
    </form>
    <form id="code-form" hidden>
      <label for="code">Code sent to <span id="code-phone"></span></label>
      <div class="row"><input id="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6" placeholder="123456" required><button id="verify" type="submit">Verify</button></div>
      <p class="hint"><button id="restart" class="link" type="button">Use another number</button> · <button id="resend" class="link" type="button">Send a new code</button></p>
    </form>
    <p id="signin-msg" class="msg" role="status"></p>
  </section>

  <div id="dash" hidden>
    <section class="stats">
      <div class="card stat"><h2>Plan</h2><div id="plan" class="big"></div><div id="plan-exp" class="muted"></div></div>
      <div class="card stat"><h2>PAYG balance</h2><div id="payg" class="big"></div><div class="muted">credits, spent after the plan's</div></div>
      <div class="card stat"><h2>Credits this month</h2><div id="used" class="big"></div><div class="meter"><span id="used-bar"></span></div><div id="used-of" class="muted"></div></div>
    </section>

    <section class="card">
      <div class="card-head">
        <h2>Usage by day <span id="period" class="muted"></span></h2>
        <div class="legend"><span><i class="sw tts"></i>Speech (TTS) <b id="sum-tts"></b></span><span><i class="sw stt"></i>Transcription (STT) <b id="sum-stt"></b></span><span><i class="sw llm"></i>LLM <b id="sum-llm"></b></span></div>
      </div>
      <div id="chart" class="chart" data-testid="usage-chart"></div>
    </section>

    <section class="card">
      <div class="card-head"><h2>API keys</h2><span id="key-count" class="muted"></span></div>
      <form id="key-form" class="row">
        <input id="key-name" placeholder="Key name, e.g. production" maxlength="100">
        <select id="key-expiry" aria-label="Lifetime"><option value="">Never expires</option><option value="30">Expires in 30 days</option><option value="90">Expires in 90 days</option><option value="365">Expires in 1 year</option></select>
        <button id="create-key" type="submit">Create key</button>
        ${keyRulesFields(providers)}
      </form>
      <div id="new-key" class="reveal" hidden>
        <p><strong>Copy your new key now.</strong> It is shown only this once; Voxgate keeps only its hash.</p>
        <div class="row"><code id="new-key-value" data-testid="new-key"></code><button id="copy-key" type="button">Copy</button></div>
      </div>
      <p id="keys-msg" class="msg" role="status"></p>
      <table id="keys"><thead><tr><th>Name</th><th>Key</th><th>Created</th><th>Last used</th><th>Expires</th><th>Limits</th><th>Status</th><th></th></tr></thead><tbody></tbody></table>
    </section>

    <section class="card">
      <div class="card-head"><h2>Provider keys</h2><span class="muted">Your own provider keys, stored encrypted; requests they serve use no credits.</span></div>
      <form id="pk-form" class="row">
        <select id="pk-provider" aria-label="Provider">${options}</select>
        <input id="pk-secret" type="password" placeholder="Provider API key" autocomplete="off" required>
        <button id="pk-save" type="submit">Save</button>
      </form>
      <p id="pk-msg" class="msg" role="status"></p>
      <table id="pkeys"><thead><tr><th>Provider</th><th>Key</th><th>Updated</th><th>Verified</th><th></th></tr></thead><tbody></tbody></table>
    </section>
${integrationSections()}
${TRY_REALTIME_SECTION}
  </div>
</main>
<script nonce="${nonce}">${PORTAL_SCRIPT}${INTEGRATIONS_SCRIPT}</script>
<script nonce="${nonce}">${TRY_REALTIME_SCRIPT}</script>
</body>
</html>`;
}

const STYLE = `
:root{--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f6f7fb;--card:#fff;--brand:#4f46e5;--brand-ink:#fff;--danger:#dc2626;--ok:#15803d;
--tts:#4f46e5;--stt:#0ea5e9;--llm:#f59e0b}
*{box-sizing:border-box}[hidden]{display:none!important}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--ink);background:var(--bg)}
.top{display:flex;align-items:center;justify-content:space-between;padding:.8rem 1.5rem;background:#fff;border-bottom:1px solid var(--line)}
.brand{display:flex;align-items:center;gap:.55rem}.brand .name{font-weight:700;font-size:1.1rem}.brand .sub{color:var(--muted);border-left:1px solid var(--line);padding-left:.55rem}
nav{display:flex;align-items:center;gap:1rem}nav a{color:var(--muted);text-decoration:none}nav a:hover{color:var(--ink)}
#who{display:inline-flex;align-items:center;gap:.6rem}.phone{font-variant-numeric:tabular-nums;color:var(--ink)}
main{max-width:1080px;margin:1.5rem auto;padding:0 1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.1rem 1.3rem;margin-bottom:1rem;box-shadow:0 1px 2px rgba(16,24,40,.04)}
.card.narrow{max-width:440px;margin:3rem auto}
.card-head{display:flex;align-items:baseline;justify-content:space-between;gap:1rem;flex-wrap:wrap;margin-bottom:.6rem}
h1{font-size:1.5rem;margin:.2rem 0 .4rem}h2{font-size:1rem;margin:0 0 .4rem}
.muted,.hint{color:var(--muted)}.hint{font-size:.85rem;margin:.4rem 0 0}
label{display:block;font-weight:600;margin:.8rem 0 .35rem}
.row{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap}
input,select{font:inherit;padding:.5rem .65rem;border:1px solid #d1d5db;border-radius:8px;background:#fff;min-width:0;flex:1}
select{flex:0 1 auto}input:focus,select:focus{outline:2px solid #c7d2fe;border-color:var(--brand)}
button{font:inherit;font-weight:600;padding:.5rem .95rem;border-radius:8px;border:1px solid var(--brand);background:var(--brand);color:var(--brand-ink);cursor:pointer}
button:hover{filter:brightness(1.08)}button:disabled{opacity:.55;cursor:default}
button.ghost{background:#fff;color:var(--ink);border-color:#d1d5db}
button.small{padding:.2rem .6rem;font-size:.85rem;background:#fff;color:var(--ink);border-color:#d1d5db}
button.small.danger{color:var(--danger);border-color:#fecaca}
button.link{background:none;border:0;padding:0;color:var(--brand);font-weight:500}
.msg{min-height:1.2em;margin:.5rem 0 0;font-size:.9rem}.msg.error{color:var(--danger)}.msg.ok{color:var(--ok)}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:1rem;margin-bottom:1rem}.stats .card{margin:0}
.stat h2{color:var(--muted);font-weight:600;font-size:.85rem;text-transform:uppercase;letter-spacing:.04em}
.big{font-size:1.7rem;font-weight:700;font-variant-numeric:tabular-nums;text-transform:capitalize}
.meter{height:8px;background:#eef0f4;border-radius:99px;overflow:hidden;margin:.4rem 0}.meter span{display:block;height:100%;width:0;background:var(--brand)}
.legend{display:flex;gap:1rem;color:var(--muted);font-size:.85rem}.legend b{color:var(--ink);font-weight:600;font-variant-numeric:tabular-nums}.sw{display:inline-block;width:10px;height:10px;border-radius:3px;margin-right:.35rem}
.sw.tts{background:var(--tts)}.sw.stt{background:var(--stt)}.sw.llm{background:var(--llm)}
.chart svg{display:block;width:100%;height:auto}
.reveal{border:1px solid #c7d2fe;background:#eef2ff;border-radius:10px;padding:.7rem .9rem;margin:.8rem 0}.reveal p{margin:0 0 .5rem}
.reveal code{flex:1;font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#fff;border:1px solid #c7d2fe;border-radius:6px;padding:.45rem .6rem;word-break:break-all}
table{width:100%;border-collapse:collapse;margin-top:.7rem;font-size:.92rem}
th{text-align:left;color:var(--muted);font-weight:600;font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;border-bottom:1px solid var(--line);padding:.45rem .5rem}
td{border-bottom:1px solid #f0f1f4;padding:.55rem .5rem;vertical-align:middle}td.actions{text-align:right;white-space:nowrap}td.actions button{margin-left:.35rem}
td code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
tr.inactive td{color:#9ca3af}td.empty{color:var(--muted);text-align:center;padding:1rem}
.pill{display:inline-block;font-size:.78rem;font-weight:600;padding:.05rem .5rem;border-radius:99px}
.pill.active{background:#dcfce7;color:var(--ok)}.pill.revoked,.pill.expired{background:#f3f4f6;color:#6b7280}.pill.no{background:#fef3c7;color:#92400e}
`;
