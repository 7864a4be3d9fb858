// The portal page's integrations (API.md §7.1): a scoped key's rules on the key form, webhooks (endpoint,
// events, the secret shown once, deliveries) and the request log. HTML and style here; the script that
// drives them is page-integrations-script.ts. Both are inlined into the page (page.ts).
import { EVENT_TYPES } from "../account/events";
import { SCOPES } from "../auth/scopes";

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const check = (name: string, value: string, label = value) =>
  `<label class="chk"><input type="checkbox" name="${name}" value="${escapeHtml(value)}"> ${escapeHtml(label)}</label>`;

/** Restrict a new key: scopes, providers, a monthly credit limit and a rate (inside the key form). */
export function keyRulesFields(providers: { id: string; name: string }[]): string {
  return `<details id="key-rules" class="rules"><summary>Restrict this key (scopes, providers, budget, rate)</summary>
  <div class="rules-grid">
    <fieldset><legend>Scopes <span class="muted">(none checked: all)</span></legend>${SCOPES.map((s) => check("key-scope", s)).join("")}</fieldset>
    <fieldset><legend>Providers <span class="muted">(none checked: all)</span></legend>${providers.map((p) => check("key-provider", p.id, p.name)).join("")}</fieldset>
    <fieldset><legend>Limits</legend>
      <label class="inline">Monthly credits <input id="key-credit-limit" type="number" min="0" step="0.001" placeholder="no limit"></label>
      <label class="inline">Requests per minute <input id="key-rpm" type="number" min="1" step="1" placeholder="the plan's"></label>
    </fieldset>
  </div></details>`;
}

export function integrationSections(): string {
  return `
    <section class="card" id="webhooks-card">
      <div class="card-head"><h2>Webhooks</h2><span class="muted">Signed (Standard Webhooks), retried for 24 hours; at most 10.</span></div>
      <form id="wh-form" class="row">
        <input id="wh-url" type="url" placeholder="https://example.com/voxgate-events" required>
        <input id="wh-desc" placeholder="Description (optional)" maxlength="200">
        <button id="wh-create" type="submit">Add webhook</button>
      </form>
      <div class="row events">${EVENT_TYPES.filter((e) => e !== "webhook.test")
        .map((e) => check("wh-event", e))
        .join("")}</div>
      <div id="wh-secret" class="reveal" hidden>
        <p><strong>Copy the signing secret now.</strong> It is shown only this once; use it to verify each delivery's <code>webhook-signature</code>.</p>
        <div class="row"><code id="wh-secret-value" data-testid="webhook-secret"></code></div>
      </div>
      <p id="wh-msg" class="msg" role="status"></p>
      <table id="webhooks"><thead><tr><th>Endpoint</th><th>Events</th><th>Created</th><th></th></tr></thead><tbody></tbody></table>
      <div id="wh-deliveries" hidden>
        <h3>Deliveries <span id="wh-deliveries-of" class="muted"></span></h3>
        <table id="deliveries"><thead><tr><th>Time</th><th>Event</th><th>Attempt</th><th>Status</th><th>Outcome</th><th>Error</th></tr></thead><tbody></tbody></table>
      </div>
    </section>

    <section class="card" id="requests-card">
      <div class="card-head"><h2>Request log</h2><span class="muted">Your API requests of the last 30 days (no bodies, keys or headers).</span><button id="req-refresh" class="small" type="button">Refresh</button></div>
      <table id="requests"><thead><tr><th>Time</th><th>Request</th><th>Key</th><th>Provider</th><th>Status</th><th>Cost</th><th>Duration</th><th>Attempts</th></tr></thead><tbody></tbody></table>
      <p class="row"><button id="req-more" class="small" type="button" hidden>Older requests</button></p>
    </section>`;
}

export const INTEGRATIONS_STYLE = `
.rules{margin:.6rem 0 0;flex-basis:100%}.rules summary{cursor:pointer;color:var(--muted)}
.rules-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:.8rem;margin-top:.5rem}
fieldset{border:1px solid var(--line);border-radius:8px;padding:.5rem .7rem}legend{font-weight:600;font-size:.85rem}
label.chk{display:inline-flex;align-items:center;gap:.3rem;font-weight:400;margin:.15rem .6rem .15rem 0}
label.inline{display:flex;flex-direction:column;font-weight:400;font-size:.85rem;margin:.3rem 0}
.row.events{margin:.5rem 0}h3{font-size:.95rem;margin:1rem 0 .2rem}
td.num{text-align:right;font-variant-numeric:tabular-nums}.tag{display:inline-block;font-size:.75rem;background:#eef2ff;color:#3730a3;border-radius:6px;padding:0 .35rem;margin:0 .2rem .1rem 0}
.pill.delivered,.pill.ok{background:#dcfce7;color:var(--ok)}.pill.retrying{background:#fef3c7;color:#92400e}.pill.failed,.pill.err{background:#fee2e2;color:var(--danger)}
`;
