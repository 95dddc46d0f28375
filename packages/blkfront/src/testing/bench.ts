// Microbenchmark of the data path: 4 KiB writes at a fixed queue depth through Blkfront and the test
// backend on the in-process host, per ring size and grant mode. One JSON line per case:
//   node packages/blkfront/dist/testing/bench.js [count=20000] [depth=256]
import { pattern, Rig } from "./rig.js";

const N = Number(process.argv[2] ?? 20000);
const QD = Number(process.argv[3] ?? 256);
const SECTORS = 65536;

for (const [order, persistent] of [
  [0, true],
  [4, true],
  [4, false],
  [6, true],
] as const) {
  const r = await Rig.start({
    sectors: SECTORS,
    front: { maxRingPageOrder: order, maxQueues: 1, persistent },
  });
  await r.front.whenConnected();
  const data = pattern(1, 4096);
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const go = (): void => {
      if (next >= N) return;
      const k = next++;
      r.front.submit({ op: "write", sector: (k * 8) % SECTORS, nrSectors: 8, segs: [data] }, () => {
        if (++done === N) resolve();
        else go();
      });
    };
    for (let i = 0; i < QD; i++) go();
  });
  const seconds = (performance.now() - t0) / 1000;
  const s = r.front.stats;
  console.log(
    JSON.stringify({
      bench: "blkfront-write-4k",
      ringPages: 2 ** order,
      persistent,
      depth: QD,
      ios: N,
      iops: Math.round(N / seconds),
      notificationsSent: s.notificationsSent,
      notificationsSuppressed: s.notificationsSuppressed,
      dataGrants: s.dataGrants,
    }),
  );
  await r.front.close();
}
