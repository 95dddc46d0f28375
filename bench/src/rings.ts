// `xensim bench rings`: the ring-page benchmark. One job per ring size through the whole block path
// (guest blkfront → shared ring → blkback → store, run by bench/src/blk.ts), each beside the
// queueing-theory prediction of the store's profile (@xensim/blkstore's exact MVA with
// outstanding = min(iodepth, ring slots × queues)); for the null store, beside the raw shared-ring
// ceiling at the same depth (ring-ceiling.ts). The result is fio-shaped (`jobs[]`, one per ring
// size, with fio's read/write blocks) plus our own fields.
import { predict } from "@xensim/blkstore";
import type { IoFigures, RwPattern } from "@xensim/workload";
import { type BlkRunFigures, runBlkBench } from "./blk.js";
import type { BlkServiceEntries } from "@xensim/harness";
import { blkifRingSlots, type RingCeilingFigures, runRingCeiling } from "./ring-ceiling.js";
import type { MonotonicWindow, ThreadTime } from "./cpu-profile.js";
import { runDistributedBlk } from "./rings-distributed.js";
import { machineInfo, round } from "./stats.js";

export type RingsProfile = "iscsi-array" | "ssd" | "null";
export const RINGS_PROFILES: readonly RingsProfile[] = ["iscsi-array", "ssd", "null"];
export type RingsPlacement = "embedded" | "distributed" | "three-hosts";
export const RINGS_PLACEMENTS: readonly RingsPlacement[] = ["embedded", "distributed", "three-hosts"];

export interface RingsBenchOptions {
  entries: BlkServiceEntries & { pageServer?: string };
  pages: number[];
  profile: RingsProfile;
  placement: RingsPlacement;
  queues: number;
  /** Embedded: blkback serves queues ≥ 1 on threads of their own (its queueThreads setting). */
  queueThreads?: boolean;
  /** Default: the slots of the largest ring × queues (enough to fill it). */
  iodepth?: number;
  bs: number;
  rw: RwPattern;
  durationMs: number;
  rampMs?: number;
  seed?: number;
  /** NATS server for the distributed placement (default: start a nats-server). */
  natsUrl?: string;
  /** Embedded: no persistent grants, the job's buffers in guest pages granted per request (BlkBenchOptions.zeroCopy). */
  zeroCopy?: boolean;
  /** Embedded: blkfront polls for responses this long before it sleeps (BlkBenchOptions.frontPollUs). */
  frontPollUs?: number;
  /** Measure the raw ring ceiling beside a null store (default true). */
  ceiling?: boolean;
  log?: (line: string) => void;
  progress?: (label: string, fraction: number) => void;
}

/** One job per ring size: fio's fields, then ours. */
export interface RingsJob {
  jobname: string;
  groupid: number;
  error: number;
  job_runtime: number;
  read: IoFigures;
  write: IoFigures;
  pages: number;
  ring_slots: number;
  queues: number;
  iodepth: number;
  iops: number;
  mb_s: number;
  clat_us: BlkRunFigures["clat_us"];
  avg_outstanding: number;
  notifications_per_io: number;
  notifications: BlkRunFigures["notifications_per_io"];
  /** Outstanding I/O the prediction assumes: min(iodepth, ring slots × queues). */
  predicted_outstanding: number | null;
  predicted_iops: number | null;
  /** Mean completion latency the job should see (Little: iodepth ÷ predicted IOPS; it includes waiting for a ring slot). */
  predicted_clat_ms: number | null;
  /** The store's own mean latency at predicted_outstanding (blkstore predict().latencyMs). */
  predicted_store_ms: number | null;
  ratio_to_prediction: number | null;
  /** zeroCopy: ring requests on the job's own guest pages per I/O (1 when every one was). */
  zero_copy_per_io?: number;
  /** Null store only: the bare ring ping-pong at the same depth, and the full stack's share of it. */
  ceiling?: RingCeilingFigures;
  ratio_to_ceiling?: number;
  /** The measured window on the CPU profiles' clock (embedded placement). */
  window_us?: MonotonicWindow;
  /** With --cpu-profile: each thread's busy share and top frames in the measured window. */
  profile?: ThreadTime[];
}

export interface RingsBenchResult {
  "fio version": string;
  bench: "rings";
  timestamp: number;
  placement: RingsPlacement;
  profile: RingsProfile;
  machine: Record<string, unknown>;
  /** How data reaches the backend: through persistently granted bounce pages, or the job's own pages granted per request. */
  data_path?: "persistent grants, bounce copy" | "per-request grants of the job's guest pages (zero copy)";
  "global options": Record<string, string>;
  params: Omit<RingsBenchOptions, "entries" | "log" | "progress" | "natsUrl"> & { iodepth: number };
  jobs: RingsJob[];
}

export function defaultIodepth(pages: readonly number[], queues: number): number {
  return blkifRingSlots(Math.max(...pages)) * Math.max(1, queues);
}

export async function runRingsBench(options: RingsBenchOptions): Promise<RingsBenchResult> {
  const log = options.log ?? (() => {});
  const iodepth = options.iodepth ?? defaultIodepth(options.pages, options.queues);
  const seed = options.seed ?? 1;
  const blkOpts = {
    entries: options.entries,
    pages: options.pages,
    queues: options.queues,
    iodepth,
    bs: options.bs,
    rw: options.rw,
    profile: options.profile,
    durationMs: options.durationMs,
    ...(options.rampMs !== undefined ? { rampMs: options.rampMs } : {}),
    seed,
    persistent: !options.zeroCopy,
    ...(options.zeroCopy ? { zeroCopy: true } : {}),
    ...(options.frontPollUs ? { frontPollUs: options.frontPollUs } : {}),
    ...(options.queueThreads ? { queueThreads: true } : {}),
    log,
    ...(options.progress ? { progress: options.progress } : {}),
  };
  if (options.zeroCopy && options.placement !== "embedded")
    throw new Error(
      "zero copy (guest buffers granted per request) is measured in the embedded placement only",
    );
  const { zeroCopy: _z, frontPollUs: _f, ...distOpts } = blkOpts;
  const runs =
    options.placement === "embedded"
      ? (await runBlkBench(blkOpts)).runs
      : await runDistributedBlk({
          ...distOpts,
          ...(options.natsUrl ? { natsUrl: options.natsUrl } : {}),
          threeHosts: options.placement === "three-hosts",
        });
  const jobs: RingsJob[] = [];
  for (const r of runs) {
    const outstanding = Math.min(iodepth, r.ring_slots * r.queues);
    const p = options.profile === "null" ? undefined : predict(options.profile, outstanding);
    const job: RingsJob = {
      jobname: `${r.pages}-page${r.pages > 1 ? "s" : ""}`,
      groupid: 0,
      error: r.errors,
      job_runtime: r.read.runtime || r.write.runtime,
      read: r.read,
      write: r.write,
      pages: r.pages,
      ring_slots: r.ring_slots,
      queues: r.queues,
      iodepth,
      iops: r.iops,
      mb_s: r.mb_s,
      clat_us: r.clat_us,
      avg_outstanding: r.avg_outstanding,
      notifications_per_io: r.notifications_per_io.total,
      notifications: r.notifications_per_io,
      predicted_outstanding: p ? outstanding : null,
      predicted_iops: p ? round(p.iops, 0) : null,
      predicted_clat_ms: p ? round((Math.max(iodepth, outstanding) / p.iops) * 1000, 3) : null,
      predicted_store_ms: p ? round(p.latencyMs, 3) : null,
      ratio_to_prediction: p ? round(r.iops / p.iops, 3) : null,
      ...(r.window_us ? { window_us: r.window_us } : {}),
      ...(r.zero_copy_per_io !== undefined ? { zero_copy_per_io: r.zero_copy_per_io } : {}),
    };
    if (options.profile === "null" && (options.ceiling ?? true)) {
      options.progress?.(`ceiling ${r.pages}p`, 0);
      const c = await runRingCeiling({
        pages: r.pages,
        depth: Math.min(iodepth, r.ring_slots),
        durationMs: options.durationMs,
        ...(options.rampMs !== undefined ? { rampMs: options.rampMs } : {}),
      });
      options.progress?.(`ceiling ${r.pages}p`, 1);
      job.ceiling = c;
      if (c.iops > 0) job.ratio_to_ceiling = round(r.iops / c.iops, 3);
      log(
        `${`${r.pages} page(s)`.padEnd(11)} raw ring ceiling: ${c.iops} round trips/s at depth ${c.depth}; full stack = ${job.ratio_to_ceiling ?? "-"} × ceiling`,
      );
    }
    jobs.push(job);
  }
  const { entries: _e, log: _l, progress: _p, natsUrl: _n, ...params } = options;
  return {
    "fio version": "xensim-rings-1",
    bench: "rings",
    timestamp: Math.floor(Date.now() / 1000),
    placement: options.placement,
    profile: options.profile,
    machine: machineInfo(),
    data_path: options.zeroCopy
      ? "per-request grants of the job's guest pages (zero copy)"
      : "persistent grants, bounce copy",
    "global options": {
      rw: options.rw,
      bs: String(options.bs),
      iodepth: String(iodepth),
      runtime: String(options.durationMs / 1000),
      ioengine: "xensim-blkfront",
    },
    params: { ...params, iodepth, seed },
    jobs,
  };
}

/** The terminal table of a result. */
export function ringsTable(r: RingsBenchResult): string {
  const head = [
    "pages",
    "slots",
    "IOPS",
    "MB/s",
    "p50 µs",
    "p90 µs",
    "p99 µs",
    "p99.9 µs",
    "outst.",
    "kicks/IO",
    r.profile === "null" ? "ceiling" : "pred. IOPS",
    r.profile === "null" ? "÷ ceiling" : "÷ pred.",
  ];
  const rows = r.jobs.map((j) => [
    String(j.pages),
    String(j.ring_slots),
    String(j.iops),
    String(j.mb_s),
    String(j.clat_us.p50),
    String(j.clat_us.p90),
    String(j.clat_us.p99),
    String(j.clat_us.p99_9),
    String(j.avg_outstanding),
    String(j.notifications_per_io),
    String(r.profile === "null" ? (j.ceiling?.iops ?? "-") : (j.predicted_iops ?? "-")),
    String(r.profile === "null" ? (j.ratio_to_ceiling ?? "-") : (j.ratio_to_prediction ?? "-")),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(w[i]!)).join("  ");
  const out = [line(head), ...rows.map(line)];
  const first = r.jobs[0];
  const last = r.jobs.at(-1);
  if (first && last && last !== first)
    out.push(
      `${last.pages} pages ÷ ${first.pages} page${first.pages > 1 ? "s" : ""}: ${round(last.iops / first.iops, 2)} × IOPS`,
    );
  return out.join("\n");
}
