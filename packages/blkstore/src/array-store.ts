// The modelled storage array as a BlockStore (pure: time comes from an injected Clock).
import {
  BLOCK_SECTOR_BYTES,
  type BlockIo,
  type BlockIoStatus,
  type BlockStore,
  type BlockStoreInfo,
} from "@xensim/blkif";
import { type ArrayProfile, type ArrayProfileName, resolveProfile } from "./array-model.js";
import { type Clock, EventQueue, realClock } from "./clock.js";
import { checkIo, EIO, InFlight } from "./common.js";
import { MemoryStore } from "./memory-store.js";
import { NullStore } from "./null-store.js";
import { Mulberry32 } from "@xensim/random";
import { sampler } from "./distributions.js";

export interface ModelledArrayOptions {
  readonly profile: ArrayProfile | Exclude<ArrayProfileName, "null">;
  readonly seed: number;
  /** Where the data lives: a store (its size is the array's), or a fresh "memory" (default) / "null" one of `sizeBytes`. */
  readonly inner?: BlockStore | "memory" | "null";
  readonly sizeBytes?: number;
  /** Defaults to performance.now() + setTimeout; pass a VirtualClock to simulate. */
  readonly clock?: Clock;
  /**
   * Completions due within this many ms run when the timer fires (see {@link EventQueue}); default
   * 0.5 on the real clock (centres node's ~1 ms timer lateness), 0 on an injected clock.
   */
  readonly timerSlackMs?: number;
}

interface Job {
  readonly io: BlockIo;
  readonly done: (status: BlockIoStatus) => void;
  readonly spindle: number;
  arrived: number;
}

class Fifo<T> {
  private a: (T | undefined)[] = [];
  private h = 0;
  get length(): number {
    return this.a.length - this.h;
  }
  push(x: T): void {
    this.a.push(x);
  }
  shift(): T | undefined {
    if (this.h >= this.a.length) return undefined;
    const x = this.a[this.h];
    this.a[this.h++] = undefined;
    if (this.h > 1024 && this.h * 2 > this.a.length) {
      this.a = this.a.slice(this.h);
      this.h = 0;
    }
    return x;
  }
}

export interface ArrayStats {
  readonly submitted: number;
  readonly completed: number;
  /** I/Os in service right now, over all spindles. */
  readonly inService: number;
  /** I/Os waiting in spindle FIFOs right now. */
  readonly queued: number;
  /** I/Os each spindle has served. */
  readonly perSpindle: readonly number[];
}

/**
 * A modelled storage array (see {@link ArrayProfile}): reads and writes cross the transport, queue
 * on the spindle holding their first sector's stripe (an I/O crossing a stripe boundary is served by
 * that one spindle), and take a service time drawn from the profile's distribution with a PRNG
 * seeded by `seed`; the data operation then runs on the inner store and `done` follows it.
 * Flush and discard only pay the transport (the array's write cache is battery-backed).
 * One timer drives all completions (an {@link EventQueue}), so the model keeps up at high IOPS;
 * with a real clock, completions are late by at most the timer granularity, but the model's own
 * schedule (service starts, queueing) is computed at exact model times, so throughput does not
 * drift with timer lateness.
 */
export class ModelledArrayStore implements BlockStore {
  readonly info: BlockStoreInfo;
  readonly profile: ArrayProfile;
  readonly inner: BlockStore;
  private readonly events: EventQueue;
  private readonly clock: Clock;
  private readonly draw: () => number;
  private readonly busy: Int32Array;
  private readonly fifos: Fifo<Job>[];
  private readonly served: number[];
  private readonly inflight = new InFlight();
  private closing: Promise<void> | undefined;
  private submitted = 0;
  private completed = 0;
  private inService = 0;
  private queued = 0;

  constructor(opts: ModelledArrayOptions) {
    const p = resolveProfile(opts.profile);
    if (p === undefined)
      throw new RangeError("ModelledArrayStore: profile 'null' has no model; use NullStore");
    this.profile = p;
    const inner = opts.inner ?? "memory";
    if (typeof inner === "string") {
      if (opts.sizeBytes === undefined)
        throw new TypeError(`ModelledArrayStore: inner '${inner}' needs sizeBytes`);
      this.inner =
        inner === "memory"
          ? new MemoryStore({ sizeBytes: opts.sizeBytes })
          : new NullStore({ sizeBytes: opts.sizeBytes });
    } else {
      this.inner = inner;
    }
    this.info = Object.freeze({ ...this.inner.info, flush: true });
    this.clock = opts.clock ?? realClock;
    this.events = new EventQueue(this.clock, opts.timerSlackMs ?? (this.clock === realClock ? 0.5 : 0));
    this.draw = sampler(p.service, new Mulberry32(opts.seed));
    this.busy = new Int32Array(p.spindles);
    this.fifos = Array.from({ length: p.spindles }, () => new Fifo<Job>());
    this.served = new Array<number>(p.spindles).fill(0);
  }

  /** The spindle serving `sector`. */
  spindleOf(sector: number): number {
    return Math.floor((sector * BLOCK_SECTOR_BYTES) / this.profile.stripeBytes) % this.profile.spindles;
  }

  stats(): ArrayStats {
    return {
      submitted: this.submitted,
      completed: this.completed,
      inService: this.inService,
      queued: this.queued,
      perSpindle: [...this.served],
    };
  }

  submit(io: BlockIo, done: (status: BlockIoStatus) => void): void {
    if (this.closing !== undefined) return done(EIO);
    const err = checkIo(this.info, io);
    if (err !== 0) return done(err);
    this.inflight.enter();
    this.submitted++;
    const arrive = this.clock.now() + this.profile.transportMs;
    if (io.op === "flush" || io.op === "discard") {
      this.events.at(arrive, () => this.finish(io, done));
      return;
    }
    const job: Job = { io, done, spindle: this.spindleOf(io.sector), arrived: arrive };
    this.events.at(arrive, () => this.arrive(job));
  }

  private arrive(job: Job): void {
    const s = job.spindle;
    if ((this.busy[s] as number) < this.profile.slotsPerSpindle) this.start(job, job.arrived);
    else {
      this.queued++;
      (this.fifos[s] as Fifo<Job>).push(job);
    }
  }

  private start(job: Job, at: number): void {
    const s = job.spindle;
    (this.busy as Int32Array)[s] = (this.busy[s] as number) + 1;
    this.inService++;
    const end = at + this.draw();
    this.events.at(end, () => this.serviceEnd(job, end));
  }

  private serviceEnd(job: Job, at: number): void {
    const s = job.spindle;
    this.busy[s] = (this.busy[s] as number) - 1;
    this.inService--;
    (this.served as number[])[s] = (this.served[s] as number) + 1;
    const next = (this.fifos[s] as Fifo<Job>).shift();
    if (next !== undefined) {
      this.queued--;
      this.start(next, Math.max(at, next.arrived));
    }
    this.finish(job.io, job.done);
  }

  private finish(io: BlockIo, done: (status: BlockIoStatus) => void): void {
    this.inner.submit(io, (st) => {
      this.completed++;
      this.inflight.leave();
      done(st);
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.inflight.idle();
      this.events.clear();
      await this.inner.close();
    })();
    return this.closing;
  }
}
