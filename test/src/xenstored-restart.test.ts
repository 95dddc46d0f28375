// kill -9 of xenstored during a stream of writes and transactions: after a restart the tree is
// intact, every acknowledged write is there, and the client library reconnected and re-registered
// its watches by itself.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { seededRandom, sleep, tempDir, testSeed, waitFor } from "@xensim/testkit";
import { connectXenstore, type WatchEvent } from "@xensim/xenstore-client";
import { startXenstored, type XensimProcess } from "./harness.js";

describe("xenstored kill -9 and restart", () => {
  const dir = tempDir("xensim-restart-");
  after(() => dir.cleanup());

  it("keeps every acknowledged write and transaction through two kill -9s", async (t) => {
    const seed = testSeed();
    const rnd = seededRandom(seed);
    const socket = join(dir.path, "socket");
    const stateDir = join(dir.path, "state");
    let xenstored: XensimProcess = await startXenstored({ socket, stateDir });
    t.after(() => xenstored.kill9());
    const client = await connectXenstore({ socket });
    const acked = new Map<string, string>();
    const ackedTx: string[] = [];
    const events: WatchEvent[] = [];
    const watch = await client.watch("/data", "data-watch");
    void (async () => {
      for await (const ev of watch) events.push(ev);
    })();

    let stop = false;
    const writer = (async () => {
      let i = 0;
      while (!stop) {
        i++;
        if (i % 5 === 0) {
          const id = `tx${i}`;
          await client.transaction(async (tx) => {
            const n = Number((await tx.tryRead("/counter")) ?? "0");
            await tx.write("/counter", String(n + 1));
            await tx.write(`/txlog/${n + 1}`, id);
          });
          ackedTx.push(id);
        } else {
          const key = `/data/k${i}`;
          const value = `v${i}-${rnd.int(1_000_000)}`;
          await client.write(key, value);
          acked.set(key, value);
        }
      }
    })();

    for (let round = 0; round < 2; round++) {
      await sleep(300 + rnd.int(300));
      const before = acked.size + ackedTx.length;
      await xenstored.kill9();
      xenstored = await startXenstored({ socket, stateDir });
      // The writer resumes on its own once the client has reconnected.
      await waitFor(() => acked.size + ackedTx.length > before + 20, {
        timeoutMs: 20_000,
        message: `progress after restart ${round + 1} (seed ${seed})`,
      }).catch((err: Error) => {
        throw new Error(`${err.message}; xenstored said:\n${xenstored.output()}`);
      });
    }
    stop = true;
    await writer;

    assert.ok(acked.size > 50, `enough writes happened (${acked.size})`);
    for (const [k, v] of acked)
      assert.equal(await client.read(k), v, `acknowledged write ${k} (seed ${seed})`);
    // Each committed transaction appended one log entry and bumped the counter by one; a commit whose
    // reply was lost to the kill may have been retried, but never half-applied.
    const counter = Number(await client.read("/counter"));
    const log = await client.ls("/txlog");
    assert.equal(log.length, counter);
    const logged = new Set<string>();
    for (const n of log) logged.add(await client.read(`/txlog/${n}`));
    for (const id of ackedTx)
      assert.ok(logged.has(id), `acknowledged transaction ${id} committed (seed ${seed})`);

    // The watch was re-registered after each restart.
    const seen = events.length;
    await client.write("/data/after-restarts", "x");
    await waitFor(() => events.slice(seen).some((e) => e.path === "/data/after-restarts"), {
      timeoutMs: 5000,
      message: "watch event after restarts",
    });
    await watch.close();
    await client.close();
    await xenstored.stop();
  });
});
