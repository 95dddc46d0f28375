// Worker for the multi-thread test: either a granter granting / ending access to refs in a loop,
// or a mapper mapping / unmapping them, all through one shared PageStore.
import { parentPort, workerData } from "node:worker_threads";
import { GNTMAP_host_map, GNTMAP_readonly, GNTST_okay } from "@xensim/abi";
import { PageStore } from "@xensim/memory";
import { GrantTables } from "../grant-table.js";
import { endForeignAccess, grantAccess } from "../shared-entry.js";

interface Job {
  buffer: SharedArrayBuffer;
  role: "granter" | "mapper";
  granter: number;
  mapper: number;
  refs: number[];
  gfn0: number;
  rounds: number;
  seed: number;
  /** Start barrier: Int32 [0] counts arrivals; everyone starts when it reaches `parties`. */
  barrier: SharedArrayBuffer;
  parties: number;
}
const job = workerData as Job;
const bar = new Int32Array(job.barrier);
Atomics.add(bar, 0, 1);
Atomics.notify(bar, 0);
for (let v = Atomics.load(bar, 0); v < job.parties; v = Atomics.load(bar, 0)) Atomics.wait(bar, 0, v, 100);
const gt = new GrantTables(PageStore.attach(job.buffer));
let x = job.seed >>> 0 || 1;
const rnd = (n: number) => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>> 0) % n;
};
const out = { maps: 0, mapFails: 0, unmaps: 0, ends: 0, endFails: 0, violations: 0 };
if (job.role === "granter") {
  const table = gt.sharedView(job.granter);
  // The main thread granted every ref before starting the workers.
  const granted = new Set<number>(job.refs);
  for (let i = 0; i < job.rounds; i++) {
    const ref = job.refs[rnd(job.refs.length)]!;
    if (!granted.has(ref)) {
      grantAccess(table, ref, job.mapper, job.gfn0 + (ref % 4), rnd(2) === 0);
      granted.add(ref);
    } else if (endForeignAccess(table, ref)) {
      out.ends++;
      granted.delete(ref);
      // Ended access means nobody holds a pin, and nobody can take one until the next grant.
      if (gt.activePin(job.granter, ref) !== 0) out.violations++;
    } else out.endFails++;
  }
  // Leave every ref ended so the main thread can check a clean table.
  for (const ref of granted) while (!endForeignAccess(table, ref));
} else {
  const live: number[] = [];
  for (let i = 0; i < job.rounds; i++) {
    if (live.length > 0 && rnd(2) === 0) {
      const h = live.splice(rnd(live.length), 1)[0]!;
      const st =
        rnd(2) === 0 ? gt.unmapGrantRef(job.mapper, { handle: h }) : gt.unmapGrantRefHandle(job.mapper, h);
      if (st === GNTST_okay) out.unmaps++;
      else out.violations++;
    } else {
      const ref = job.refs[rnd(job.refs.length)]!;
      const ro = rnd(2) === 0;
      const flags = GNTMAP_host_map | (ro ? GNTMAP_readonly : 0);
      // Half the maps through the object-free API (the handle or the status; the frame beside).
      let r: { status: number; handle: number; frame: number };
      if (rnd(2) === 0) r = gt.mapGrantRef(job.mapper, { dom: job.granter, ref, flags });
      else {
        const h = gt.mapGrantRefHandle(job.mapper, job.granter, ref, flags);
        r =
          h < 0
            ? { status: h, handle: -1, frame: 0 }
            : { status: GNTST_okay, handle: h, frame: gt.lastMappedFrame };
      }
      if (r.status === GNTST_okay) {
        out.maps++;
        live.push(r.handle);
        if (r.frame !== gt.store.gfnToFrame(job.granter, job.gfn0 + (ref % 4))) out.violations++;
      } else out.mapFails++;
    }
  }
  for (const h of live) if (gt.unmapGrantRef(job.mapper, { handle: h }) === GNTST_okay) out.unmaps++;
}
parentPort!.postMessage(out);
