// Child process: the mock providers (test/mocks/providers.mjs) with spec checking off, on 127.0.0.1.
// Runs apart from the load generator so the two don't share an event loop. Prints {"origin": …} once
// listening; exits when its stdin closes (the harness died) or on SIGTERM.
import { startMockProviders } from "../../test/mocks/providers.mjs";

// Keep almost no request records: the benchmark never reads them, and a long list costs per request.
const mock = await startMockProviders({ port: 0, host: "127.0.0.1", specCheck: false, maxRecords: 1 });
process.stdout.write(`${JSON.stringify({ origin: mock.origin })}\n`);
const stop = () => mock.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
