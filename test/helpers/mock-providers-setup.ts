// vitest globalSetup (runs in Node): start the mock providers on the port the config chose.
// @ts-expect-error plain JS module
import { startMockProviders } from "../mocks/providers.mjs";

export default async function setup() {
  const port = Number(process.env.VOXGATE_MOCK_PORT);
  const mocks = await startMockProviders({ port });
  return async () => {
    await mocks.close();
  };
}
