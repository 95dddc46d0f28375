// A fault-injecting wrapper (pure: time from an injected Clock, randomness from a seed).
import {
  BLOCK_SECTOR_BYTES,
  type BlockIo,
  type BlockIoStatus,
  type BlockStore,
  type BlockStoreInfo,
} from "@xensim/blkif";
import { type Clock, EventQueue, realClock } from "./clock.js";
import { EIO, InFlight, prefixSegs } from "./common.js";
import { Mulberry32, type Rng } from "@xensim/random";

/** Fault settings; every field can be changed at run time with {@link FaultStore.set}. */
export interface FaultSettings {
  /** Probability an I/O fails with -EIO without reaching the inner store. */
  readonly errorRate: number;
  /** Extra latency added before an I/O reaches the inner store, ms. */
  readonly latencyMs: number;
  /** Probability a write (of ≥ 1 sector) is torn: only a prefix of its sectors is written, then -EIO. */
  readonly tornWriteRate: number;
  /** The next N I/Os fail with -EIO (counts down). */
  readonly failNext: number;
  /** Ops the random faults (error, torn) apply to; default all. failNext applies to every op. */
  readonly ops?: readonly BlockIo["op"][];
}

export type FaultKind = "error" | "fail-next" | "torn-write" | "latency";

/** One injected fault. `seq` numbers the I/Os submitted to the wrapper, from 0. */
export interface FaultRecord {
  readonly seq: number;
  readonly op: BlockIo["op"];
  readonly sector: number;
  readonly kind: FaultKind;
  /** torn-write: how many sectors reached the inner store. latency: the delay in ms. */
  readonly detail?: number;
}

export interface FaultStoreOptions extends Partial<FaultSettings> {
  readonly seed: number;
  readonly clock?: Clock;
}

/**
 * Wraps a store and injects faults, reproducibly from `seed`: the same seed and the same sequence of
 * submitted I/Os give the same faults. Each I/O draws from the PRNG in a fixed pattern (one draw for
 * error, one for torn, one for the torn length), so changing one rate does not shift the others.
 * A torn write submits the first k sectors (0 ≤ k < nrSectors, uniform) to the inner store, then
 * completes with -EIO whatever the inner status. Every injected fault is appended to `faults`.
 */
export class FaultStore implements BlockStore {
  readonly info: BlockStoreInfo;
  readonly faults: FaultRecord[] = [];
  private settings: FaultSettings;
  private readonly rng: Rng;
  private readonly events: EventQueue;
  private readonly clock: Clock;
  private readonly inflight = new InFlight();
  private closing: Promise<void> | undefined;
  private seq = 0;

  constructor(
    readonly inner: BlockStore,
    opts: FaultStoreOptions,
  ) {
    this.info = inner.info;
    this.rng = new Mulberry32(opts.seed);
    this.clock = opts.clock ?? realClock;
    this.events = new EventQueue(this.clock);
    this.settings = validate({
      errorRate: 0,
      latencyMs: 0,
      tornWriteRate: 0,
      failNext: 0,
      ...stripSeed(opts),
    });
  }

  get current(): FaultSettings {
    return this.settings;
  }

  /** Changes some settings now; they apply to I/Os submitted from now on. */
  set(changes: Partial<FaultSettings>): void {
    this.settings = validate({ ...this.settings, ...changes });
  }

  submit(io: BlockIo, done: (status: BlockIoStatus) => void): void {
    if (this.closing !== undefined) return done(EIO);
    const seq = this.seq++;
    const s = this.settings;
    const uError = this.rng.next();
    const uTorn = this.rng.next();
    const uLen = this.rng.next();
    const eligible = s.ops === undefined || s.ops.includes(io.op);
    const rec = (kind: FaultKind, detail?: number) =>
      this.faults.push(
        detail === undefined
          ? { seq, op: io.op, sector: io.sector, kind }
          : { seq, op: io.op, sector: io.sector, kind, detail },
      );
    let action: () => void;
    if (s.failNext > 0) {
      this.settings = { ...s, failNext: s.failNext - 1 };
      rec("fail-next");
      action = () => done(EIO);
    } else if (eligible && uError < s.errorRate) {
      rec("error");
      action = () => done(EIO);
    } else if (eligible && io.op === "write" && io.nrSectors > 0 && uTorn < s.tornWriteRate) {
      const k = Math.floor(uLen * io.nrSectors);
      rec("torn-write", k);
      const torn: BlockIo = {
        op: "write",
        sector: io.sector,
        nrSectors: k,
        segs: prefixSegs(io.segs, k * BLOCK_SECTOR_BYTES),
      };
      action = () => (k === 0 ? done(EIO) : this.inner.submit(torn, () => done(EIO)));
    } else {
      action = () => this.inner.submit(io, done);
    }
    if (s.latencyMs > 0) {
      rec("latency", s.latencyMs);
      this.inflight.enter();
      this.events.at(this.clock.now() + s.latencyMs, () => {
        this.inflight.leave();
        action();
      });
    } else action();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.inflight.idle();
      await this.inner.close();
    })();
    return this.closing;
  }
}

function stripSeed(options: FaultStoreOptions): Partial<FaultSettings> {
  const { seed: _s, clock: _c, ...rest } = options;
  return rest;
}

function validate(s: FaultSettings): FaultSettings {
  for (const k of ["errorRate", "tornWriteRate"] as const) {
    if (!(s[k] >= 0 && s[k] <= 1)) throw new RangeError(`fault ${k} ${s[k]} is not in [0, 1]`);
  }
  if (!(s.latencyMs >= 0) || !Number.isFinite(s.latencyMs))
    throw new RangeError(`fault latencyMs ${s.latencyMs} is not >= 0`);
  if (!Number.isSafeInteger(s.failNext) || s.failNext < 0)
    throw new RangeError(`fault failNext ${s.failNext} is not a non-negative integer`);
  return Object.freeze({ ...s });
}
