// vitest globalSetup (runs in Node): the mock Twilio that receives the portal's sign-in codes, on the
// port test-config chose (the worker's TWILIO_BASE_URL points there). Workerd tests read the codes
// from `${env.TWILIO_BASE_URL}/__twilio/messages`; Node tests get its origin as inject("twilioOrigin").
import type { TestProject } from "vitest/node";
// @ts-expect-error plain JS module
import { startMockTwilio } from "../mocks/twilio.mjs";
import { TEST_TWILIO, twilioPort } from "./test-config";

declare module "vitest" {
  export interface ProvidedContext {
    twilioOrigin: string;
  }
}

export default async function setup(project: TestProject) {
  const twilio = await startMockTwilio({ port: await twilioPort(), accountSid: TEST_TWILIO.accountSid, authToken: TEST_TWILIO.authToken });
  project.provide("twilioOrigin", twilio.origin);
  return async () => {
    await twilio.close();
  };
}
