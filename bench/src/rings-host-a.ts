// Host process A of `xensim bench rings --placement distributed` (started by rings-distributed.ts):
// hypervisor, xenstored and page-server, and a guest on A's memory whose blkfronts talk to the
// blkback of host B (the bench process). The guest's XenCtrl publishes what it writes through A's
// page-server (publishVia), as in test/src/fixtures/blk-cross-host-a.ts.
// argv[2]: JSON {nats, entries: {hypervisor, xenstored, pageServer}}.
// stdout: JSON lines — {hv, xs, domid} when ready; {done: pages, ...} per "run <json>" line; "stop".
import { createInterface } from "node:readline";
import { applyVbdDirectories, vbdDirectories } from "@xensim/blkback";
import { connectNatsBus, createInProcessCallClient } from "@xensim/bus";
import { buildGuest, GuestKernel } from "@xensim/guest";
import { loadHypervisorProto, loadPageServerProto, loadXenstoreProto } from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { type RwPattern, runJob } from "@xensim/workload";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore } from "@xensim/xenstore-client";

export interface RingsHostARun {
  pages: number;
  queues: number;
  iodepth: number;
  bs: number;
  rw: RwPattern;
  params: string;
  durationMs: number;
  rampMs: number;
  seed: number;
}

const arg = JSON.parse(process.argv[2]!) as {
  nats: string;
  entries: { hypervisor: string; xenstored: string; pageServer: string };
};
const host = await startHost({
  hostId: "hostA",
  nats: arg.nats,
  services: [
    { name: "hypervisor", entry: arg.entries.hypervisor, config: {} },
    { name: "xenstored", entry: arg.entries.xenstored, config: {} },
    { name: "page-server", entry: arg.entries.pageServer, config: {} },
  ],
  sharedMemoryBytes: 1 << 30,
  logLevel: process.env.XENSIM_LOG_LEVEL ?? "warn",
});
await host.ready;
const bus = await connectNatsBus({ servers: arg.nats, name: "hostA-guest" });
const hv = createInProcessCallClient(
  loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
  "hypervisor",
);
const ps = createInProcessCallClient(
  loadPageServerProto().xensim.pageserver.v1.PageServer.service,
  "page-server",
);
const xsCalls = createInProcessCallClient(
  loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
  "xenstored",
);
const xs0 = await connectXenstore({ calls: xsCalls, bus, clientName: "toolstack" });
const xc0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory });
const g = await buildGuest(xc0, xs0, { name: "bench-rings", memoryMib: 384 });
const xc = new XenCtrl({
  domid: g.domid,
  calls: hv,
  store: host.sharedMemory,
  bus,
  isRemote: (d) => d === 0, // its backend (dom0's blkback) lives in host B
  publishVia: ps,
});
const kernel = new GuestKernel({ domid: g.domid, xc, bus, ramPages: g.ramPages, slowScanMs: 50 });
const xs = await kernel.connectXenstore(g.storeGfn, g.storePort);
const env = { nowNs: () => Number(process.hrtime.bigint()), defer: (fn: () => void) => setImmediate(fn) };

let disk = 0;
async function run(c: RingsHostARun): Promise<Record<string, unknown>> {
  const dirs = vbdDirectories({
    frontend: g.domid,
    vdev: `xvd${String.fromCharCode(97 + disk++)}`,
    params: c.params,
  });
  await xs0.transaction((tx) => applyVbdDirectories(tx, dirs));
  const front = await kernel.openBlkfront(xs, dirs.devid, {
    config: {
      maxRingPageOrder: Math.log2(c.pages),
      maxQueues: c.queues,
      persistent: true,
      maxIndirectSegments: 0,
    },
    maxDataPagesPerRing: Math.max(1024, Math.ceil(c.iodepth / c.queues) * Math.ceil(c.bs / 4096) + 64),
    log: {
      debug() {},
      info() {},
      warn: (o: object, m: string) => console.error(`host A blkfront: ${m} ${JSON.stringify(o)}`),
      error: (o: object, m: string) => console.error(`host A blkfront: ${m} ${JSON.stringify(o)}`),
    },
  });
  try {
    await front.whenConnected();
    const ringInfo = front.ringInfo;
    const before = { ...front.stats };
    const job = await runJob(
      front,
      {
        name: `${c.pages} page(s)`,
        rw: c.rw,
        bs: c.bs,
        iodepth: c.iodepth,
        runtimeMs: c.durationMs,
        rampMs: c.rampMs,
        seed: c.seed,
      },
      env,
    );
    return {
      devid: dirs.devid,
      ringInfo,
      job,
      frontSent: front.stats.notificationsSent - before.notificationsSent,
      completed: front.stats.completed - before.completed,
    };
  } finally {
    await front.close();
    await xs0.rm(dirs.frontendPath);
    await xs0.rm(dirs.backendPath);
  }
}

createInterface({ input: process.stdin }).on("line", (l) => {
  void (async () => {
    if (l.startsWith("run ")) {
      const c = JSON.parse(l.slice(4)) as RingsHostARun;
      try {
        console.log(JSON.stringify({ done: c.pages, result: await run(c) }));
      } catch (e) {
        console.log(JSON.stringify({ done: c.pages, error: e instanceof Error ? e.message : String(e) }));
      }
    } else if (l === "stop") {
      await kernel.close();
      await xs0.close();
      for (const c of [hv, ps, xsCalls]) c.close();
      await bus.close();
      await host.stop();
      process.exit(0);
    }
  })();
});
console.log(
  JSON.stringify({
    hv: host.services.get("hypervisor")!.grpcAddress,
    xs: host.services.get("xenstored")!.grpcAddress,
    domid: g.domid,
  }),
);
