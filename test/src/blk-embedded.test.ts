// blkfront ↔ ring ↔ blkback ↔ store on one embedded host (hypervisor, xenstored and blkback in worker
// threads; the guest's kernel and blkfront in this thread): every negotiated feature on and off in
// combination, each disk checked by a crc32c write-verify job.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Blkfront } from "@xensim/blkfront";
import { runJob, type JobEnv } from "@xensim/workload";
import { type BlkHost, startBlkHost } from "./blk-harness.js";

const env: JobEnv = { nowNs: () => Number(process.hrtime.bigint()), defer: (fn) => setImmediate(fn) };

describe("block I/O on one host process: pages × queues × persistent × indirect", () => {
  let h: BlkHost;
  before(async () => {
    h = await startBlkHost({ maxRingPageOrder: 6, maxQueues: 4, maxIndirectSegments: 256, persistent: true });
  });
  after(async () => {
    await h?.stop();
  });

  const combos: Array<{ order: number; queues: number; persistent: boolean; indirect: number }> = [];
  for (const order of [0, 1, 6])
    for (const queues of [1, 4])
      for (const persistent of [true, false])
        for (const indirect of [0, 64]) combos.push({ order, queues, persistent, indirect });

  it(`${combos.length} combinations negotiate as asked and pass write-verify`, async () => {
    const g = await h.guest("matrix", 128);
    let disk = 0;
    for (const c of combos) {
      const vdev = `xvd${String.fromCharCode(97 + disk++)}`;
      const devid = await h.addVbd({ frontend: g.domid, vdev, params: "memory:size=8M" });
      const front: Blkfront = await g.kernel.openBlkfront(g.xs, devid, {
        config: {
          maxRingPageOrder: c.order,
          maxQueues: c.queues,
          persistent: c.persistent,
          maxIndirectSegments: c.indirect,
        },
      });
      const info = await front.whenConnected();
      const label = JSON.stringify(c);
      assert.equal(info.sectors, (8 << 20) / 512, label);
      const neg = front.negotiated!;
      assert.ok(neg, label);
      assert.deepEqual(
        { pages: front.ringInfo.pages, queues: front.ringInfo.queues },
        { pages: 1 << c.order, queues: c.queues },
        `ring as negotiated: ${label}`,
      );
      // 64 KiB blocks: with indirect descriptors one request carries 16 segments; without, the
      // frontend splits them into requests of at most 11.
      const r = await runJob(
        front,
        { rw: "randrw", bs: 65536, iodepth: 16, ioLimit: 200, verify: "crc32c", seed: disk },
        env,
      );
      assert.equal(r.error, 0, `${label}: ${JSON.stringify(r.errors_by_status)}`);
      assert.equal(r.verify.failures_total, 0, `${label}: ${JSON.stringify(r.verify.failures)}`);
      assert.ok(r.verify.blocks_checked > 0, label);
      assert.equal(front.stats.protocolErrors, 0, label);
      // A second job: with persistent grants the bounce pages are mostly granted already (a queue's
      // pool may still grow by a batch); without, every segment is granted again.
      const grantsBefore = front.stats.dataGrants;
      const requestsBefore = front.stats.requests;
      const again = await runJob(front, { rw: "randread", bs: 65536, iodepth: 16, ioLimit: 100 }, env);
      assert.equal(again.error, 0, label);
      const newGrants = front.stats.dataGrants - grantsBefore;
      const newRequests = front.stats.requests - requestsBefore;
      if (c.persistent)
        assert.ok(
          newGrants < newRequests,
          `persistent grants reused: ${label} (${newGrants}/${newRequests})`,
        );
      else assert.ok(newGrants >= newRequests, `granted per request: ${label} (${newGrants}/${newRequests})`);
      await front.close();
      await h.removeVbd(g.domid, devid);
    }
  });
});
