// The portal's "try it" for live transcription in a real browser (headless Chromium, its fake microphone):
// signed in by phone, the page gets a client token from /portal/api/realtime/tokens, opens
// /v1/realtime/listen with it as the subprotocol, streams the microphone as 16 kHz PCM and shows the
// transcript as it comes; Stop ends the session normally and the seconds streamed are charged.
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mock, settled, workerUrl } from "./client";
import { twilioOrigin, waitForCode } from "./portal-client";
import { upstreamSession } from "./ws-client";

const CHROMIUM = process.env.VOXGATE_CHROMIUM ?? "/usr/bin/chromium";

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      // A fake microphone (a tone), granted without a prompt.
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on("pageerror", (e) => console.error("[page error]", e.message));
});

afterAll(async () => {
  await browser?.close();
});

describe("portal: try live transcription", () => {
  it("the microphone's audio goes through a client token; the transcript shows as it comes; Stop ends at 1000 and is charged", async () => {
    expect(twilioOrigin(), "the mock Twilio must be in the e2e globalSetup").toBeTruthy();
    await mock("/reset", { method: "POST" });
    const phone = `+1556${String(Date.now() % 10_000_000).padStart(7, "0")}`;
    await page.goto(`${workerUrl()}/portal`);
    await page.locator("#phone").fill(phone);
    await page.locator("#send-code").click();
    await page.locator("#code").waitFor({ state: "visible" });
    await page.locator("#code").fill(await waitForCode(phone));
    await page.locator("#verify").click();
    await page.locator("#dash").waitFor({ state: "visible" });

    await page.locator("#try-provider").selectOption("deepgram");
    await page.locator("#try-start").click();
    // The mock's transcript of the first whole second: "word1 word2".
    // On a failure, what the page said (an error event, a refused token) is in the message.
    const said = async () => `${await page.locator("#try-final").textContent()} | msg: ${await page.locator("#try-msg").textContent()}`;
    await expect.poll(said, { timeout: 20_000 }).toMatch(/^word1 word2/);
    await expect.poll(() => page.locator("#try-usage").textContent(), { timeout: 20_000 }).toMatch(/ s · /);
    await page.locator("#try-stop").click();
    await expect.poll(() => page.locator("#try-msg").textContent(), { timeout: 20_000 }).toBe("Stopped.");

    const rec = await upstreamSession("deepgram", "/v1/listen");
    expect([rec.key, rec.query.encoding, rec.query.sample_rate, rec.protocolErrors]).toEqual([
      "platform-deepgram-key",
      "linear16",
      "16000",
      [],
    ]);
    expect(rec.audioSeconds).toBeGreaterThan(1);
    const usage = await settled(
      () => page.evaluate(async () => (await fetch("/portal/api/usage")).json()) as Promise<any>,
      (u) => u.breakdown?.stt > 0,
    );
    expect(usage.breakdown.stt).toBeGreaterThan(0);
  });
});
