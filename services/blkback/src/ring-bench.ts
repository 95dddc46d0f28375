// Microbenchmark of one BlkbackRing's data path (no hypervisor, no event channels): a frontend on
// the same thread fills the ring with 4 KiB-per-segment writes (a null store drops them: the cost measured is the transport's), the backend consumes, maps (a table of grants
// over real page-store memory), submits to a null store that completes at once, answers; repeat.
// Measures the backend's CPU cost per request. One JSON line per configuration.
//   node services/blkback/dist/ring-bench.js [requests=200000]
import { NULL_LOGGER } from "@xensim/xenbus";
import { performance } from "node:perf_hooks";
import { BLKIF_RING_ENTRY_BYTES, BlkifOp, GNTMAP_readonly, GNTST_bad_gntref, GNTST_okay } from "@xensim/abi";
import { BlkbackRing, type BlkbackHypervisor } from "@xensim/blkback";
import {
  encodeIndirectSegments,
  encodeRequest,
  newBlkifRequest,
  newSegments,
  setRequestSector,
} from "@xensim/blkif";
import { NullStore } from "@xensim/blkstore";
import { PageStore } from "@xensim/memory";
import { FrontRing } from "@xensim/ring";

const total = Number(process.argv[2] ?? "200000");
const FRONT = 1;

function hypervisor(ps: PageStore, grants: Map<number, number>): BlkbackHypervisor {
  let next = 1;
  const live = new Set<number>();
  return {
    mayElideKick: () => true,
    store: ps,
    async gnttabMapGrantRefs(_dom: number, refs: readonly number[], flags: number) {
      const results = refs.map((r) => {
        if (!grants.has(r)) return { status: GNTST_bad_gntref, handle: -1 };
        const handle = next++;
        live.add(handle);
        return { status: GNTST_okay, handle };
      });
      const view = ps.viewOfFrames(
        refs.map((r) => grants.get(r)!),
        { readonly: (flags & GNTMAP_readonly) !== 0 },
      );
      return { results, view };
    },
    async gnttabUnmap(handles: readonly number[]) {
      return handles.map((h) => (live.delete(h) ? GNTST_okay : -1));
    },
    kick: () => 0,
    waitForEvents: () => ({ close() {} }),
    evtchnAllocUnbound: async () => ({ rc: 0, port: 1 }),
    evtchnBindInterdomain: async () => ({ rc: 0, port: 1 }),
    evtchnClose: async () => 0,
    gnttabGrantAccess: async () => 0,
    gnttabEndAccess: async () => true,
  };
}

async function run(cfg: { pages: number; segs: number; persistent: boolean; indirect: boolean }) {
  const ps = PageStore.create({ frames: 2048 });
  ps.createDomain(FRONT, { maxPages: 1024 });
  const ringFrames = ps.populatePhysmap(FRONT, 0x10, cfg.pages, true)!;
  const dataFrames = ps.populatePhysmap(FRONT, 0x200, 64 + 8, false)!;
  const grants = new Map<number, number>();
  dataFrames.forEach((f, i) => grants.set(100 + i, f));
  const view = ps.viewOfFrames(ringFrames);
  const E = BLKIF_RING_ENTRY_BYTES.x86_64;
  const front = FrontRing.init(view, E, { nrPages: cfg.pages });
  const back = new BlkbackRing({
    hv: hypervisor(ps, grants),
    frontend: FRONT,
    view: ps.viewOfFrames(ringFrames),
    nrPages: cfg.pages,
    abi: "x86_64",
    port: 1,
    store: new NullStore({ sizeBytes: 1024 * 1024 * 1024 }),
    limits: {
      sectors: 2 * 1024 * 1024,
      readonly: false,
      maxIndirectSegments: 256,
      flush: false,
      barrier: false,
      discard: false,
      discardSecure: false,
    },
    persistent: cfg.persistent,
    clock: () => 0,
    log: NULL_LOGGER,
    onHalt: (_e, m) => {
      throw new Error(m);
    },
  });
  // Indirect descriptor page: the last data page, describing cfg.segs segments.
  const ind = newSegments(cfg.segs);
  ind.forEach((s, i) => ((s.gref = 100 + (i % 64)), (s.firstSect = 0), (s.lastSect = 7)));
  if (cfg.indirect) encodeIndirectSegments(ps.viewOfFrames([dataFrames[64]!]), 0, 0, ind, 0, cfg.segs);
  const req = newBlkifRequest();
  let sent = 0;
  let answered = 0;
  const t0 = performance.now();
  while (answered < total) {
    while (!front.full() && sent < total) {
      req.idLo = sent;
      setRequestSector(req, (sent * 8 * cfg.segs) % (1024 * 1024));
      if (cfg.indirect) {
        req.operation = BlkifOp.INDIRECT;
        req.indirectOp = BlkifOp.WRITE;
        req.nrSegments = cfg.segs;
        req.indirectGrefs[0] = 164;
      } else {
        req.operation = BlkifOp.WRITE;
        req.nrSegments = cfg.segs;
        for (let i = 0; i < cfg.segs; i++) {
          const s = req.segments[i]!;
          s.gref = 100 + ((sent + i) % 64);
          s.firstSect = 0;
          s.lastSect = 7;
        }
      }
      encodeRequest(view, front.nextRequest(), "x86_64", req);
      sent++;
    }
    front.pushRequests();
    back.kick();
    await new Promise((r) => setImmediate(r));
    const n = front.unconsumedResponses();
    front.consumeResponses(n);
    answered += n;
  }
  const secs = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      bench: "blkback-ring-datapath",
      ringPages: cfg.pages,
      segmentsPerRequest: cfg.segs,
      indirect: cfg.indirect,
      persistent: cfg.persistent,
      requests: total,
      requestsPerSecond: Math.round(total / secs),
      usPerRequest: Number(((secs * 1e6) / total).toFixed(2)),
      gibPerSecond: Number(((total * cfg.segs * 4096) / secs / 2 ** 30).toFixed(2)),
    }),
  );
}

for (const cfg of [
  { pages: 1, segs: 1, persistent: false, indirect: false },
  { pages: 1, segs: 1, persistent: true, indirect: false },
  { pages: 64, segs: 1, persistent: false, indirect: false },
  { pages: 64, segs: 1, persistent: true, indirect: false },
  { pages: 8, segs: 11, persistent: false, indirect: false },
  { pages: 8, segs: 11, persistent: true, indirect: false },
  { pages: 8, segs: 32, persistent: true, indirect: true },
])
  await run(cfg);
