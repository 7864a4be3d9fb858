// vitest globalSetup (runs in Node): the webhook receiver (test/mocks/webhook-receiver.mjs) on the port
// the config chose; workerd tests reach it as env.TEST_WEBHOOK_ORIGIN (127.0.0.1 is on WEBHOOK_ALLOW_HOSTS).
// @ts-expect-error plain JS module
import { startWebhookReceiver } from "../mocks/webhook-receiver.mjs";

export default async function setup() {
  const receiver = await startWebhookReceiver({ port: Number(process.env.VOXGATE_WEBHOOK_PORT) });
  return async () => {
    await receiver.close();
  };
}
