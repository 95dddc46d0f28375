// `xensim up` refuses what would run unsafely or not at all (issue 14): a distributed host without
// credentials, and a guest runtime whose backends are in other host processes with no page-server to
// run the data-plane link to them (its disks would reach Connected and never complete an I/O).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { tempDir, waitFor } from "@xensim/testkit";
import { spawnXensim } from "./harness.js";

describe("xensim up refuses to start", () => {
  const dir = tempDir("xensim-up-guards-");
  after(() => dir.cleanup());
  const run = async (args: string[]) => {
    const p = spawnXensim(["up", "--state-dir", join(dir.path, "s"), "--no-examples", ...args]);
    await waitFor(() => p.proc.exitCode !== null, { timeoutMs: 30_000, message: `exit: ${p.output()}` });
    return { code: p.proc.exitCode, out: p.output() };
  };

  it("a distributed host without credentials (unless --insecure)", async () => {
    const r = await run(["--nats", "nats://127.0.0.1:1", "--services", "hypervisor,xenstored"]);
    assert.equal(r.code, 1);
    assert.match(
      r.out,
      /give credentials \(--keys DIR from `xensim keys init`, or \$XENSIM_KEYS\), or --insecure/,
    );
  });

  it("a distributed guest runtime with remote backends and no page-server", async () => {
    const r = await run([
      "--nats",
      "nats://127.0.0.1:1",
      "--insecure",
      "--services",
      "hypervisor,xenstored,guest,toolstack",
    ]);
    assert.equal(r.code, 1);
    assert.match(r.out, /needs this host's page-server for backends in other host processes/);
  });
});
