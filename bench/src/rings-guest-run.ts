// One ring-size run of `xensim bench rings` in the guest: a blkfront on a vbd the toolstack side
// created, a fio-shaped job on it, the frontend's kick count. Shared by host A of the distributed
// placement (the guest beside the hypervisor) and host G of the three-host one.
import type { GuestKernel } from "@xensim/guest";
import { type RwPattern, runJob } from "@xensim/workload";
import type { XenstoreClient } from "@xensim/xenstore-client";

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

const env = { nowNs: () => performance.now() * 1e6, defer: (fn: () => void) => setImmediate(fn) };

export async function runOnVbd(
  kernel: GuestKernel,
  xs: XenstoreClient,
  devid: number,
  c: RingsHostARun,
  who: string,
): Promise<Record<string, unknown>> {
  const front = await kernel.openBlkfront(xs, devid, {
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
      warn: (o: object, m: string) => console.error(`${who} blkfront: ${m} ${JSON.stringify(o)}`),
      error: (o: object, m: string) => console.error(`${who} blkfront: ${m} ${JSON.stringify(o)}`),
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
      devid,
      ringInfo,
      job,
      frontSent: front.stats.notificationsSent - before.notificationsSent,
      completed: front.stats.completed - before.completed,
    };
  } finally {
    await front.close();
  }
}
