// Host process A of `xensim bench rings --placement distributed` (started by rings-distributed.ts):
// hypervisor, xenstored and page-server, and a guest on A's memory whose blkfronts talk to the
// blkback of host B (the bench process) over A's link, as in test/src/fixtures/blk-cross-host-a.ts.
// argv[2]: JSON {nats, entries: {hypervisor, xenstored, pageServer}}.
// stdout: JSON lines — {hv, xs, domid} when ready; {done: pages, ...} per "run <json>" line; "stop".
import { createInterface } from "node:readline";
import { type RwPattern, runJob } from "@xensim/workload";
import { startFrontendHost } from "./frontend-host.js";

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
const a = await startFrontendHost({ ...arg, guestName: "bench-rings", guestMemoryMib: 384 });
const env = { nowNs: () => Number(process.hrtime.bigint()), defer: (fn: () => void) => setImmediate(fn) };

let disk = 0;
async function run(c: RingsHostARun): Promise<Record<string, unknown>> {
  const dirs = await a.addVbd({ vdev: `xvd${String.fromCharCode(97 + disk++)}`, params: c.params });
  const front = await a.kernel.openBlkfront(a.xs, dirs.devid, {
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
    await a.removeVbd(dirs);
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
      await a.stop();
      process.exit(0);
    }
  })();
});
console.log(
  JSON.stringify({
    hv: a.hypervisorAddress,
    xs: a.xenstoredAddress,
    domid: a.domid,
  }),
);
