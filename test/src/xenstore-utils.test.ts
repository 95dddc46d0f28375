// Debian's xenstore-utils (libxenstore, unmodified) against our xenstored through XENSTORED_PATH.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { tempDir, waitFor } from "@xensim/testkit";
import { haveBinary, startXenstored, type XensimProcess, xenstoreTool } from "./harness.js";

const skip = haveBinary("xenstore-read")
  ? false
  : "xenstore-utils not installed (apt-get install xenstore-utils)";

describe("real xenstore-utils against xensim xenstored", { skip }, () => {
  const dir = tempDir("xensim-xsutils-");
  const socket = join(dir.path, "socket");
  let xenstored: XensimProcess;
  const xs = (tool: string, ...args: string[]) => xenstoreTool(socket, tool, args);

  before(async () => {
    xenstored = await startXenstored({ socket, stateDir: join(dir.path, "state") });
  });
  after(async () => {
    await xenstored?.stop();
    dir.cleanup();
  });

  it("xenstore-write then xenstore-read", () => {
    let r = xs("xenstore-write", "/vm/test/name", "guest-1", "/vm/test/memory", "512");
    assert.equal(r.status, 0, r.stderr);
    r = xs("xenstore-read", "/vm/test/name", "/vm/test/memory");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "guest-1\n512\n");
  });

  it("xenstore-read of a missing node fails", () => {
    const r = xs("xenstore-read", "/no/such/node");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /couldn't read path/);
  });

  it("xenstore-exists", () => {
    assert.equal(xs("xenstore-exists", "/vm/test/name").status, 0);
    assert.notEqual(xs("xenstore-exists", "/vm/test/nothing").status, 0);
  });

  it("xenstore-list and xenstore-ls", () => {
    let r = xs("xenstore-list", "/vm/test");
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").sort(), ["memory", "name"]);
    r = xs("xenstore-ls", "/vm");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /test = ""/);
    assert.match(r.stdout, /name = "guest-1"/);
    assert.match(r.stdout, /memory = "512"/);
  });

  it("xenstore-chmod and xenstore-ls -p show permissions", () => {
    let r = xs("xenstore-chmod", "/vm/test/name", "n5", "r7");
    assert.equal(r.status, 0, r.stderr);
    r = xs("xenstore-ls", "-p", "/vm/test");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /name = "guest-1"[ .]*\(n5,r7\)/);
  });

  it("xenstore-rm removes a subtree", () => {
    assert.equal(xs("xenstore-write", "/tmp-tree/a/b/c", "1").status, 0);
    const r = xs("xenstore-rm", "/tmp-tree");
    assert.equal(r.status, 0, r.stderr);
    assert.notEqual(xs("xenstore-exists", "/tmp-tree/a").status, 0);
  });

  it("bad paths get xenstored's errors", () => {
    const r = xs("xenstore-write", "/bad//path", "x");
    assert.notEqual(r.status, 0);
  });

  it("xenstore-watch sees the initial event and a later write", async () => {
    const w = spawn("xenstore-watch", ["-n", "2", "/vm/watched"], {
      env: { ...process.env, XENSTORED_PATH: socket },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    w.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => w.once("exit", (c) => r(c)));
    await waitFor(() => out.includes("/vm/watched"), { timeoutMs: 5000, message: "initial watch event" });
    assert.equal(xs("xenstore-write", "/vm/watched/key", "v").status, 0);
    assert.equal(await exited, 0);
    const lines = out.trim().split("\n");
    assert.equal(lines.length, 2);
    assert.equal(lines[0], "/vm/watched");
    assert.equal(lines[1], "/vm/watched/key");
  });
});
