// A backend restart: a second BlkbackDriver (run here in the test thread, not as the service) takes
// over a frontend that stays Connected, attaching at the indices on the ring page as Linux does, and
// answers the request the frontend queued while no backend was there.
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { describe, it } from "node:test";
import { BLKIF_RSP_OKAY, XenbusState } from "@xensim/abi";
import { BlkbackDriver } from "@xensim/blkback";
import type { BlockStore } from "@xensim/blkif";
import { MemoryStore } from "@xensim/blkstore";
import { startEnv } from "./testing/env.js";
import { TestFrontend } from "./testing/frontend.js";

function pattern(bytes: number, seed: number): Uint8Array {
  const a = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) a[i] = (i * 13 + seed) & 0xff;
  return a;
}

describe("blkback restart", () => {
  it("a new driver takes over a Connected frontend and answers what was queued meanwhile", async () => {
    const env = await startEnv({ blkback: false });
    try {
      const guest = await env.guest(8);
      const mem = new MemoryStore({ sizeBytes: 4 * 1024 * 1024 });
      // The disk outlives the driver (its close is the driver's business, not the disk's).
      const disk: BlockStore = {
        info: mem.info,
        submit: (io, done) => mem.submit(io, done),
        close: async () => {},
      };
      const start = () =>
        BlkbackDriver.start({
          store: env.xs,
          hv: env.xc0,
          openStore: async () => disk,
          clock: () => performance.now(),
        });
      const d1 = await start();
      const dirs = await env.addVbd({ frontend: guest.domid, vdev: "xvda", params: "memory:size=4M" });
      const f = await TestFrontend.connect({
        xs: env.xs,
        xc: guest.xc,
        events: guest.events,
        domid: guest.domid,
        frontendPath: dirs.frontendPath,
        backendPath: dirs.backendPath,
        gfnBase: 0x100,
        refBase: 16,
        ringPageOrder: 1,
        dataPages: 8,
      });
      const a = pattern(2 * 4096, 1);
      // Go round the ring once or more so the restart attaches at non-zero indices.
      for (let i = 0; i < 70; i++) assert.equal(await f.write(0, 0, a), BLKIF_RSP_OKAY);
      await d1.close();
      assert.equal(await env.xs.read(`${dirs.frontendPath}/state`), String(XenbusState.Connected));

      const b = pattern(4096, 2);
      const queued = f.write(0, 64, b);
      const d2 = await start();
      try {
        assert.equal(await queued, BLKIF_RSP_OKAY);
        await f.waitBackend([XenbusState.Connected]);
        assert.deepEqual((await f.read(0, 64, 1)).data, b);
        assert.deepEqual((await f.read(0, 0, 2)).data, a);
        const ring = d2.rings()[0]!;
        assert.ok(ring.stats.requests >= 3);
        assert.equal(ring.stats.outstanding, 0);
      } finally {
        f.close();
        await d2.close();
      }
    } finally {
      await env.close();
    }
  });
});
