// `xensim up` with a guest config (what npm start does with examples/) and the `xensim xl` commands
// against it, as a user runs them: the guest boots, its disk reaches Connected and its workload
// completes I/O; xl list, block-list, block-attach/-detach, a bad config, destroy; Ctrl-C stops all.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { tempDir, waitFor } from "@xensim/testkit";
import { spawnXensim, runXl } from "./harness.js";

const xl = (stateDir: string, args: string[]) => runXl(stateDir, args, 30_000);

describe("xensim up with a guest, driven by xensim xl", () => {
  const dir = tempDir("xensim-xl-");
  after(() => dir.cleanup());

  it("boots the example guest, serves xl's commands, and stops cleanly", async () => {
    const stateDir = join(dir.path, "state");
    const examples = join(dir.path, "examples");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(examples);
    writeFileSync(
      join(examples, "demo.cfg"),
      [
        'name = "demo"',
        "memory = 64",
        "vcpus = 1",
        "disk = [ 'format=raw, vdev=xvda, access=rw, target=memory:size=32M' ]",
        'on_poweroff = "destroy"',
        'xensim_workload = "rw=randrw,bs=4k,iodepth=8,size=8m,runtime=600,verify=crc32c"',
        "",
      ].join("\n"),
    );
    const up = spawnXensim(["up", "--state-dir", stateDir, "--api-port", "0", "--examples", examples]);
    try {
      await waitFor(() => /first guest I\/O completed (\d+) ms/.test(up.output()), {
        timeoutMs: 60_000,
        message: `first guest I/O: ${up.output()}`,
      });
      assert.match(up.output(), /created domain (\d+) \(demo\)/);

      const list = await xl(stateDir, ["list"]);
      assert.equal(list.status, 0, list.stderr);
      assert.match(list.stdout, /^Name\s+ID\s+Mem VCPUs\s+State\s+Time\(s\)/);
      assert.match(list.stdout, /Domain-0\s+0/);
      assert.match(list.stdout, /demo\s+\d+\s+64\s+1\s+/);

      const bl = await xl(stateDir, ["block-list", "demo"]);
      assert.equal(bl.status, 0, bl.stderr);
      assert.match(bl.stdout, /xvda\s+51712\s+0\s+Connected\/Connected/);
      assert.match(bl.stdout, /nbd\+unix:\/\//);

      const att = await xl(stateDir, [
        "block-attach",
        "demo",
        "format=raw, vdev=xvdb, access=rw, target=memory:size=4M",
      ]);
      assert.equal(att.status, 0, att.stderr);
      await waitFor(
        async () =>
          /xvdb\s+\d+\s+0\s+Connected\/Connected/.test((await xl(stateDir, ["block-list", "demo"])).stdout),
        { timeoutMs: 20_000, message: "xvdb Connected" },
      );
      const det = await xl(stateDir, ["block-detach", "demo", "xvdb"]);
      assert.equal(det.status, 0, det.stderr);
      assert.doesNotMatch((await xl(stateDir, ["block-list", "demo"])).stdout, /xvdb/);

      // A bad config is refused with its file and line, and creates nothing.
      const bad = join(dir.path, "bad.cfg");
      writeFileSync(bad, 'name = "bad"\nmemory = 64\nnonsense = 1\n');
      const r = await xl(stateDir, ["create", bad]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /bad\.cfg:3/);
      assert.doesNotMatch((await xl(stateDir, ["list"])).stdout, /\bbad\b/);

      const d = await xl(stateDir, ["destroy", "demo"]);
      assert.equal(d.status, 0, d.stderr);
      assert.doesNotMatch((await xl(stateDir, ["list"])).stdout, /\bdemo\b/);
      const missing = await xl(stateDir, ["destroy", "demo"]);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /invalid domain identifier/);
    } finally {
      assert.equal(await up.stop(), 0, up.output());
    }
    assert.match(up.output(), /stopped/);
  });
});
