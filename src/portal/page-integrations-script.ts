// The portal page's script for its integrations (page-integrations.ts): a new key's rules, webhooks and
// their deliveries, and the request log with "older" paging. Plain browser JavaScript inlined after the
// page's own script (page-script.ts), whose helpers ($, api, el, say, day, fmt) it uses; it loads when
// the dashboard does. String.raw keeps its backslashes; it must stay free of backticks and dollar-brace.
export const INTEGRATIONS_SCRIPT = String.raw`
// ---- a new key's rules ----
function keyRules() {
  const checked = (name) => Array.from(document.querySelectorAll("input[name=" + name + "]:checked")).map((i) => i.value);
  const rules = {};
  const scopes = checked("key-scope"), providers = checked("key-provider");
  if (scopes.length) rules.scopes = scopes;
  if (providers.length) rules.providers = providers;
  if ($("key-credit-limit").value !== "") rules.monthlyCreditLimit = Number($("key-credit-limit").value);
  if ($("key-rpm").value !== "") rules.requestsPerMinute = Number($("key-rpm").value);
  return rules;
}
function clearKeyRules() {
  for (const i of document.querySelectorAll("#key-rules input[type=checkbox]")) i.checked = false;
  $("key-credit-limit").value = ""; $("key-rpm").value = "";
}
function keyLimits(k) {
  const parts = [];
  if (k.scopes && k.scopes.length < 8) parts.push(k.scopes.join(", "));
  if (k.providers) parts.push("only " + k.providers.join(", "));
  if (k.monthlyCreditLimit !== null && k.monthlyCreditLimit !== undefined) parts.push(fmt.format(k.monthlyCreditLimit) + " credits/month");
  if (k.requestsPerMinute) parts.push(k.requestsPerMinute + "/min");
  return parts.length ? parts.join(" · ") : "All";
}

// ---- webhooks ----
const hooks = { open: null };
async function loadWebhooks() {
  const r = await api("GET", "/portal/api/webhooks");
  if (!r.ok) { say("wh-msg", errorText(r), "error"); return; }
  const rows = r.data.webhooks.map((w) => el("tr", { "data-webhook-id": w.id }, [
    el("td", {}, [el("code", { text: w.url })].concat(w.description ? [el("div", { class: "muted", text: w.description })] : [])),
    el("td", {}, w.events.map((e) => el("span", { class: "tag", text: e }))),
    el("td", { text: day(w.createdAt) }),
    el("td", { class: "actions" }, [
      el("button", { class: "small", type: "button", "data-action": "test", "data-id": w.id, text: "Send test" }),
      el("button", { class: "small", type: "button", "data-action": "deliveries", "data-id": w.id, text: "Deliveries" }),
      el("button", { class: "small danger", type: "button", "data-action": "delete", "data-id": w.id, text: "Delete" }),
    ]),
  ]));
  if (!rows.length) rows.push(el("tr", {}, [el("td", { colspan: 4, class: "empty", text: "No webhooks yet." })]));
  $("webhooks").tBodies[0].replaceChildren(...rows);
  if (hooks.open && !r.data.webhooks.some((w) => w.id === hooks.open)) { hooks.open = null; $("wh-deliveries").hidden = true; }
}
async function loadDeliveries(id) {
  const r = await api("GET", "/portal/api/webhooks/" + encodeURIComponent(id) + "/deliveries");
  if (!r.ok) { say("wh-msg", errorText(r), "error"); return; }
  hooks.open = id;
  $("wh-deliveries").hidden = false;
  $("wh-deliveries-of").textContent = "· " + id;
  const rows = r.data.deliveries.map((d) => el("tr", { "data-event-id": d.eventId }, [
    el("td", { text: new Date(d.createdAt).toLocaleString() }), el("td", { text: d.type }), el("td", { class: "num", text: String(d.attempt) }),
    el("td", { class: "num", text: d.status === null ? "—" : String(d.status) }),
    el("td", {}, [el("span", { class: "pill " + d.outcome, text: d.outcome })]), el("td", { class: "muted", text: d.error || "" }),
  ]));
  if (!rows.length) rows.push(el("tr", {}, [el("td", { colspan: 6, class: "empty", text: "No deliveries yet." })]));
  $("deliveries").tBodies[0].replaceChildren(...rows);
}
$("wh-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const events = Array.from(document.querySelectorAll("input[name=wh-event]:checked")).map((i) => i.value);
  if (!events.length) { say("wh-msg", "Choose at least one event.", "error"); return; }
  const body = { url: $("wh-url").value.trim(), events };
  if ($("wh-desc").value.trim()) body.description = $("wh-desc").value.trim();
  $("wh-create").disabled = true;
  const r = await api("POST", "/portal/api/webhooks", body);
  $("wh-create").disabled = false;
  if (!r.ok) { say("wh-msg", errorText(r), "error"); return; }
  $("wh-url").value = ""; $("wh-desc").value = "";
  $("wh-secret-value").textContent = r.data.secret;
  $("wh-secret").hidden = false;
  say("wh-msg", "");
  loadWebhooks();
});
$("webhooks").addEventListener("click", async (e) => {
  const b = e.target.closest("button[data-action]");
  if (!b) return;
  const id = b.getAttribute("data-id"), action = b.getAttribute("data-action");
  if (action === "deliveries") { loadDeliveries(id); return; }
  if (action === "test") {
    const r = await api("POST", "/portal/api/webhooks/" + encodeURIComponent(id) + "/test");
    say("wh-msg", r.ok ? "Test event " + r.data.event.id + " queued." : errorText(r), r.ok ? "ok" : "error");
    if (r.ok) setTimeout(() => loadDeliveries(id), 2500);
    return;
  }
  if (!confirm("Delete this webhook? Nothing more is delivered to it.")) return;
  const r = await api("DELETE", "/portal/api/webhooks/" + encodeURIComponent(id));
  say("wh-msg", r.ok ? "Webhook deleted." : errorText(r), r.ok ? "ok" : "error");
  loadWebhooks();
});

// ---- the request log ----
const requestLog = { cursor: null };
async function loadRequests(more) {
  const q = "/portal/api/requests?limit=25" + (more && requestLog.cursor ? "&cursor=" + encodeURIComponent(requestLog.cursor) : "");
  const r = await api("GET", q);
  if (!r.ok) return;
  const rows = r.data.requests.map((x) => el("tr", { "data-request-id": x.id }, [
    el("td", { text: new Date(x.createdAt).toLocaleString() }),
    el("td", {}, [el("code", { text: x.method + " " + x.path })]),
    el("td", { class: "muted", text: x.keyId || "JWT" }), el("td", { text: x.provider || "—" }),
    el("td", {}, [el("span", { class: "pill " + (x.status < 400 ? "ok" : "err"), text: String(x.status) })]),
    el("td", { class: "num", text: fmt.format(x.cost) }), el("td", { class: "num", text: x.durationMs + " ms",
      title: x.gatewayMs === null ? "" : "Voxgate " + x.gatewayMs + " ms, provider's first byte " + x.upstreamMs + " ms" }),
    el("td", { class: "num", text: String(x.attempts) }),
  ]));
  const body = $("requests").tBodies[0];
  if (more) body.append(...rows);
  else body.replaceChildren(...(rows.length ? rows : [el("tr", {}, [el("td", { colspan: 8, class: "empty", text: "No API requests in the last 30 days." })])]));
  requestLog.cursor = r.data.nextCursor;
  $("req-more").hidden = !r.data.nextCursor;
}
$("req-more").addEventListener("click", () => loadRequests(true));
$("req-refresh").addEventListener("click", () => loadRequests(false));

document.addEventListener("dashboard-loaded", () => { loadWebhooks(); loadRequests(false); });
`;
