// `npm run dev -- <wrangler dev args>` migrates the database wrangler dev will serve: with `--persist-to`
// (or another config or environment) the migrations went to the default .wrangler/state, and every route
// that touches D1 answered 500 (an audit).
import { describe, expect, it } from "vitest";
import { databaseArgs } from "../../scripts/dev-args.mjs";

describe("npm run dev: the migrations' arguments", () => {
  it("pass on --persist-to, --config and --env in either spelling, and nothing else", () => {
    expect(databaseArgs(["--port", "8787", "--persist-to", "/tmp/state", "--ip", "127.0.0.1"])).toEqual(["--persist-to", "/tmp/state"]);
    expect(databaseArgs(["--persist-to=/tmp/state", "-c", "other.toml", "--env=staging"])).toEqual([
      "--persist-to=/tmp/state",
      "-c",
      "other.toml",
      "--env=staging",
    ]);
    expect(databaseArgs(["--port", "8787", "--inspector-port", "9229"])).toEqual([]);
    // yargs's camelCase spelling; a flag without its value does not swallow the next one.
    expect(databaseArgs(["--persistTo", "/tmp/s", "--persist-to", "--port", "8787"])).toEqual(["--persistTo", "/tmp/s"]);
  });
});
