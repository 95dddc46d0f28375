// A fio-like job over any BlockStore (a blkfront disk, a store, an NBD client): keeps `iodepth` I/Os
// in flight for a duration or an I/O count, with fio's rw patterns, optional crc32c verify, and
// figures in fio's JSON shape. Clock, deferral and the seed are injected: no node:*, no timers.
import { type BlockIo, type BlockStore, BLOCK_SECTOR_BYTES } from "@xensim/blkif";
import { Mulberry32 } from "@xensim/random";
import { FIO_PERCENTILES, LatencyHistogram } from "./histogram.js";
import { checkVerifyBlock, fillVerifyBlock } from "./verify.js";

export type RwPattern = "read" | "write" | "randread" | "randwrite" | "randrw" | "rw" | "readwrite";
export const RW_PATTERNS: readonly RwPattern[] = [
  "read",
  "write",
  "randread",
  "randwrite",
  "randrw",
  "rw",
  "readwrite",
];

export interface FioJobSpec {
  name?: string;
  rw: RwPattern;
  /** Block size in bytes, a multiple of 512. */
  bs: number;
  iodepth: number;
  /** Bytes of the disk the job works on, from `offset` (default: to the end of the disk). */
  size?: number;
  offset?: number;
  /** Time-based: stop issuing after this long (after the ramp). */
  runtimeMs?: number;
  /** Stop after this many I/Os (whichever of runtime and count comes first). */
  ioLimit?: number;
  /** Percent reads for randrw / rw (default 50). */
  rwmixread?: number;
  /** crc32c: writes carry verifiable contents; reads of blocks this job wrote are checked, and
   * after the run every written block is read back and checked (fio's verify phase). */
  verify?: "none" | "crc32c";
  /** Ramp time: I/O runs but is not counted. */
  rampMs?: number;
  seed?: number;
}

export interface JobEnv {
  /** Monotonic time in nanoseconds. */
  nowNs(): number;
  /** Runs fn soon, after pending I/O callbacks (setImmediate in Node). */
  defer(fn: () => void): void;
  /**
   * Where each in-flight slot's buffer comes from (default: a Uint8Array of the job's own): a buffer
   * in the guest's memory whose frames go with every I/O (BlockIo.frames), so a frontend that grants
   * per request grants the buffer itself (zero copy). undefined: that slot gets its own Uint8Array.
   */
  buffer?(bytes: number): JobBuffer | undefined;
}

/** A buffer in the guest's own memory (JobEnv.buffer). */
export interface JobBuffer {
  /** Its bytes: a live view of the pages. */
  readonly bytes: Uint8Array;
  /** The gfn of each 4 KiB page of `bytes`, in order (BlockIo.frames). */
  readonly frames: readonly number[];
  /** Publishes what the job wrote into the buffer (MemView.markWritten), before a write goes out. */
  written(): void;
}

export interface IoFigures {
  io_bytes: number;
  bw_bytes: number;
  iops: number;
  runtime: number; // ms
  total_ios: number;
  short_ios: number;
  clat_ns: { min: number; max: number; mean: number; percentile: Record<string, number> };
}

export interface VerifyFailure {
  offset: number;
  reason: string;
  expectedGeneration?: number;
  generation?: number;
}

export interface JobResult {
  jobname: string;
  /** Number of I/Os that completed with an error status (fio continue_on_error counts). */
  error: number;
  read: IoFigures;
  write: IoFigures;
  /** Time the counted phase ran, ms. */
  job_runtime: number;
  /** Mean number of I/Os in flight over the counted phase. */
  avg_outstanding: number;
  verify: {
    enabled: boolean;
    blocks_checked: number;
    failures_total: number;
    failures: VerifyFailure[];
    /** Blocks whose last write was acknowledged (the ledger the verify phase reads back). */
    acknowledged_blocks: number;
    /**
     * Blocks whose last write failed (an error status: the backend may have written all, part or
     * none of it): their contents are indeterminate, not lost, and no read of them is judged.
     */
    indeterminate_blocks: number;
    /**
     * Blocks taken over from an earlier job's ledger (JobCarry) that this job read back with the
     * earlier job's generation (not rewritten since): its acknowledged writes, verified here.
     */
    carried_blocks_verified: number;
  };
  /** Errors by status (negative errno → count). */
  errors_by_status: Record<string, number>;
}

export class JobSpecError extends Error {
  override readonly name = "JobSpecError";
  readonly code = "EINVAL";
}

export function validateJob(spec: FioJobSpec, disk: { sectors: number }): void {
  const bad = (m: string) => {
    throw new JobSpecError(`job ${spec.name ?? "job"}: ${m}`);
  };
  if (!RW_PATTERNS.includes(spec.rw)) bad(`rw must be one of ${RW_PATTERNS.join(", ")}`);
  if (!Number.isInteger(spec.bs) || spec.bs <= 0 || spec.bs % BLOCK_SECTOR_BYTES !== 0)
    bad(`bs ${spec.bs} is not a positive multiple of 512`);
  if (!Number.isInteger(spec.iodepth) || spec.iodepth < 1 || spec.iodepth > 65536)
    bad(`iodepth ${spec.iodepth} is not in 1..65536`);
  const diskBytes = disk.sectors * BLOCK_SECTOR_BYTES;
  const offset = spec.offset ?? 0;
  if (offset % BLOCK_SECTOR_BYTES !== 0 || offset < 0 || offset >= diskBytes)
    bad(`offset ${offset} is not a sector inside the ${diskBytes}-byte disk`);
  const size = spec.size ?? diskBytes - offset;
  if (size < spec.bs || offset + size > diskBytes) bad(`size ${size} does not fit the disk from ${offset}`);
  if (spec.runtimeMs === undefined && spec.ioLimit === undefined)
    bad("give runtimeMs or ioLimit (a job must end)");
  if (spec.rwmixread !== undefined && (spec.rwmixread < 0 || spec.rwmixread > 100))
    bad(`rwmixread ${spec.rwmixread} is not a percentage`);
}

interface Slot {
  buf: Uint8Array;
  segs: Uint8Array[];
  /** The guest buffer behind `buf` (JobEnv.buffer), else undefined. */
  guest: JobBuffer | undefined;
  block: number;
  write: boolean;
  startNs: number;
  counted: boolean;
  generation: number;
  done: (status: number) => void;
}

class Direction {
  readonly hist = new LatencyHistogram();
  bytes = 0;
  ios = 0;
  figures(runtimeMs: number): IoFigures {
    const h = this.hist;
    return {
      io_bytes: this.bytes,
      bw_bytes: runtimeMs > 0 ? Math.round((this.bytes * 1000) / runtimeMs) : 0,
      iops: runtimeMs > 0 ? Math.round(((this.ios * 1000) / runtimeMs) * 1000) / 1000 : 0,
      runtime: Math.round(runtimeMs),
      total_ios: this.ios,
      short_ios: 0,
      clat_ns: {
        min: h.count ? h.min : 0,
        max: h.max,
        mean: Math.round(h.mean()),
        percentile: h.fioPercentiles(FIO_PERCENTILES),
      },
    };
  }
}

/**
 * The write ledger of a verify job, as a later job on the same disk takes it over (a kexec'd kernel
 * running the same job after a soft reset): block → generation of its last acknowledged write,
 * block → highest generation written, and the blocks whose contents are indeterminate.
 */
export interface JobLedger {
  acknowledged: Array<[block: number, generation: number]>;
  attempted: Array<[block: number, generation: number]>;
  indeterminate: number[];
}

export interface JobCarry {
  /** Start from this ledger: its acknowledged blocks are read back in the verify phase too. */
  ledger?: JobLedger;
  /**
   * Receives a function that snapshots the ledger at any moment: writes still in flight count as
   * indeterminate (they may or may not reach the disk), as after a crash.
   */
  expose?(snapshot: () => JobLedger): void;
}

/** Runs `spec` against `store`; resolves with fio-shaped figures once every I/O has completed. */
export function runJob(
  store: BlockStore,
  spec: FioJobSpec,
  env: JobEnv,
  carry: JobCarry = {},
): Promise<JobResult> {
  validateJob(spec, store.info);
  const runner = new JobRunner(store, spec, env);
  if (carry.ledger) runner.takeOver(carry.ledger);
  carry.expose?.(() => runner.ledger());
  return runner.run();
}

class JobRunner {
  private readonly rng: () => number;
  private readonly nBlocks: number;
  private readonly base: number;
  private readonly sectorsPerBlock: number;
  private readonly readPct: number;
  private readonly random: boolean;
  private readonly verify: boolean;
  private readonly seed: number;
  private readonly read = new Direction();
  private readonly write = new Direction();
  private readonly ready: Slot[] = [];
  /** Block → generation of its last acknowledged write. */
  private readonly generations = new Map<number, number>();
  /** Block → highest generation ever written to it (acknowledged or not): the next one is above. */
  private readonly attempted = new Map<number, number>();
  /** Blocks whose last write failed: contents indeterminate until a write is acknowledged. */
  private readonly indeterminate = new Set<number>();
  private readonly inflightBlocks = new Set<number>();
  /** Blocks still holding an earlier job's acknowledged write, and those of them read back intact. */
  private readonly carried = new Set<number>();
  private readonly carriedVerified = new Set<number>();
  /** Blocks with a write in flight (verify jobs). */
  private readonly inflightWrites = new Set<number>();
  private readonly failures: VerifyFailure[] = [];
  private readonly errorsByStatus: Record<string, number> = {};
  private cursor = 0;
  private issued = 0;
  private outstanding = 0;
  private pumping = false;
  private errors = 0;
  private blocksChecked = 0;
  private verifyFailures = 0;
  private countStartNs = 0;
  private endNs = Number.POSITIVE_INFINITY;
  private stopped = false;
  private lastChangeNs = 0;
  private outstandingArea = 0;
  private countEndNs = 0;
  private resolve!: (r: JobResult) => void;
  private finished = false;
  private phase: "run" | "verify" = "run";
  private verifyList: number[] = [];
  private verifyNext = 0;

  constructor(
    private readonly store: BlockStore,
    private readonly spec: FioJobSpec,
    private readonly env: JobEnv,
  ) {
    this.seed = (spec.seed ?? 1) >>> 0;
    const rng = new Mulberry32(this.seed);
    this.rng = () => rng.next();
    const diskBytes = store.info.sectors * BLOCK_SECTOR_BYTES;
    const offset = spec.offset ?? 0;
    const size = spec.size ?? diskBytes - offset;
    this.nBlocks = Math.floor(size / spec.bs);
    this.base = offset;
    this.sectorsPerBlock = spec.bs / BLOCK_SECTOR_BYTES;
    this.random = spec.rw.startsWith("rand");
    this.readPct =
      spec.rw === "read" || spec.rw === "randread"
        ? 100
        : spec.rw === "write" || spec.rw === "randwrite"
          ? 0
          : (spec.rwmixread ?? 50);
    this.verify = spec.verify === "crc32c";
  }

  /** Start from an earlier job's ledger (blocks outside this job's range are dropped). */
  takeOver(l: JobLedger): void {
    const inRange = (b: number) => Number.isInteger(b) && b >= 0 && b < this.nBlocks;
    for (const [b, g] of l.acknowledged) if (inRange(b)) this.generations.set(b, g);
    for (const [b, g] of l.attempted) if (inRange(b)) this.attempted.set(b, g);
    for (const b of l.indeterminate) if (inRange(b)) this.indeterminate.add(b);
    for (const [b, g] of this.generations) if ((this.attempted.get(b) ?? 0) < g) this.attempted.set(b, g);
    for (const b of this.generations.keys()) this.carried.add(b);
  }

  /** The ledger now; a block with a write in flight is indeterminate. */
  ledger(): JobLedger {
    const acknowledged: Array<[number, number]> = [];
    const indeterminate = new Set(this.indeterminate);
    for (const b of this.inflightWrites) indeterminate.add(b);
    for (const [b, g] of this.generations) if (!indeterminate.has(b)) acknowledged.push([b, g]);
    return { acknowledged, attempted: [...this.attempted], indeterminate: [...indeterminate] };
  }

  run(): Promise<JobResult> {
    return new Promise<JobResult>((resolve) => {
      this.resolve = resolve;
      const now = this.env.nowNs();
      const ramp = (this.spec.rampMs ?? 0) * 1e6;
      this.countStartNs = now + ramp;
      this.lastChangeNs = this.countStartNs;
      if (this.spec.runtimeMs !== undefined) this.endNs = this.countStartNs + this.spec.runtimeMs * 1e6;
      const depth = Math.min(this.spec.iodepth, this.verify ? this.nBlocks : this.spec.iodepth);
      for (let i = 0; i < depth; i++) this.ready.push(this.newSlot());
      this.pump();
    });
  }

  private newSlot(): Slot {
    const guest = this.env.buffer?.(this.spec.bs);
    const buf = guest ? guest.bytes : new Uint8Array(this.spec.bs);
    const slot: Slot = {
      buf,
      segs: [buf],
      guest,
      block: 0,
      write: false,
      startNs: 0,
      counted: false,
      generation: 0,
      done: (status: number) => this.complete(slot, status),
    };
    return slot;
  }

  private stopping(now: number): boolean {
    if (this.stopped) return true;
    if (now >= this.endNs || (this.spec.ioLimit !== undefined && this.issued >= this.spec.ioLimit)) {
      this.stopped = true;
      this.countEndNs = Math.min(now, this.endNs);
    }
    return this.stopped;
  }

  /** Issues ready slots; `nowNs`: the clock just read by the caller (a completion), for the first. */
  private pump(nowNs?: number): void {
    if (this.pumping || this.finished) return;
    this.pumping = true;
    let n = 0;
    let given = nowNs;
    while (this.ready.length > 0) {
      const now = given ?? this.env.nowNs();
      given = undefined;
      if (this.phase === "run" ? this.stopping(now) : this.verifyNext >= this.verifyList.length) break;
      const slot = this.ready.pop()!;
      if (!(this.phase === "run" ? this.issue(slot, now) : this.issueVerify(slot, now))) {
        this.ready.push(slot);
        break;
      }
      // Stores that complete synchronously would never let the event loop run: yield now and then.
      if (++n >= 512) {
        this.pumping = false;
        this.env.defer(() => this.pump());
        return;
      }
    }
    this.pumping = false;
    this.maybeFinish();
  }

  private pickBlock(): number {
    let b = this.random ? Math.floor(this.rng() * this.nBlocks) : this.cursor++ % this.nBlocks;
    if (this.verify) {
      // Never two I/Os on one block at once: its expected contents would be ambiguous.
      for (let i = 0; i < this.nBlocks && this.inflightBlocks.has(b); i++) b = (b + 1) % this.nBlocks;
      if (this.inflightBlocks.has(b)) return -1;
    }
    return b;
  }

  private issue(slot: Slot, now: number): boolean {
    const block = this.pickBlock();
    if (block < 0) return false;
    const write = this.readPct === 100 ? false : this.readPct === 0 ? true : this.rng() * 100 >= this.readPct;
    this.issued++;
    this.start(slot, block, write, now);
    return true;
  }

  private issueVerify(slot: Slot, now: number): boolean {
    const block = this.verifyList[this.verifyNext++]!;
    this.start(slot, block, false, now);
    return true;
  }

  private start(slot: Slot, block: number, write: boolean, now: number): void {
    slot.block = block;
    slot.write = write;
    slot.startNs = now;
    slot.counted = this.phase === "run" && now >= this.countStartNs;
    const offset = this.base + block * this.spec.bs;
    if (this.verify) {
      this.inflightBlocks.add(block);
      if (write) {
        this.inflightWrites.add(block);
        this.carried.delete(block);
        slot.generation = (this.attempted.get(block) ?? 0) + 1;
        this.attempted.set(block, slot.generation);
        fillVerifyBlock(slot.buf, offset, slot.generation, this.seed);
      }
    }
    this.track(now, +1);
    const guest = slot.guest;
    let io: BlockIo;
    if (guest === undefined)
      io = {
        op: write ? "write" : "read",
        sector: offset / BLOCK_SECTOR_BYTES,
        nrSectors: this.sectorsPerBlock,
        segs: slot.segs,
      };
    else {
      if (write) guest.written();
      io = {
        op: write ? "write" : "read",
        sector: offset / BLOCK_SECTOR_BYTES,
        nrSectors: this.sectorsPerBlock,
        segs: slot.segs,
        frames: guest.frames,
      };
    }
    this.store.submit(io, slot.done);
  }

  private track(now: number, delta: number): void {
    if (now > this.lastChangeNs && this.phase === "run") {
      const end = this.stopped ? Math.min(now, this.countEndNs || now) : now;
      if (end > this.lastChangeNs) this.outstandingArea += this.outstanding * (end - this.lastChangeNs);
      this.lastChangeNs = Math.max(this.lastChangeNs, end);
    }
    this.outstanding += delta;
  }

  private complete(slot: Slot, status: number): void {
    const now = this.env.nowNs();
    this.track(now, -1);
    const offset = this.base + slot.block * this.spec.bs;
    if (status !== 0) {
      this.errors++;
      this.errorsByStatus[String(status)] = (this.errorsByStatus[String(status)] ?? 0) + 1;
    } else if (slot.counted) {
      const d = slot.write ? this.write : this.read;
      d.ios++;
      d.bytes += this.spec.bs;
      d.hist.record(now - slot.startNs);
    }
    if (this.verify) {
      this.inflightBlocks.delete(slot.block);
      if (slot.write) this.inflightWrites.delete(slot.block);
      if (status === 0 && slot.write) {
        this.generations.set(slot.block, slot.generation);
        this.indeterminate.delete(slot.block);
      } else if (slot.write) {
        // A failed write is not a lost one: it may have reached the disk whole, in part or not at all.
        this.generations.delete(slot.block);
        this.indeterminate.add(slot.block);
      } else if (status === 0) this.checkRead(slot, offset);
    }
    this.ready.push(slot);
    if (!this.pumping) this.pump(now);
  }

  private checkRead(slot: Slot, offset: number): void {
    const expected = this.generations.get(slot.block);
    if (expected === undefined) return; // not written by this job: contents unknown
    this.blocksChecked++;
    const r = checkVerifyBlock(slot.buf, offset, this.seed);
    if (!r.ok) this.fail({ offset, reason: r.reason, expectedGeneration: expected });
    else if (r.generation !== expected)
      this.fail({ offset, reason: "stale", expectedGeneration: expected, generation: r.generation });
    else if (this.carried.has(slot.block)) this.carriedVerified.add(slot.block);
  }

  /** Keeps the first 32 failures; counts all. */
  private fail(f: VerifyFailure): void {
    if (this.failures.length < 32) this.failures.push(f);
    this.verifyFailures++;
  }

  private maybeFinish(): void {
    if (this.finished || this.outstanding > 0) return;
    if (this.phase === "run") {
      if (!this.stopped) return;
      if (this.verify && this.generations.size > 0) {
        // only acknowledged blocks are in the ledger (failed ones left it when they failed)
        this.phase = "verify";
        this.verifyList = [...this.generations.keys()].sort((a, b) => a - b);
        this.verifyNext = 0;
        this.env.defer(() => this.pump());
        return;
      }
    } else if (this.verifyNext < this.verifyList.length) return;
    this.finished = true;
    const runtimeMs = Math.max(0, (this.countEndNs || this.env.nowNs()) - this.countStartNs) / 1e6;
    this.resolve({
      jobname: this.spec.name ?? "job",
      error: this.errors,
      read: this.read.figures(runtimeMs),
      write: this.write.figures(runtimeMs),
      job_runtime: Math.round(runtimeMs),
      avg_outstanding: runtimeMs > 0 ? Math.round((this.outstandingArea / (runtimeMs * 1e6)) * 100) / 100 : 0,
      verify: {
        enabled: this.verify,
        blocks_checked: this.blocksChecked,
        failures_total: this.verifyFailures,
        failures: this.failures,
        acknowledged_blocks: this.generations.size,
        indeterminate_blocks: this.indeterminate.size,
        carried_blocks_verified: this.carriedVerified.size,
      },
      errors_by_status: this.errorsByStatus,
    });
  }
}
