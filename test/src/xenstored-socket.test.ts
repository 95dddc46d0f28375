// The xenstored socket path (issue 14): a second xenstored on a path a live daemon serves refuses to
// start and leaves the first one alone (before, it took the path over and later unlinked it); a
// stale socket file left by a killed daemon is replaced.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { tempDir, waitFor } from "@xensim/testkit";
import { connectXenstore } from "@xensim/xenstore-client";
import { spawnXensim, startXenstored } from "./harness.js";

describe("xenstored socket path", () => {
  const dir = tempDir("xensim-socket-");
  after(() => dir.cleanup());

  it("a second xenstored on a socket in use refuses to start; the first keeps serving and keeps its socket", async (t) => {
    const socket = join(dir.path, "in-use.sock");
    const first = await startXenstored({ socket });
    t.after(() => first.kill9());
    const client = await connectXenstore({ socket });
    t.after(() => client.close());
    await client.write("/who", "first");

    const second = spawnXensim(["xenstored", "--socket", socket]);
    const code = await new Promise<number | null>((resolve) => second.proc.once("exit", (c) => resolve(c)));
    assert.notEqual(code, 0, "the second daemon exits with an error");
    assert.match(second.output(), /in use/);
    assert.ok(existsSync(socket), "the socket file is still there");
    assert.equal(await client.read("/who"), "first", "the first daemon still serves its clients");
    const fresh = await connectXenstore({ socket });
    assert.equal(await fresh.read("/who"), "first", "new clients still reach the first daemon");
    await fresh.close();
  });

  it("a stale socket file from a killed daemon is replaced", async (t) => {
    const socket = join(dir.path, "stale.sock");
    const killed = await startXenstored({ socket });
    await killed.kill9();
    assert.ok(existsSync(socket), "kill -9 leaves the socket file behind");
    const next = await startXenstored({ socket });
    t.after(() => next.kill9());
    const client = await connectXenstore({ socket });
    await client.write("/who", "next");
    assert.equal(await client.read("/who"), "next");
    await client.close();
    assert.equal(await next.stop(), 0);
    await waitFor(() => !existsSync(socket), {
      timeoutMs: 5000,
      message: "a clean stop removes its own socket",
    });
  });
});
