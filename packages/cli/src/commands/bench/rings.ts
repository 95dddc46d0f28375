// `xensim bench rings`: the ring-page benchmark.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  defaultIodepth,
  RINGS_PLACEMENTS,
  RINGS_PROFILES,
  profileWindow,
  readThreadProfiles,
  type RingsBenchResult,
  type RingsPlacement,
  type RingsProfile,
  ringsSvg,
  ringsTable,
  runRingsBench,
  topFramesMarkdown,
  writeJson,
} from "@xensim/bench";
import type { RwPattern } from "@xensim/workload";
import type { Command } from "commander";
import { examples } from "../../command.js";
import { serviceEntry } from "../../services.js";
import { parseSize } from "./common.js";

/** Set in the child that runs the benchmark under --cpu-prof (its profiles' directory). */
const PROFILED_CHILD = "XENSIM_BENCH_CPU_PROFILE_DIR";

/**
 * --cpu-profile: runs this same command in a child node with --cpu-prof (every thread writes its
 * profile at exit), then attaches each job's thread times to the result. Returns the exit code.
 */
async function runProfiled(json: string | undefined, plot: string | undefined): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "xensim-cpu-prof-"));
  try {
    const args: string[] = [];
    const argv = process.argv.slice(2);
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === "--cpu-profile") continue;
      if (a === "--json" || a === "--plot") {
        i++;
        continue;
      }
      if (a.startsWith("--json=") || a.startsWith("--plot=")) continue;
      args.push(a);
    }
    const resultFile = join(dir, "result.json");
    const code = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        [`--cpu-prof`, `--cpu-prof-dir=${dir}`, process.argv[1]!, ...args, "--json", resultFile],
        { stdio: "inherit", env: { ...process.env, [PROFILED_CHILD]: dir } },
      );
      child.on("exit", (c) => resolve(c ?? 1));
    });
    if (code !== 0) return code;
    const result = JSON.parse(readFileSync(resultFile, "utf8")) as RingsBenchResult;
    const threads = readThreadProfiles(dir);
    for (const job of result.jobs) {
      if (!job.window_us) continue;
      job.profile = profileWindow(threads, job.window_us);
      process.stdout.write(`\n${job.jobname}: where the time goes (self time in the measured window)\n`);
      process.stdout.write(`${topFramesMarkdown(job.profile, 12)}\n`);
    }
    if (json) {
      writeJson(json, result);
      process.stdout.write(`wrote ${json}\n`);
    }
    if (plot) {
      writeFileSync(plot, ringsSvg(result));
      process.stdout.write(`wrote ${plot}\n`);
    }
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default function registerRings(bench: Command): void {
  bench
    .command("rings")
    .addHelpText(
      "after",
      examples(
        "npx xensim bench rings --profile iscsi-array --pages 1,8,64 --duration 2 --json /tmp/rings.json --plot /tmp/rings.svg",
      ),
    )
    .description(
      "the ring-page benchmark: IOPS and latency per blkif ring size (guest blkfront → ring → blkback → store) beside the store profile's queueing-theory prediction, or the raw ring ceiling for the null store; table, fio-shaped JSON, SVG plot",
    )
    .option("--pages <list>", "ring sizes in pages (comma list, powers of two 1..64)", "1,2,4,8,16,32,64")
    .option("--profile <name>", `store behind blkback: ${RINGS_PROFILES.join(", ")}`, "iscsi-array")
    .option(
      "--placement <p>",
      `${RINGS_PLACEMENTS.join(" or ")} (blkfront and blkback in one host process, or two)`,
      "embedded",
    )
    .option("--queues <n>", "queues (multi-queue-num-queues) per disk", "1")
    .option("--queue-threads", "embedded: blkback serves queues ≥ 1 on threads of their own (queueThreads)")
    .option("--iodepth <n>", "I/Os kept in flight (default: the slots of the largest ring × queues)")
    .option("--bs <size>", "block size (bytes, or with k/m)", "4k")
    .option("--rw <pattern>", "randread, randwrite or randrw", "randread")
    .option(
      "--duration <s>",
      "measuring time per ring size, seconds (after a warm-up of min(1 s, duration/4))",
      "5",
    )
    .option("--json <file>", "write the result (fio-shaped jobs[] plus our fields) as JSON")
    .option("--plot <file.svg>", "write an SVG plot of IOPS and latency against ring pages")
    .option(
      "--nats <url>",
      "NATS server for --placement distributed or three-hosts (default: start a nats-server)",
    )
    .option("--no-ceiling", "null store: skip the raw ring ceiling")
    .option(
      "--front-poll-us <n>",
      "embedded: blkfront looks for responses this long (µs, at least 32 looks) before it sleeps, so blkback need not wake it (default 0: sleeps at once)",
    )
    .option(
      "--zero-copy",
      "embedded: blkfront without persistent grants grants the job's own guest pages per request (no bounce copy; the JSON's data_path says which)",
    )
    .option("--seed <n>", "seed of the job and the store model", "1")
    .option(
      "--cpu-profile",
      "run under node --cpu-prof and add each thread's busy share and top frames in the measured window to every job (embedded placement: the bench process's threads)",
    )
    .action(
      async (o: {
        pages: string;
        profile: string;
        placement: string;
        queues: string;
        queueThreads?: boolean;
        iodepth?: string;
        bs: string;
        rw: string;
        duration: string;
        json?: string;
        plot?: string;
        nats?: string;
        ceiling: boolean;
        seed: string;
        cpuProfile?: boolean;
        zeroCopy?: boolean;
        frontPollUs?: string;
      }) => {
        if (o.cpuProfile && process.env[PROFILED_CHILD] === undefined) {
          process.exit(await runProfiled(o.json, o.plot));
        }
        const fail = (m: string): never => {
          process.stderr.write(`xensim bench rings: ${m}\n`);
          process.exit(2);
        };
        if (!(RINGS_PROFILES as readonly string[]).includes(o.profile))
          fail(`unknown --profile ${o.profile}`);
        if (!(RINGS_PLACEMENTS as readonly string[]).includes(o.placement))
          fail(`unknown --placement ${o.placement}`);
        if (!["randread", "randwrite", "randrw"].includes(o.rw))
          fail(`--rw ${o.rw}: randread, randwrite or randrw`);
        const bs = parseSize(o.bs) ?? fail(`--bs ${o.bs} is not a size`);
        const pages = o.pages.split(",").map(Number);
        for (const p of pages)
          if (!Number.isInteger(Math.log2(p)) || p < 1 || p > 64)
            fail(`--pages: ${p} is not a power of two in 1..64`);
        const queues = Number(o.queues);
        if (!Number.isInteger(queues) || queues < 1) fail(`--queues ${o.queues}`);
        const iodepth = o.iodepth === undefined ? defaultIodepth(pages, queues) : Number(o.iodepth);
        if (!Number.isInteger(iodepth) || iodepth < 1) fail(`--iodepth ${o.iodepth}`);
        if (o.zeroCopy && o.placement !== "embedded") fail("--zero-copy: embedded placement only");
        const durationS = Number(o.duration);
        if (!(durationS > 0)) fail(`--duration ${o.duration}`);
        const tty = process.stdout.isTTY;
        const result = await runRingsBench({
          entries: {
            hypervisor: serviceEntry("hypervisor"),
            xenstored: serviceEntry("xenstored"),
            blkback: serviceEntry("blkback"),
            pageServer: serviceEntry("page-server"),
          },
          pages,
          profile: o.profile as RingsProfile,
          placement: o.placement as RingsPlacement,
          queues,
          ...(o.queueThreads ? { queueThreads: true } : {}),
          iodepth,
          bs,
          rw: o.rw as RwPattern,
          durationMs: durationS * 1000,
          seed: Number(o.seed),
          ceiling: o.ceiling,
          ...(o.zeroCopy ? { zeroCopy: true } : {}),
          ...(o.frontPollUs ? { frontPollUs: Number(o.frontPollUs) } : {}),
          ...(o.nats ? { natsUrl: o.nats } : {}),
          log: (l) => process.stdout.write(`${tty ? "\r\x1b[K" : ""}${l}\n`),
          progress: (label, f) => {
            if (!tty) return;
            const w = 30;
            const n = Math.round(f * w);
            process.stdout.write(
              `\r\x1b[K${label.padEnd(12)} [${"#".repeat(n)}${".".repeat(w - n)}] ${Math.round(f * 100)}%`,
            );
          },
        });
        if (tty) process.stdout.write("\r\x1b[K");
        process.stdout.write(
          `\n${o.profile}, ${o.placement}, ${o.rw} ${bs} B, iodepth ${iodepth}, ${queues} queue(s), ${durationS} s per ring size\n${ringsTable(result)}\n`,
        );
        if (o.json) {
          writeJson(o.json, result);
          process.stdout.write(`wrote ${o.json}\n`);
        }
        if (o.plot) {
          writeFileSync(o.plot, ringsSvg(result));
          process.stdout.write(`wrote ${o.plot}\n`);
        }
        process.exit(0);
      },
    );
}
