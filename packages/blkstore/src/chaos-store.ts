// A store wrapper with the chaos plane's store fault points (store.io-error, store.latency,
// store.torn-write, store.full), a misbehaving-backend point the checkers must catch
// (backend.ack-before-write: a write acknowledged without being written; a request answered twice,
// backend.response-duplicated, is blkback's ring writing one response twice), and backend.requests-reordered (a request held back and
// started after the next one: the backend may complete in-flight requests in any order, and the
// frontend must match each response by id). With no point set an I/O costs one branch.

import {
  BLOCK_SECTOR_BYTES,
  type BlockIo,
  type BlockIoStatus,
  type BlockStore,
  type BlockStoreInfo,
} from "@xensim/blkif";
import type { ChaosPoints, FaultPoint } from "@xensim/chaos";
import { type Clock, EventQueue, realClock } from "./clock.js";
import { EIO, prefixSegs } from "./common.js";

export const STORE_FAULT_KINDS = [
  "store.io-error",
  "store.latency",
  "store.torn-write",
  "store.full",
  "backend.ack-before-write",
  "backend.requests-reordered",
] as const;

export class ChaosStore implements BlockStore {
  readonly info: BlockStoreInfo;
  private on = false;
  private readonly points: Record<(typeof STORE_FAULT_KINDS)[number], FaultPoint>;
  private readonly events: EventQueue;
  /** backend.requests-reordered: a request waiting to start after the next one. */
  private heldBack: (() => void) | undefined;

  constructor(
    readonly inner: BlockStore,
    chaos: ChaosPoints,
    /** Names the disk in fault records ("dom 3 xvda"). */
    private readonly label: string,
    clock: Clock = realClock,
  ) {
    this.info = inner.info;
    this.events = new EventQueue(clock);
    const pts = {} as Record<(typeof STORE_FAULT_KINDS)[number], FaultPoint>;
    for (const k of STORE_FAULT_KINDS) {
      const p = chaos.point(k);
      const prev = p.onChange;
      p.onChange = (x) => {
        prev?.(x);
        this.on = Object.values(this.points).some((q) => q.active);
      };
      pts[k] = p;
    }
    this.points = pts;
    this.on = Object.values(pts).some((q) => q.active);
  }

  submit(io: BlockIo, done: (status: BlockIoStatus) => void): void {
    if (!this.on) {
      this.inner.submit(io, done);
      return;
    }
    const p = this.points;
    const target = `${this.label} ${io.op} sector ${io.sector}`;
    // the request held back earlier goes after this one
    const before = this.heldBack;
    this.heldBack = undefined;
    if (p["backend.requests-reordered"].hit(target)) {
      // held until the next request has started, or 5 ms when none comes (whichever is first;
      // a completion may start requests re-entrantly, so each held one runs once by itself)
      let started = false;
      const held = (): void => {
        if (started) return;
        started = true;
        if (this.heldBack === held) this.heldBack = undefined;
        this.inner.submit(io, done);
      };
      this.heldBack = held;
      this.events.at(this.events.clock.now() + 5, held);
      before?.();
      return;
    }
    let action: () => void = () => this.inner.submit(io, done);
    if (p["store.io-error"].hit(target)) action = () => done(EIO);
    else if (io.op === "write" && p["store.full"].hit(target)) action = () => done(EIO);
    else if (io.op === "write" && io.nrSectors > 0 && p["store.torn-write"].hit(target)) {
      // Every sector but the last reaches the store, then the write fails.
      const sectors = io.nrSectors - 1;
      const torn: BlockIo = {
        op: "write",
        sector: io.sector,
        nrSectors: sectors,
        segs: prefixSegs(io.segs, sectors * BLOCK_SECTOR_BYTES),
      };
      action = () => (sectors === 0 ? done(EIO) : this.inner.submit(torn, () => done(EIO)));
    } else if (io.op === "write" && p["backend.ack-before-write"].hit(target)) action = () => done(0);
    if (before) {
      const first = action;
      action = () => {
        first();
        before();
      };
    }
    if (p["store.latency"].active) {
      const d = p["store.latency"].delay();
      if (p["store.latency"].hit(target, { delayMs: d })) {
        this.events.at(this.events.clock.now() + d, action);
        return;
      }
    }
    action();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
