// The portal page's script: plain browser JavaScript, inlined into the page (page.ts). It signs in,
// loads the dashboard from /portal/api/*, and draws the usage chart as an SVG of stacked bars.
// String.raw keeps its backslashes; it must stay free of backticks and dollar-brace.
export const PORTAL_SCRIPT = String.raw`
"use strict";
const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const state = { phone: "" };

async function api(method, path, body) {
  const init = { method, headers: { accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) { init.headers["content-type"] = "application/json"; init.body = JSON.stringify(body); }
  const res = await fetch(path, init);
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && path.indexOf("/portal/api/") === 0) showSignIn();
  return { status: res.status, ok: res.ok, data };
}
function errorText(r) {
  const e = r.data && r.data.error;
  let text = e && e.message ? e.message : "Request failed (" + r.status + ").";
  if (r.status === 429) text += " Try again later.";
  return text;
}
function say(id, text, kind) { const el = $(id); el.textContent = text || ""; el.className = "msg" + (kind ? " " + kind : ""); }
function day(iso) { return iso ? new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" }) : "—"; }
function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const k in attrs || {}) { if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]); }
  for (const c of children || []) node.append(c);
  return node;
}

// ---- sign-in ----
function showSignIn() {
  $("dash").hidden = true; $("who").hidden = true; $("signin").hidden = false;
  $("phone-form").hidden = false; $("code-form").hidden = true; say("signin-msg", "");
}
async function sendCode() {
  const phone = $("phone").value.replace(/[\s().-]/g, "");
  if (!/^\+[1-9]\d{6,14}$/.test(phone)) { say("signin-msg", "Enter the number in international format, e.g. +15551234567.", "error"); return; }
  $("send-code").disabled = true;
  const r = await api("POST", "/portal/auth/phone-number/send-otp", { phoneNumber: phone });
  $("send-code").disabled = false;
  if (!r.ok) { say("signin-msg", errorText(r), "error"); return; }
  state.phone = phone;
  $("code-phone").textContent = phone;
  $("phone-form").hidden = true; $("code-form").hidden = false; $("code").value = ""; $("code").focus();
  say("signin-msg", "Code sent. It expires in 5 minutes.", "ok");
}
$("phone-form").addEventListener("submit", (e) => { e.preventDefault(); sendCode(); });
$("resend").addEventListener("click", () => { $("phone").value = state.phone; sendCode(); });
$("restart").addEventListener("click", showSignIn);
$("code-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("verify").disabled = true;
  const r = await api("POST", "/portal/auth/phone-number/verify", { phoneNumber: state.phone, code: $("code").value.trim() });
  $("verify").disabled = false;
  if (!r.ok) {
    const code = r.data && r.data.error && r.data.error.code;
    say("signin-msg", code === "too_many_attempts" || code === "otp_expired" || code === "otp_not_found" ? errorText(r) + " Ask for a new code." : errorText(r), "error");
    return;
  }
  loadDashboard();
});
$("sign-out").addEventListener("click", async () => { await api("POST", "/portal/auth/sign-out"); showSignIn(); });

// ---- dashboard ----
async function loadDashboard() {
  const me = await api("GET", "/portal/api/me");
  if (!me.ok) { if (me.status !== 401) { showSignIn(); say("signin-msg", errorText(me), "error"); } return; }
  $("signin").hidden = true; $("dash").hidden = false; $("who").hidden = false;
  $("who-phone").textContent = me.data.user.phoneNumber;
  const u = me.data.user;
  $("plan").textContent = u.plan;
  $("plan-exp").textContent = u.planExpiresAt ? "Renews or ends " + day(u.planExpiresAt) : (u.plan === "free" ? "Upgrade for API keys" : "No end date");
  $("payg").textContent = fmt.format(u.paygCredits);
  await Promise.all([loadUsage(), loadKeys(), loadProviderKeys()]);
  document.dispatchEvent(new Event("dashboard-loaded")); // the integrations (page-integrations-script.ts)
}

async function loadUsage() {
  const r = await api("GET", "/portal/api/usage");
  if (!r.ok) return;
  const u = r.data;
  $("used").textContent = fmt.format(u.credits.used);
  $("used-of").textContent = "of " + fmt.format(u.credits.limit) + " plan credits · " + fmt.format(u.credits.remaining) + " left · " + u.requestCount + " requests";
  $("used-bar").style.width = Math.min(100, u.credits.limit ? (100 * u.credits.used) / u.credits.limit : 0) + "%";
  const [y, m] = u.period.split("-").map(Number);
  $("period").textContent = "· " + new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString(undefined, { month: "long", year: "numeric", timeZone: "UTC" });
  for (const kind of ["tts", "stt", "llm"]) $("sum-" + kind).textContent = fmt.format(u.breakdown[kind]);
  drawChart($("chart"), u.daily);
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const k in attrs) node.setAttribute(k, attrs[k]);
  if (text !== undefined) node.textContent = text;
  return node;
}
function niceMax(v) {
  if (v <= 0) return 10;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * p >= v) return f * p;
  return 10 * p;
}
function drawChart(host, daily) {
  const W = 960, H = 260, L = 52, R = 12, T = 14, B = 30;
  const pw = W - L - R, ph = H - T - B;
  const totals = daily.map((d) => d.tts + d.stt + d.llm);
  const max = niceMax(Math.max(0, ...totals));
  const root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "Credits used per day, by kind" });
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4, y = T + ph - (ph * i) / 4;
    root.append(svg("line", { x1: L, x2: W - R, y1: y, y2: y, stroke: i ? "#eef0f4" : "#d1d5db" }));
    root.append(svg("text", { x: L - 8, y: y + 4, "text-anchor": "end", "font-size": 11, fill: "#6b7280" }, fmt.format(v)));
  }
  const slot = pw / daily.length, bw = Math.max(3, slot * 0.62);
  const today = new Date().toISOString().slice(0, 10);
  daily.forEach((d, i) => {
    const x = L + i * slot + (slot - bw) / 2;
    let y = T + ph;
    const g = svg("g", {});
    g.append(svg("title", {}, d.day + ": " + fmt.format(totals[i]) + " credits (TTS " + fmt.format(d.tts) + ", STT " + fmt.format(d.stt) + ", LLM " + fmt.format(d.llm) + ")"));
    for (const [kind, color] of [["tts", "#4f46e5"], ["stt", "#0ea5e9"], ["llm", "#f59e0b"]]) {
      if (!d[kind]) continue;
      const h = Math.max(1.5, (ph * d[kind]) / max);
      y -= h;
      g.append(svg("rect", { x, y, width: bw, height: h, fill: color, rx: 2, "data-kind": kind, "data-day": d.day }));
    }
    root.append(g);
    const n = i + 1;
    if (n === 1 || n % 5 === 0 || d.day === today) {
      root.append(svg("text", { x: L + i * slot + slot / 2, y: H - 10, "text-anchor": "middle", "font-size": 11,
        fill: d.day === today ? "#111827" : "#6b7280", "font-weight": d.day === today ? 700 : 400 }, String(n)));
    }
  });
  if (!totals.some((t) => t > 0)) {
    root.append(svg("text", { x: L + pw / 2, y: T + ph / 2, "text-anchor": "middle", "font-size": 14, fill: "#9ca3af" }, "No usage yet this month"));
  }
  host.replaceChildren(root);
}

function keyStatus(k) {
  if (k.revokedAt) return "revoked";
  if (k.expiresAt && new Date(k.expiresAt) <= new Date()) return "expired";
  return "active";
}
async function loadKeys() {
  const r = await api("GET", "/portal/api/keys");
  if (!r.ok) { say("keys-msg", errorText(r), "error"); return; }
  const body = $("keys").tBodies[0];
  const rows = r.data.apiKeys.map((k) => {
    const status = keyStatus(k);
    const actions = el("td", { class: "actions" });
    if (status === "active") {
      actions.append(el("button", { class: "small", type: "button", "data-action": "rotate", "data-id": k.id, text: "Rotate" }));
      actions.append(el("button", { class: "small danger", type: "button", "data-action": "revoke", "data-id": k.id, text: "Revoke" }));
    }
    return el("tr", { "data-key-id": k.id, class: status === "active" ? "" : "inactive" }, [
      el("td", { text: k.name || "—" }), el("td", {}, [el("code", { text: k.keyPrefix + "…" })]),
      el("td", { text: day(k.createdAt) }), el("td", { text: day(k.lastUsedAt) }), el("td", { text: k.expiresAt ? day(k.expiresAt) : "Never" }),
      el("td", { class: "muted", text: keyLimits(k) }),
      el("td", {}, [el("span", { class: "pill " + status, text: status })]), actions,
    ]);
  });
  if (!rows.length) rows.push(el("tr", {}, [el("td", { colspan: 8, class: "empty", text: "No API keys yet." })]));
  body.replaceChildren(...rows);
  const active = r.data.apiKeys.filter((k) => keyStatus(k) === "active").length;
  $("key-count").textContent = active + " of 10 active";
}
function revealKey(plaintext) {
  $("new-key-value").textContent = plaintext;
  $("copy-key").textContent = "Copy";
  $("new-key").hidden = false;
}
$("key-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = {};
  const name = $("key-name").value.trim();
  if (name) body.name = name;
  if ($("key-expiry").value) body.expiresInDays = Number($("key-expiry").value);
  Object.assign(body, keyRules()); // scopes, providers, limits (page-integrations-script.ts)
  $("create-key").disabled = true;
  const r = await api("POST", "/portal/api/keys", body);
  $("create-key").disabled = false;
  if (!r.ok) { say("keys-msg", errorText(r), "error"); return; }
  $("key-name").value = "";
  clearKeyRules();
  say("keys-msg", "");
  revealKey(r.data.key);
  loadKeys();
});
$("keys").addEventListener("click", async (e) => {
  const b = e.target.closest("button[data-action]");
  if (!b) return;
  const id = b.getAttribute("data-id");
  if (b.getAttribute("data-action") === "revoke") {
    if (!confirm("Revoke this key? Requests with it fail from now on.")) return;
    const r = await api("DELETE", "/portal/api/keys/" + encodeURIComponent(id));
    say("keys-msg", r.ok ? "Key revoked." : errorText(r), r.ok ? "ok" : "error");
  } else {
    if (!confirm("Rotate this key? It stops working now and a new key replaces it.")) return;
    const r = await api("POST", "/portal/api/keys/" + encodeURIComponent(id) + "/rotate");
    if (r.ok) { revealKey(r.data.key); say("keys-msg", "Key rotated: the old key no longer works.", "ok"); }
    else say("keys-msg", errorText(r), "error");
  }
  loadKeys();
});
$("copy-key").addEventListener("click", async () => {
  const text = $("new-key-value").textContent;
  try { await navigator.clipboard.writeText(text); }
  catch (err) {
    const range = document.createRange(); range.selectNodeContents($("new-key-value"));
    const sel = getSelection(); sel.removeAllRanges(); sel.addRange(range); document.execCommand("copy");
  }
  $("copy-key").textContent = "Copied";
});

async function loadProviderKeys() {
  const r = await api("GET", "/portal/api/provider-keys");
  if (!r.ok) { say("pk-msg", errorText(r), "error"); return; }
  const names = {};
  for (const o of $("pk-provider").options) names[o.value] = o.textContent;
  const rows = r.data.providerKeys.map((k) => el("tr", { "data-provider": k.provider }, [
    el("td", { text: names[k.provider] || k.provider }), el("td", {}, [el("code", { text: "…" + k.last4 })]), el("td", { text: day(k.updatedAt) }),
    el("td", {}, [k.verifiedAt ? el("span", { class: "pill active", text: "verified " + day(k.verifiedAt) }) : el("span", { class: "pill no", text: "not verified" })]),
    el("td", { class: "actions" }, [
      el("button", { class: "small", type: "button", "data-action": "verify", "data-provider": k.provider, text: "Verify" }),
      el("button", { class: "small danger", type: "button", "data-action": "delete", "data-provider": k.provider, text: "Delete" }),
    ]),
  ]));
  if (!rows.length) rows.push(el("tr", {}, [el("td", { colspan: 5, class: "empty", text: "No provider keys stored." })]));
  $("pkeys").tBodies[0].replaceChildren(...rows);
}
$("pk-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("pk-save").disabled = true;
  const r = await api("POST", "/portal/api/provider-keys", { provider: $("pk-provider").value, apiKey: $("pk-secret").value.trim() });
  $("pk-save").disabled = false;
  if (!r.ok) { say("pk-msg", errorText(r), "error"); return; }
  $("pk-secret").value = "";
  say("pk-msg", "Saved. Verify it to check it with the provider.", "ok");
  loadProviderKeys();
});
$("pkeys").addEventListener("click", async (e) => {
  const b = e.target.closest("button[data-action]");
  if (!b) return;
  const provider = b.getAttribute("data-provider");
  if (b.getAttribute("data-action") === "verify") {
    b.disabled = true;
    const r = await api("POST", "/portal/api/provider-keys/" + encodeURIComponent(provider) + "/verify");
    b.disabled = false;
    if (!r.ok) say("pk-msg", errorText(r), "error");
    else say("pk-msg", r.data.valid ? "The provider accepted the key." : "The provider refused the key (HTTP " + r.data.status + ").", r.data.valid ? "ok" : "error");
  } else {
    if (!confirm("Delete the stored key for " + provider + "?")) return;
    const r = await api("DELETE", "/portal/api/provider-keys/" + encodeURIComponent(provider));
    say("pk-msg", r.ok ? "Deleted." : errorText(r), r.ok ? "ok" : "error");
  }
  loadProviderKeys();
});

loadDashboard();
`;
