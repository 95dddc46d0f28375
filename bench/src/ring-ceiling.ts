// The raw shared-ring ceiling: what a blkif-sized ring alone can move between two threads, with
// nothing of the block path around it. The frontend (this thread) keeps `depth` requests in flight
// on a FrontRing over frames of a PageStore's SharedArrayBuffer; a worker thread's BackRing answers
// each at once (ring-ceiling-worker.ts). Both ends use the ring's own notification protocol
// (req_event / rsp_event, RING_FINAL_CHECK_FOR_*) and sleep with Atomics.wait on a doorbell word,
// rung with Atomics.notify only when the other end asked to be told. No grants, no event channels,
// no blkif encoding, no store, no promises: the ceiling the full stack is measured against.
import { Worker } from "node:worker_threads";
import { PageStore } from "@xensim/memory";
import { copyOut, FrontRing } from "@xensim/ring";
import { round } from "./stats.js";

/** sizeof(union blkif_sring_entry): a blkif_request (112 bytes on x86_64). */
export const BLKIF_ENTRY_BYTES = 112;

/** Control words of the ceiling's control buffer: doorbell front → back, back → front, stop flag. */
export const CTL_TO_BACK = 0;
export const CTL_TO_FRONT = 1;
export const CTL_STOP = 2;

export interface RingCeilingWorkerData {
  sab: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  frames: number[];
  entryBytes: number;
}

export interface RingCeilingOptions {
  /** Ring size in pages (1..64). */
  pages: number;
  /** Requests kept in flight (clamped to the ring's slots). */
  depth: number;
  durationMs: number;
  rampMs?: number;
}

export interface RingCeilingFigures {
  pages: number;
  ring_slots: number;
  depth: number;
  /** Request/response round trips per second. */
  iops: number;
  /** Mean time a request spends in flight (Little: depth ÷ throughput), µs. */
  mean_latency_us: number;
  /** Doorbell rings per completed request, both directions. */
  notifications_per_io: number;
  completed: number;
  seconds: number;
}

/** RING_SIZE of a blkif ring of `pages` pages (__RING_SIZE: the largest power of two that fits). */
export function blkifRingSlots(pages: number): number {
  const fit = Math.floor((pages * 4096 - 64) / BLKIF_ENTRY_BYTES);
  return 2 ** Math.floor(Math.log2(fit));
}

export async function runRingCeiling(options: RingCeilingOptions): Promise<RingCeilingFigures> {
  const store = PageStore.create({ frames: 256 });
  const frames = store.allocFrames(0x7ff2 /* DOMID_XEN */, options.pages, true);
  if (!frames) throw new Error(`ring ceiling: no ${options.pages} contiguous frames`);
  const view = store.viewOfFrames(frames);
  const front = FrontRing.init(view, BLKIF_ENTRY_BYTES, { nrPages: options.pages });
  const depth = Math.max(1, Math.min(options.depth, front.size));
  const ctl = new Int32Array(new SharedArrayBuffer(16));
  const data: RingCeilingWorkerData = {
    sab: store.buffer,
    ctl: ctl.buffer as SharedArrayBuffer,
    frames,
    entryBytes: BLKIF_ENTRY_BYTES,
  };
  const worker = new Worker(new URL("./ring-ceiling-worker.js", import.meta.url), { workerData: data });
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  const req = new Uint8Array(BLKIF_ENTRY_BYTES);
  const reqDv = new DataView(req.buffer);
  const rsp = new Uint8Array(16);
  const rspDv = new DataView(rsp.buffer);
  let nextId = 0;
  let completed = 0;
  let kicks = 0;
  const submit = (n: number) => {
    for (let i = 0; i < n; i++) {
      req[0] = 0; // BLKIF_OP_READ
      req[1] = 1;
      reqDv.setBigUint64(8, BigInt(nextId++), true);
      front.writeRequest(front.reqProdPvt, req);
      front.nextRequest();
    }
    if (front.pushRequestsAndCheckNotify()) {
      kicks++;
      Atomics.add(ctl, CTL_TO_BACK, 1);
      Atomics.notify(ctl, CTL_TO_BACK);
    }
  };
  const now = () => performance.now();
  const rampMs = options.rampMs ?? Math.min(500, options.durationMs / 4);
  const t0 = now();
  let tStart = -1;
  let base = { completed: 0, kicks: 0, back: 0 };
  const end = t0 + rampMs + options.durationMs;
  submit(depth);
  let tStop: number | undefined;
  for (let iter = 0; ; iter++) {
    if ((iter & 63) === 0) {
      const t = now();
      if (tStart < 0 && t - t0 >= rampMs) {
        tStart = t;
        base = { completed, kicks, back: Atomics.load(ctl, CTL_TO_FRONT) };
      }
      if (t >= end) {
        tStop = t;
        break;
      }
    }
    let got = 0;
    while (front.unconsumedResponses() > 0) {
      const idx = front.rspCons;
      copyOut(view, front.responseOffset(idx), 16, rsp);
      if (rspDv.getInt16(10, true) !== 0) throw new Error("ring ceiling: bad response status");
      front.rspCons = idx + 1;
      got++;
    }
    if (got > 0) {
      completed += got;
      submit(got);
      continue;
    }
    const seen = Atomics.load(ctl, CTL_TO_FRONT);
    if (front.finalCheckForResponses()) continue;
    Atomics.wait(ctl, CTL_TO_FRONT, seen, 50);
  }
  const seconds = ((tStop ?? now()) - tStart) / 1000;
  const backKicks = Atomics.load(ctl, CTL_TO_FRONT) - base.back;
  Atomics.store(ctl, CTL_STOP, 1);
  Atomics.add(ctl, CTL_TO_BACK, 1);
  Atomics.notify(ctl, CTL_TO_BACK);
  await exited;
  const n = completed - base.completed;
  const iops = n / seconds;
  return {
    pages: options.pages,
    ring_slots: front.size,
    depth,
    iops: round(iops, 0),
    mean_latency_us: round((depth / iops) * 1e6, 1),
    notifications_per_io: round((kicks - base.kicks + backKicks) / Math.max(1, n), 3),
    completed: n,
    seconds: round(seconds, 3),
  };
}
