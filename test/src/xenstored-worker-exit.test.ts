// A worker killed while it holds xenstore sessions (its watches): the host says the worker exited
// and xenstored closes that worker's in-process sessions at once, as C xenstored drops a client
// whose socket closed. Without the notice the dead worker's watches stay until the session lease
// runs out (set to 10 minutes here, so only the notice can explain their going).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { startHost } from "@xensim/runtime";
import { connectXenstore } from "@xensim/xenstore-client";
import { serviceEntryPath } from "./harness.js";

describe("xenstored: a killed worker's sessions", { timeout: 120_000 }, () => {
  it("close when its host says it exited (its watches go with them, not at lease expiry)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xensim-worker-exit-"));
    const socket = join(dir, "xenstored.sock");
    const host = await startHost({
      services: [
        { name: "hypervisor", entry: serviceEntryPath("hypervisor"), config: {} },
        {
          name: "xenstored",
          entry: serviceEntryPath("xenstored"),
          config: { socket, sessionLeaseMs: 600_000 },
        },
        { name: "blkback", entry: serviceEntryPath("blkback"), config: {} },
      ],
      logLevel: "fatal",
    });
    try {
      await host.ready;
      const xs = await connectXenstore({ socket });
      try {
        // blkback's own watches: every watch not of this test's socket connection
        const watches = async (): Promise<string[]> =>
          (await xs.control("watches")).split("\n").filter((l) => l !== "" && /backend/.test(l));
        let before: string[] = [];
        for (let i = 0; i < 100 && before.length === 0; i++) {
          before = await watches();
          if (before.length === 0) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(before.length > 0, "blkback watches its backend directory");
        await host.restartService("blkback", { kill: true });
        // the new worker watches again; the dead one's watches must be gone well before 10 minutes
        let after: string[] = [];
        const deadline = Date.now() + 20_000;
        for (;;) {
          after = await watches();
          if (after.length === before.length || Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(
          after.length,
          before.length,
          `the killed worker's watches are gone: before ${JSON.stringify(before)} after ${JSON.stringify(after)}`,
        );
        // and it stays so (the new worker's watches are in place: restartService waited for it)
        await new Promise((r) => setTimeout(r, 1000));
        assert.equal((await watches()).length, before.length);
      } finally {
        await xs.close();
      }
    } finally {
      await host.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
