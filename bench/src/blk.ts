// `xensim bench blk`: the block path guest blkfront → ring → blkback → store on an embedded host,
// one vbd per ring size, a fio-like job on each; IOPS, MB/s, completion latency percentiles, mean
// outstanding I/O and notifications per I/O (both directions).
import type { BlkfrontConfig } from "@xensim/blkif";
import { type IoFigures, type JobEnv, type JobResult, runJob, type RwPattern } from "@xensim/workload";
import { type BlkServiceEntries, startBlkHost } from "@xensim/harness";
import { GuestBufferArea } from "@xensim/guest";
import { type MonotonicWindow, monotonicUs } from "./cpu-profile.js";
import { machineInfo, round } from "./stats.js";

export type BlkProfile = "null" | "memory" | "iscsi-array" | "ssd";
export const BLK_PROFILES: readonly BlkProfile[] = ["null", "memory", "iscsi-array", "ssd"];

export interface BlkBenchOptions {
  entries: BlkServiceEntries;
  /** Ring sizes to run, in pages (powers of two, 1..64). */
  pages: number[];
  queues: number;
  iodepth: number;
  /** Block size in bytes. */
  bs: number;
  rw: RwPattern;
  profile: BlkProfile;
  durationMs: number;
  rampMs?: number;
  /** Disk size in bytes (default 1 GiB; the memory profile holds it in RAM). */
  sizeBytes?: number;
  /** Indirect segments the frontend asks for (0: none). */
  indirect?: number;
  persistent?: boolean;
  /**
   * Zero copy: the frontend does not ask for persistent grants, and the job's buffers are guest pages
   * (GuestBufferArea) that blkfront grants per request, as Linux blkfront grants a bio's own pages.
   */
  zeroCopy?: boolean;
  /** blkfront looks for responses this long (µs, at least 32 looks) before it sleeps (BlkfrontOptions.poll); 0: sleeps at once. */
  frontPollUs?: number;
  /** blkback serves queues ≥ 1 on threads of their own (its queueThreads setting). */
  queueThreads?: boolean;
  seed?: number;
  log?: (line: string) => void;
  /** Called with the fraction done while a run goes (progress display). */
  progress?: (label: string, fraction: number) => void;
}

export interface BlkRunFigures {
  pages: number;
  ring_slots: number;
  queues: number;
  iodepth: number;
  bs: number;
  rw: RwPattern;
  iops: number;
  mb_s: number;
  clat_us: { p50: number; p90: number; p99: number; p99_9: number; mean: number };
  avg_outstanding: number;
  /** Event-channel kicks per completed I/O: frontend → backend, backend → frontend, and both. */
  notifications_per_io: { front_to_back: number; back_to_front: number; total: number };
  read: IoFigures;
  write: IoFigures;
  errors: number;
  /** The measured part of the run (after the warm-up) on the CPU profiles' clock (--cpu-profile). */
  window_us?: MonotonicWindow;
  /** Ring requests whose data pages were the job's own guest pages (zero copy), per completed I/O. */
  zero_copy_per_io?: number;
}

export interface BlkBenchResult {
  bench: "blk";
  placement: "embedded";
  machine: Record<string, unknown>;
  params: Omit<BlkBenchOptions, "entries" | "log" | "progress">;
  runs: BlkRunFigures[];
}

/** The store spec blkback opens for a profile. */
export function storeSpec(profile: BlkProfile, sizeBytes: number, seed: number): string {
  if (profile === "null" || profile === "memory") return `${profile}:size=${sizeBytes}`;
  return `array:profile=${profile},size=${sizeBytes},seed=${seed},data=null`;
}

/** Sums a Prometheus counter's samples whose labels include `match` (text exposition format). */
export function counterSum(body: string, name: string, match: Record<string, string>): number {
  let sum = 0;
  for (const line of body.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (!Object.entries(match).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** BlkRunFigures from a fio-shaped job result and the kick counts of both ends. */
export function runFigures(
  job: JobResult,
  ring: { pages: number; slots: number; queues: number },
  options: { iodepth: number; bs: number; rw: RwPattern },
  kicks: { frontSent: number; backSent: number; completed: number },
): BlkRunFigures {
  const ios = job.read.total_ios + job.write.total_ios;
  const seconds = job.job_runtime / 1000;
  const pick = (k: string) =>
    Math.max(job.read.clat_ns.percentile[k] ?? 0, job.write.clat_ns.percentile[k] ?? 0) / 1000;
  const meanNs =
    ios > 0
      ? (job.read.clat_ns.mean * job.read.total_ios + job.write.clat_ns.mean * job.write.total_ios) / ios
      : 0;
  const per = (n: number) => round(n / Math.max(1, kicks.completed), 3);
  return {
    pages: ring.pages,
    ring_slots: ring.slots,
    queues: ring.queues,
    iodepth: options.iodepth,
    bs: options.bs,
    rw: options.rw,
    iops: round(ios / seconds, 0),
    mb_s: round((job.read.io_bytes + job.write.io_bytes) / seconds / 1e6, 1),
    clat_us: {
      p50: round(pick("50.000000"), 1),
      p90: round(pick("90.000000"), 1),
      p99: round(pick("99.000000"), 1),
      p99_9: round(pick("99.900000"), 1),
      mean: round(meanNs / 1000, 1),
    },
    avg_outstanding: job.avg_outstanding,
    notifications_per_io: {
      front_to_back: per(kicks.frontSent),
      back_to_front: per(kicks.backSent),
      total: per(kicks.frontSent + kicks.backSent),
    },
    read: job.read as IoFigures,
    write: job.write as IoFigures,
    errors: job.error,
  };
}

export async function runBlkBench(options: BlkBenchOptions): Promise<BlkBenchResult> {
  const log = options.log ?? (() => {});
  for (const p of options.pages)
    if (!Number.isInteger(Math.log2(p)) || p < 1 || p > 64)
      throw new Error(`--pages: ${p} is not a power of two in 1..64`);
  const sizeBytes = options.sizeBytes ?? 1 << 30;
  const seed = options.seed ?? 1;
  const h = await startBlkHost(
    options.entries,
    {
      maxRingPageOrder: 6,
      maxQueues: Math.max(options.queues, 1),
      maxIndirectSegments: 256,
      persistent: true,
      maxPersistentGrants: 1 << 20,
      queueThreads: options.queueThreads ?? false,
    },
    { sharedMemoryBytes: 1 << 30 },
  );
  // performance.now(): no BigInt allocated per I/O (the job reads the clock at every submit and completion).
  const env: JobEnv = { nowNs: () => performance.now() * 1e6, defer: (fn) => setImmediate(fn) };
  const runs: BlkRunFigures[] = [];
  try {
    // Enough guest RAM for the largest rings and bounce pools.
    const g = await h.guest("bench-blk", 384);
    let n = 0;
    for (const pages of options.pages) {
      const devid = await h.addVbd({
        frontend: g.domid,
        vdev: `xvd${String.fromCharCode(97 + n++)}`,
        params: storeSpec(options.profile, sizeBytes, seed),
      });
      const config: Partial<BlkfrontConfig> = {
        maxRingPageOrder: Math.log2(pages),
        maxQueues: options.queues,
        persistent: options.zeroCopy ? false : (options.persistent ?? true),
        maxIndirectSegments: options.indirect ?? 0,
      };
      const front = await g.kernel.openBlkfront(g.xs, devid, {
        config,
        ...(options.frontPollUs
          ? {
              poll: {
                ms: options.frontPollUs / 1000,
                defer: (fn: () => void) => setImmediate(fn),
                clock: () => performance.now(),
              },
            }
          : {}),
        maxDataPagesPerRing: Math.max(
          1024,
          Math.ceil(options.iodepth / options.queues) * Math.ceil(options.bs / 4096) + 64,
        ),
      });
      await front.whenConnected();
      let area: GuestBufferArea | undefined;
      if (options.zeroCopy) {
        const a = await GuestBufferArea.create(g.kernel.memory, options.iodepth, options.bs);
        if (typeof a === "number") throw new Error(`guest buffers for the job: errno ${-a}`);
        area = a;
      }
      const jobEnv: JobEnv = area ? { ...env, buffer: area.take } : env;
      const label = `${pages} page(s)`;
      const ticker = setInterval(() => {
        const done =
          (Number(process.hrtime.bigint()) - started) / 1e6 / ((options.rampMs ?? 0) + options.durationMs);
        options.progress?.(label, Math.min(1, done));
      }, 250);
      const started = Number(process.hrtime.bigint());
      const rampMs = options.rampMs ?? Math.min(1000, options.durationMs / 4);
      const windowFrom = monotonicUs() + rampMs * 1000;
      const before = { ...front.stats };
      const mBefore = (await h.host.metrics()).body;
      const job = await runJob(
        front,
        {
          name: label,
          rw: options.rw,
          bs: options.bs,
          iodepth: options.iodepth,
          runtimeMs: options.durationMs,
          rampMs,
          seed,
        },
        jobEnv,
      );
      const window = { from_us: windowFrom, to_us: monotonicUs() };
      clearInterval(ticker);
      options.progress?.(label, 1);
      const mAfter = (await h.host.metrics()).body;
      const labels = { domid: String(g.domid), devid: String(devid) };
      const backSent =
        counterSum(mAfter, "blkback_notifications_sent_total", labels) -
        counterSum(mBefore, "blkback_notifications_sent_total", labels);
      const fig = runFigures(
        job,
        { pages, slots: front.ringInfo.slots, queues: front.ringInfo.queues },
        options,
        {
          frontSent: front.stats.notificationsSent - before.notificationsSent,
          backSent,
          completed: front.stats.completed - before.completed,
        },
      );
      fig.window_us = window;
      if (options.zeroCopy)
        fig.zero_copy_per_io = round(
          (front.stats.zeroCopyRequests - before.zeroCopyRequests) /
            Math.max(1, front.stats.completed - before.completed),
          3,
        );
      runs.push(fig);
      log(
        `${label.padEnd(11)} slots ${String(fig.ring_slots).padStart(5)}  ${String(fig.iops).padStart(9)} IOPS  ${String(fig.mb_s).padStart(8)} MB/s  p50 ${fig.clat_us.p50} µs  p99 ${fig.clat_us.p99} µs  outstanding ${fig.avg_outstanding}  kicks/IO ${fig.notifications_per_io.total}`,
      );
      await front.close();
      area?.release();
      await h.removeVbd(g.domid, devid);
    }
  } finally {
    await h.stop();
  }
  const { entries: _e, log: _l, progress: _p, ...params } = options;
  return { bench: "blk", placement: "embedded", machine: machineInfo(), params, runs };
}
