// Self-test of the realtime (WebSocket) mock providers: node test/mocks/realtime-selftest.mjs
// (exit code 1 on any failure). Every protocol, bad keys, every ws_* fault, and the official openai SDK
// realtime client. Everything runs against 127.0.0.1.

import { startMockProviders } from "./providers.mjs";
import faultCases from "./realtime/selftest/faults.mjs";
import { control } from "./realtime/selftest/lib.mjs";
import listenCases from "./realtime/selftest/listen.mjs";
import openaiCases from "./realtime/selftest/openai.mjs";
import speakCases from "./realtime/selftest/speak.mjs";

const mock = await startMockProviders({ port: 0, specCheck: false });
let passed = 0;
const failures = [];

async function test(name, fn) {
  try {
    await fn();
    passed += 1;
  } catch (err) {
    failures.push(`${name}: ${err.message}`);
  }
}

const context = {
  test,
  mock,
  U: mock.baseUrls,
  ws: (name) => mock.baseUrls[name].replace(/^http/, "ws"),
  ctl: control(mock.origin),
};
for (const cases of [listenCases, speakCases, openaiCases, faultCases]) await cases(context);

await mock.close();
for (const f of failures) console.log(`FAIL  ${f}`);
console.log(`\n${passed} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
