// The developer portal in a real browser (headless Debian Chromium driven by playwright-core) against
// the `wrangler dev` of the e2e harness: sign in with a phone number (the code read from the mock
// Twilio), create an API key and read it off the page, use it, revoke it in the page, create a scoped
// key, add a webhook (its secret shown once) and see a signed test delivery arrive and be logged, read the
// request log, and save a screenshot of the dashboard to test/artifacts/portal-dashboard.png.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain JS module shared with the workerd tests
import { startWebhookReceiver } from "../mocks/webhook-receiver.mjs";
import { bearer, call, jwtFor, settled, workerUrl } from "./client";
import { twilioOrigin, waitForCode } from "./portal-client";

const ARTIFACTS = join(import.meta.dirname, "..", "artifacts");
const CHROMIUM = process.env.VOXGATE_CHROMIUM ?? "/usr/bin/chromium";

let browser: Browser;
let page: Page;
let receiver: { origin: string; received: { path: string; headers: Record<string, string>; body: string }[]; close(): Promise<void> };

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.on("pageerror", (e) => console.error("[page error]", e.message));
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
});

describe("developer portal in the browser", () => {
  it("signs in by phone, creates a key shown once, the key works, revoking it in the page ends it", async () => {
    expect(twilioOrigin(), "the mock Twilio (test/helpers/twilio-setup.ts) must be in the e2e globalSetup").toBeTruthy();
    const phone = `+1555${String(Date.now() % 10_000_000).padStart(7, "0")}`;
    const errors: string[] = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));

    // Sign in: phone number → code by SMS → dashboard.
    await page.goto(`${workerUrl()}/portal`);
    await page.locator("#phone").fill(phone);
    await page.locator("#send-code").click();
    await page.locator("#code").waitFor({ state: "visible" });
    await page.locator("#code").fill(await waitForCode(phone));
    await page.locator("#verify").click();
    await page.locator("#dash").waitFor({ state: "visible" });
    await expect.poll(() => page.locator("#who-phone").textContent()).toBe(phone);
    await expect.poll(() => page.locator("#plan").textContent()).toBe("free");

    // A free user may not create keys: the page says so.
    await page.locator("#create-key").click();
    await expect.poll(() => page.locator("#keys-msg").textContent()).toMatch(/paying users/);

    // Make the user paying (admin API, admin JWT), reload: the session survives, the plan shows.
    const me = (await page.evaluate(async () => (await fetch("/portal/api/me")).json())) as { user: { id: string } };
    const patch = await call(`/api/admin/users/${me.user.id}`, {
      method: "PATCH",
      headers: bearer(await jwtFor("e2e-admin", "admin")),
      json: { plan: "pro" },
    });
    expect(patch.status).toBe(200);
    await page.reload();
    await expect.poll(() => page.locator("#plan").textContent()).toBe("pro");

    // Create a key: the plaintext shows once, with a copy button.
    await page.locator("#key-name").fill("browser e2e");
    await page.locator("#create-key").click();
    const shown = page.locator('[data-testid="new-key"]');
    await shown.waitFor({ state: "visible" });
    const key = (await shown.textContent())!.trim();
    expect(key).toMatch(/^plabs_[A-Za-z0-9_-]{43}$/);
    await page.locator("#copy-key").click();
    await expect.poll(() => page.locator("#copy-key").textContent()).toBe("Copied");
    const row = page.locator("#keys tbody tr", { hasText: "browser e2e" });
    await expect.poll(() => row.locator(".pill").textContent()).toBe("active");

    // The key works against the API, and is the same user.
    const v1 = await call("/v1/me", { headers: bearer(key) });
    expect(v1.status).toBe(200);
    expect(((await v1.json()) as any).user.id).toBe(me.user.id);

    // Some usage for the chart (metered, on the platform keys): speech, a transcription and an LLM call.
    const tts = await call("/v1/synthesize", {
      method: "POST",
      headers: bearer(key),
      json: { provider: "elevenlabs", text: "Hello from the portal test. ".repeat(6) },
    });
    expect(tts.status).toBe(200);
    await tts.arrayBuffer();
    const form = new FormData();
    form.append("file", new File([new Uint8Array(120_000)], "talk.wav", { type: "audio/wav" })); // the mock hears 120 s
    form.append("provider", "deepgram");
    expect((await call("/v1/transcribe", { method: "POST", headers: bearer(key), body: form })).status).toBe(200);
    const chat = await call("/v1/chat", {
      method: "POST",
      headers: bearer(key),
      json: { provider: "openai", model: "gpt-4.1", messages: [{ role: "user", content: "Say hello to the portal." }] },
    });
    expect(chat.status).toBe(200);
    await settled(
      async () => (await (await call("/v1/usage", { headers: bearer(key) })).json()) as any,
      (u) => u.requestCount >= 3,
    );

    // The dashboard shows the month's usage as stacked bars.
    await page.reload();
    await page.locator("#chart svg rect[data-kind]").first().waitFor();
    expect(await page.locator('#chart svg rect[data-kind="tts"]').count()).toBe(1);
    expect(await page.locator('#chart svg rect[data-kind="stt"]').count()).toBe(1);
    expect(await page.locator('#chart svg rect[data-kind="llm"]').count()).toBe(1);
    await expect.poll(async () => Number((await page.locator("#used").textContent())!.replace(/[^\d.]/g, ""))).toBeGreaterThan(0);
    // The key was shown once: after a reload only its prefix is on the page.
    expect(await page.content()).not.toContain(key);

    // Revoke it in the page (confirming the dialog): the very next API request with it is refused.
    page.once("dialog", (d) => d.accept());
    await page.locator("#keys tbody tr", { hasText: "browser e2e" }).locator('button[data-action="revoke"]').click();
    await expect.poll(() => page.locator("#keys tbody tr", { hasText: "browser e2e" }).locator(".pill").textContent()).toBe("revoked");
    expect((await call("/v1/me", { headers: bearer(key) })).status).toBe(401);

    // A provider key, stored and verified through the page (the mock ElevenLabs accepts it).
    await page.locator("#pk-provider").selectOption("elevenlabs");
    await page.locator("#pk-secret").fill("sk-browser-e2e-4321");
    await page.locator("#pk-save").click();
    const pkRow = page.locator('#pkeys tr[data-provider="elevenlabs"]');
    await pkRow.waitFor();
    await pkRow.locator('button[data-action="verify"]').click();
    await expect.poll(() => page.locator('#pkeys tr[data-provider="elevenlabs"] .pill').textContent()).toMatch(/^verified/);

    // A scoped key: only speech, at most 5 credits a month. The listing says so, and the API holds it to it.
    await page.locator("#key-rules summary").click();
    await page.locator('input[name="key-scope"][value="tts"]').check();
    await page.locator("#key-credit-limit").fill("5");
    await page.locator("#key-name").fill("speech only");
    await page.locator("#create-key").click();
    await expect.poll(() => page.locator("#keys tbody tr", { hasText: "speech only" }).count()).toBe(1);
    const scopedRow = page.locator("#keys tbody tr", { hasText: "speech only" });
    await expect.poll(() => scopedRow.textContent()).toContain("tts · 5 credits/month");
    const scopedKey = (await shown.textContent())!.trim();
    const denied = await call("/v1/chat", {
      method: "POST",
      headers: bearer(scopedKey),
      json: { provider: "openai", model: "gpt-4.1", messages: [{ role: "user", content: "hi" }] },
    });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as any).error.code).toBe("scope_denied");

    // A webhook: its secret shows once; a test event arrives signed with it and shows in the deliveries.
    const hookPath = `/hooks/browser-${Date.now().toString(36)}`;
    await page.locator("#wh-url").fill(`${receiver.origin}${hookPath}`);
    await page.locator('input[name="wh-event"][value="key.created"]').check();
    await page.locator("#wh-create").click();
    const secretShown = page.locator('[data-testid="webhook-secret"]');
    await secretShown.waitFor({ state: "visible" });
    const secret = (await secretShown.textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    const hookRow = page.locator("#webhooks tbody tr", { hasText: hookPath });
    await hookRow.waitFor();
    await hookRow.locator('button[data-action="test"]').click();
    await expect.poll(() => receiver.received.filter((r) => r.path === hookPath).length, { timeout: 15_000 }).toBe(1);
    const [delivery] = receiver.received.filter((r) => r.path === hookPath);
    const event = new Webhook(secret).verify(delivery!.body, delivery!.headers) as { id: string; type: string };
    expect(event.type).toBe("webhook.test");
    await hookRow.locator('button[data-action="deliveries"]').click();
    const deliveryRow = page.locator(`#deliveries tr[data-event-id="${event.id}"]`);
    await expect.poll(() => deliveryRow.locator(".pill").textContent(), { timeout: 15_000 }).toBe("delivered");

    // The request log lists the API calls made above, with their costs.
    const ttsId = tts.headers.get("x-request-id")!;
    await expect
      .poll(
        async () => {
          await page.locator("#req-refresh").click();
          return page.locator(`#requests tr[data-request-id="${ttsId}"]`).count();
        },
        { timeout: 15_000 },
      )
      .toBe(1);
    const ttsRow = page.locator(`#requests tr[data-request-id="${ttsId}"]`);
    expect(await ttsRow.textContent()).toContain("POST /v1/synthesize");
    // The page shows credits to 2 decimals.
    expect(Number((await ttsRow.locator("td.num").first().textContent())!.replace(/[^\d.]/g, ""))).toBeCloseTo(
      Number(tts.headers.get("x-usage-cost")),
      1,
    );

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator("#new-key").evaluate((el) => ((el as { hidden: boolean }).hidden = true)); // no secret in the artifact
    await page.locator("#wh-secret").evaluate((el) => ((el as { hidden: boolean }).hidden = true));
    await page.screenshot({ path: join(ARTIFACTS, "portal-dashboard.png"), fullPage: true });

    // Sign out: back to the sign-in form, and the API refuses the old cookie.
    await page.locator("#sign-out").click();
    await page.locator("#signin").waitFor({ state: "visible" });
    expect(await page.evaluate(async () => (await fetch("/portal/api/me")).status)).toBe(401);
    expect(errors.filter((e) => !/status of 40[13]/.test(e))).toEqual([]);
  });
});
