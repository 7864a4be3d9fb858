// The portal's "try it" for live transcription (API.md §4.3): speak into the microphone, see the
// transcript as you talk. The page asks /portal/api/realtime/tokens for a client token and opens
// GET /v1/realtime/listen with it as the subprotocol voxgate-token.<token> (a browser cannot set headers),
// streaming 16 kHz 16-bit PCM from the microphone. Plain browser JavaScript, inlined like page-script.ts
// (a ScriptProcessorNode rather than an AudioWorklet: a worklet module would need a script URL the
// page's Content-Security-Policy does not allow).
import { LISTEN_PROVIDERS } from "../realtime/providers/registry";

const NAMES: Record<string, string> = { deepgram: "Deepgram", elevenlabs: "ElevenLabs", cartesia: "Cartesia" };

export const TRY_REALTIME_SECTION = `
    <section class="card" id="try">
      <div class="card-head"><h2>Try it: live transcription</h2><span class="muted">Speak into your microphone; the transcript appears as you talk, billed as live transcription.</span></div>
      <div class="row">
        <select id="try-provider" aria-label="Transcription provider">${LISTEN_PROVIDERS.map((p) => `<option value="${p.id}">${NAMES[p.id] ?? p.id}</option>`).join("")}</select>
        <button id="try-start" type="button">Start</button><button id="try-stop" class="ghost" type="button" disabled>Stop</button>
        <span id="try-usage" class="muted"></span>
      </div>
      <p id="try-msg" class="msg" role="status"></p>
      <p id="try-transcript" class="transcript" aria-live="polite"><span id="try-final"></span> <span id="try-interim" class="muted"></span></p>
    </section>`;

export const TRY_REALTIME_STYLE = ".transcript{min-height:2.5em;margin:.6rem 0 0;font-size:1.05rem}";

export const TRY_REALTIME_SCRIPT = String.raw`
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  let live = null;
  const tell = (text, kind) => { const el = $("try-msg"); el.textContent = text || ""; el.className = "msg" + (kind ? " " + kind : ""); };
  const buttons = (running) => { $("try-start").disabled = running; $("try-stop").disabled = !running; };

  function stopAudio() {
    if (!live) return;
    try { live.node.disconnect(); live.source.disconnect(); } catch (e) {}
    for (const t of live.stream.getTracks()) t.stop();
    live.ctx.close().catch(() => {});
  }

  async function start() {
    buttons(true);
    tell("Connecting…");
    const provider = $("try-provider").value;
    const res = await fetch("/portal/api/realtime/tokens", {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ operation: "listen", provider: provider, ttlSeconds: 60 }),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) { buttons(false); tell((data.error && data.error.message) || "Could not start (" + res.status + ").", "error"); return; }
    let stream;
    try { stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1 } }); }
    catch (e) { buttons(false); tell("No microphone: " + e.message, "error"); return; }
    const ctx = new AudioContext({ sampleRate: 16000 });
    const source = ctx.createMediaStreamSource(stream);
    const node = ctx.createScriptProcessor(2048, 1, 1);
    const url = location.origin.replace(/^http/, "ws") + "/v1/realtime/listen?provider=" + encodeURIComponent(provider) +
      "&encoding=linear16&sampleRate=" + ctx.sampleRate;
    const ws = new WebSocket(url, ["voxgate-token." + data.token]);
    ws.binaryType = "arraybuffer";
    live = { ws: ws, ctx: ctx, stream: stream, node: node, source: source };
    $("try-final").textContent = ""; $("try-interim").textContent = ""; $("try-usage").textContent = "";
    node.onaudioprocess = (e) => {
      if (ws.readyState !== 1) return;
      const f = e.inputBuffer.getChannelData(0);
      const pcm = new Int16Array(f.length);
      for (let i = 0; i < f.length; i++) pcm[i] = Math.max(-1, Math.min(1, f[i])) * 0x7fff;
      ws.send(pcm.buffer);
    };
    ws.onopen = () => { source.connect(node); node.connect(ctx.destination); tell("Listening… speak now.", "ok"); };
    ws.onmessage = (e) => {
      let m; try { m = JSON.parse(e.data); } catch (err) { return; }
      if (m.type === "transcript") {
        if (m.isFinal) { $("try-final").textContent = ($("try-final").textContent + " " + m.text).trim(); $("try-interim").textContent = ""; }
        else $("try-interim").textContent = m.text;
      } else if (m.type === "usage") {
        $("try-usage").textContent = m.seconds.toFixed(1) + " s · " + m.cost + " credits";
      } else if (m.type === "error") tell(m.message, "error");
    };
    ws.onclose = (e) => {
      stopAudio(); live = null; buttons(false);
      if (e.code === 1000) tell("Stopped.", "ok");
      else if (!$("try-msg").classList.contains("error")) tell("The session ended (" + e.code + ").", "error");
    };
  }

  $("try-start").addEventListener("click", () => { start().catch((e) => { buttons(false); tell(String(e), "error"); }); });
  $("try-stop").addEventListener("click", () => {
    if (live && live.ws.readyState === 1) live.ws.send(JSON.stringify({ type: "close" }));
    stopAudio();
  });
})();
`;
