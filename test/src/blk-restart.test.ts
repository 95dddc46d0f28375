// Write-verify while blkback is killed (its worker terminated mid-I/O, no stop hook) and started
// again, then stopped cleanly and started again: the new backend attaches to the live rings, every
// request gets exactly one response, and no acknowledged write is lost (crc32c verify with
// generations, then a read-back of every written block).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { waitFor } from "@xensim/testkit";
import { type JobEnv, runJob } from "@xensim/workload";
import { type BlkHost, startBlkHost } from "./blk-harness.js";

// The job's clock: real time until `endJob` moves it past the job's end (the job runs until both
// restarts are seen through, however long a loaded machine takes for them).
let jobClockSkewNs = 0;
const env: JobEnv = {
  nowNs: () => Number(process.hrtime.bigint()) + jobClockSkewNs,
  defer: (fn) => setImmediate(fn),
};
const JOB_RUNTIME_MS = 600_000;
const endJob = (): void => {
  jobClockSkewNs += JOB_RUNTIME_MS * 1e6;
};

const suite = (
  name: string,
  queueThreads: boolean,
  cases: readonly { order: number; queues: number; persistent: boolean }[],
) =>
  describe(name, () => {
    let h: BlkHost;
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "xensim-blk-restart-"));
      h = await startBlkHost({
        maxRingPageOrder: 6,
        maxQueues: 4,
        maxIndirectSegments: 64,
        params: { fileDir: dir },
        queueThreads,
      });
    });
    after(async () => {
      await h?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    for (const c of cases) {
      it(`ring ${1 << c.order} page(s) × ${c.queues} queue(s), persistent ${c.persistent}`, async () => {
        const g = await h.guest(`restart-${c.order}-${c.queues}-${queueThreads}`, 64);
        const devid = await h.addVbd({
          frontend: g.domid,
          vdev: "xvda",
          params: `file:path=${join(dir, `disk-${c.order}-${c.queues}-${queueThreads}.raw`)},size=16M`,
        });
        const front = await g.kernel.openBlkfront(g.xs, devid, {
          config: { maxRingPageOrder: c.order, maxQueues: c.queues, persistent: c.persistent },
        });
        await front.whenConnected();
        const job = runJob(
          front,
          {
            rw: "randrw",
            bs: 8192,
            iodepth: 16,
            runtimeMs: JOB_RUNTIME_MS,
            verify: "crc32c",
            seed: 11 + c.order,
          },
          env,
        );
        // Let I/O flow, kill the backend mid-I/O, let it come back, then a clean restart.
        await waitFor(() => front.stats.completed > 200, { timeoutMs: 10_000, message: "I/O flowing" });
        const inFlightAtKill = front.stats.inFlight;
        await h.host.restartService("blkback", { kill: true });
        assert.ok(inFlightAtKill > 0, "requests were on the ring when the backend died");
        const afterKill = front.stats.completed;
        await waitFor(() => front.stats.completed > afterKill + 200, {
          timeoutMs: 15_000,
          message: "I/O flows again after the kill",
        });
        await h.host.restartService("blkback");
        const afterStop = front.stats.completed;
        await waitFor(() => front.stats.completed > afterStop + 200, {
          timeoutMs: 15_000,
          message: "I/O flows again after the clean restart",
        });
        endJob();
        const r = await job;
        assert.equal(r.error, 0, JSON.stringify(r.errors_by_status));
        assert.equal(r.verify.failures_total, 0, JSON.stringify(r.verify.failures));
        assert.ok(r.verify.blocks_checked > 100, `checked ${r.verify.blocks_checked}`);
        const st = front.stats;
        assert.equal(st.submitted, st.completed, "every I/O completed exactly once");
        assert.equal(st.protocolErrors, 0);
        assert.equal(st.inFlight, 0);
        await front.close();
        await h.removeVbd(g.domid, devid);
      });
    }
  });

suite("blkback killed and restarted under write-verify", false, [
  { order: 0, queues: 1, persistent: true },
  { order: 2, queues: 4, persistent: false },
]);
// Queues 1–3 on threads of their own: the kill takes the threads with the service's worker, the
// mapper ledger they share releases their grants, and the new backend's threads attach to the rings.
suite("blkback with queue threads killed and restarted under write-verify", true, [
  { order: 2, queues: 4, persistent: true },
]);
