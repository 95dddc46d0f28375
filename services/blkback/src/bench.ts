// Ring page count benchmark: one guest, one vbd on a modelled wide storage array, a closed loop
// that keeps the whole ring busy (queue depth = ring size) with random 4 KiB reads, for 1 and 64
// ring pages. Prints one JSON object per configuration.
//   node services/blkback/dist/bench.js [seconds=3] [profile=iscsi-array]
import { performance } from "node:perf_hooks";
import { BLKIF_RSP_OKAY, BlkifOp } from "@xensim/abi";
import { BlkbackDriver } from "@xensim/blkback";
import { type ArrayProfileName, openStore, predictIops } from "@xensim/blkstore";
import { startEnv } from "./testing/env.js";
import { TestFrontend } from "./testing/frontend.js";

const seconds = Number(process.argv[2] ?? "3");
const profile = process.argv[3] ?? "iscsi-array";
const SIZE_SECTORS = (1024 * 1024 * 1024) / 512;

const env = await startEnv({ blkback: false });
try {
  const guest = await env.guest(32);
  const driver = await BlkbackDriver.start({
    store: env.xs,
    hv: env.xc0,
    openStore: (params) => openStore(params),
    clock: () => performance.now(),
  });
  let gfn = 0x100;
  let ref = 16;
  let devid = 51712;
  for (const order of [0, 6]) {
    const dirs = await env.addVbd({
      frontend: guest.domid,
      vdev: String(devid),
      params: `array:profile=${profile},size=1G,seed=7,data=null`,
    });
    devid += 16;
    const f = await TestFrontend.connect({
      xs: env.xs,
      xc: guest.xc,
      events: guest.events,
      domid: guest.domid,
      frontendPath: dirs.frontendPath,
      backendPath: dirs.backendPath,
      gfnBase: gfn,
      refBase: ref,
      ringPageOrder: order,
      dataPages: 1,
      persistent: true,
    });
    gfn += 2 ** order + 1;
    ref += 2 ** order + 1;
    const depth = f.rings[0]!.size;
    let rnd = 12345;
    let done = 0;
    let errors = 0;
    let stop = false;
    const t0 = performance.now();
    const elu0 = performance.eventLoopUtilization();
    const worker = async (): Promise<void> => {
      while (!stop) {
        rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
        const sector = (rnd % (SIZE_SECTORS / 8)) * 8;
        const st = await f.rw(0, BlkifOp.READ, sector, [{ page: 0, first: 0, last: 7 }]);
        if (st === BLKIF_RSP_OKAY) done++;
        else errors++;
      }
    };
    const workers = Array.from({ length: depth }, () => worker());
    await new Promise((r) => setTimeout(r, seconds * 1000));
    stop = true;
    await Promise.all(workers);
    const elapsed = (performance.now() - t0) / 1000;
    const elu = performance.eventLoopUtilization(elu0).utilization;
    const stats = driver.devices.get(dirs.backendPath)!.ringInfos()[0]!.stats;
    console.log(
      JSON.stringify({
        bench: "blkback-ring-pages",
        profile,
        ringPages: 2 ** order,
        queueDepth: depth,
        seconds: Number(elapsed.toFixed(2)),
        iops: Math.round(done / elapsed),
        /** The array model's own prediction at this queue depth (blkstore predictIops). */
        predictedIops: Math.round(predictIops(profile as ArrayProfileName, depth)),
        errors,
        meanLatencyMs: Number(((stats.latency.sum / stats.latency.count) * 1000).toFixed(3)),
        maxOutstanding: stats.maxOutstanding,
        /** Event-loop utilisation of this thread (frontend, backend and array model all run here). */
        eventLoopUtilization: Number(elu.toFixed(2)),
        notificationsSent: stats.notificationsSent,
        notificationsSuppressed: stats.notificationsSuppressed,
      }),
    );
    f.close();
  }
  await driver.close();
} finally {
  await env.close();
}
