// The xensim command as a user runs it: `xensim up` (what npm start runs) and the xenstore client
// commands.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { tempDir, waitFor } from "@xensim/testkit";
import { haveBinary, spawnXensim, startXenstored, XENSIM_BIN, xenstoreTool } from "./harness.js";

function xensim(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [XENSIM_BIN, ...args], { encoding: "utf8", timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("xensim up (npm start)", () => {
  const dir = tempDir("xensim-up-");
  after(() => dir.cleanup());

  it("brings up the embedded host, serves xenstore, and stops cleanly on SIGTERM", async () => {
    const stateDir = join(dir.path, "state");
    const up = spawnXensim(["up", "--state-dir", stateDir, "--api-port", "0", "--no-examples"]);
    await waitFor(() => up.output().includes("XENSTORED_PATH="), { timeoutMs: 20_000, message: "host up" });
    const socket = join(stateDir, "xenstored.sock");
    const healthUrl = /health: (http:\/\/[0-9.:]+)\/healthz/.exec(up.output())?.[1];
    assert.ok(healthUrl, up.output());
    const health = (await (await fetch(`${healthUrl}/healthz`)).json()) as { status: string };
    assert.equal(health.status, "ok");
    const metrics = await (await fetch(`${healthUrl}/metrics`)).text();
    assert.match(metrics, /xenstore_nodes/);
    assert.equal(xensim(["xenstore", "--socket", socket, "write", "/vm/up/name", "demo"]).status, 0);
    if (haveBinary("xenstore-read"))
      assert.equal(xenstoreTool(socket, "xenstore-read", ["/vm/up/name"]).stdout, "demo\n");
    assert.equal(await up.stop(), 0);
    assert.match(up.output(), /stopped/);
  });
});

describe("xensim xenstore client commands", () => {
  const dir = tempDir("xensim-cli-");
  after(() => dir.cleanup());

  it("read, write, ls, list, mkdir, chmod, perms, exists, rm, watch", async () => {
    const socket = join(dir.path, "socket");
    const xenstored = await startXenstored({ socket });
    const xs = (...args: string[]) => xensim(["xenstore", "--socket", socket, ...args]);
    try {
      assert.equal(xs("write", "/cli/a", "1", "/cli/b/c", "2").status, 0);
      assert.equal(xs("read", "/cli/a", "/cli/b/c").stdout, "1\n2\n");
      assert.equal(xs("list", "/cli").stdout, "a\nb\n");
      assert.equal(xs("ls", "/cli").stdout, 'a = "1"\nb = ""\n c = "2"\n');
      assert.equal(xs("mkdir", "/cli/empty").status, 0);
      assert.equal(xs("chmod", "/cli/a", "n3", "r0").status, 0);
      assert.equal(xs("perms", "/cli/a").stdout, "n3 r0\n");
      assert.equal(xs("exists", "/cli/empty").status, 0);
      assert.equal(xs("exists", "/cli/nope").status, 1);
      const missing = xs("read", "/cli/nope");
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /ENOENT/);
      const watch = spawnXensim(["xenstore", "--socket", socket, "watch", "/cli/w", "-n", "2"]);
      await waitFor(() => watch.output().includes("/cli/w "), {
        timeoutMs: 10_000,
        message: "first watch event",
      });
      assert.equal(xs("write", "/cli/w/x", "y").status, 0);
      await waitFor(() => watch.proc.exitCode !== null, {
        timeoutMs: 10_000,
        message: `watch exits: ${watch.output()}`,
      });
      assert.equal(watch.proc.exitCode, 0);
      assert.match(watch.output(), /\/cli\/w\/x /);
      assert.equal(xs("rm", "/cli").status, 0);
      assert.equal(xs("exists", "/cli/a").status, 1);
    } finally {
      await xenstored.stop();
    }
  });
});
