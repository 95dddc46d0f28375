// `xensim bench …`: benchmarks with JSON output.
import { fileURLToPath } from "node:url";
import {
  BLK_PROFILES,
  type BlkProfile,
  runBlkBench,
  runHypervisorBench,
  defaultIodepth,
  RINGS_PLACEMENTS,
  RINGS_PROFILES,
  type RingsPlacement,
  type RingsProfile,
  ringsSvg,
  ringsTable,
  runRingsBench,
  runXenstoreBench,
  writeJson,
} from "@xensim/bench";
import { writeFileSync } from "node:fs";
import { RW_PATTERNS, type RwPattern } from "@xensim/workload";
import type { Command } from "commander";
import { serviceEntry } from "../services.js";
import { registerLinkBenchCommand } from "./bench-link.js";
import { embeddedXenstored } from "./services.js";

export function registerBenchCommands(program: Command): void {
  const bench = program.command("bench").description("benchmarks with JSON output");
  registerLinkBenchCommand(bench);
  bench
    .command("xenstore")
    .description("read, write and read-modify-write transaction over the unix socket, in-process and gRPC")
    .option("--json <file>", "write the results as JSON")
    .option("--duration-ms <ms>", "measuring time per transport and operation", "2000")
    .option("--transports <list>", "comma list of unix-socket,grpc,in-process", "unix-socket,grpc,in-process")
    .action(async (o: { json?: string; durationMs: string; transports: string }) => {
      const result = await runXenstoreBench({
        xensimBin: fileURLToPath(new URL("../main.js", import.meta.url)),
        durationMs: Number(o.durationMs),
        transports: o.transports.split(",") as Array<"unix-socket" | "grpc" | "in-process">,
        inProcess: embeddedXenstored,
        log: (l) => process.stdout.write(`${l}\n`),
      });
      if (o.json) {
        writeJson(o.json, result);
        process.stdout.write(`wrote ${o.json}\n`);
      }
      process.exit(0);
    });
  bench
    .command("hypervisor")
    .description(
      "grant map+unmap (in-process atomics, over the link, gRPC) and event-channel latency (worker thread, across host processes over the link) beside an Atomics ping-pong and a NATS publish → receive",
    )
    .option("--json <file>", "write the results as JSON")
    .option("--nats <url>", "NATS server (control plane of the cross-host rows; default: start one)")
    .option("--duration-ms <ms>", "measuring time per row", "2000")
    .option("--batch <n>", "grant refs per map/unmap call in the batched rows", "32")
    .action(async (o: { json?: string; nats?: string; durationMs: string; batch: string }) => {
      const hv = await runHypervisorBench({
        hypervisorEntry: serviceEntry("hypervisor"),
        pageServerEntry: serviceEntry("page-server"),
        ...(o.nats ? { natsUrl: o.nats } : {}),
        durationMs: Number(o.durationMs),
        batch: Number(o.batch),
        log: (l) => process.stdout.write(`${l}\n`),
      });
      const result = hv;
      if (o.json) {
        writeJson(o.json, result);
        process.stdout.write(`wrote ${o.json}\n`);
      }
      process.exit(0);
    });
  bench
    .command("blk")
    .description(
      "block I/O through guest blkfront → ring → blkback → store on an embedded host: IOPS, MB/s, completion latency, kicks per I/O, one run per ring size",
    )
    .option("--json <file>", "write the results as JSON")
    .option("--pages <list>", "ring sizes in pages (comma list, powers of two 1..64)", "1,64")
    .option("--queues <n>", "queues (multi-queue-num-queues) per disk", "1")
    .option("--iodepth <n>", "I/Os kept in flight", "128")
    .option("--bs <size>", "block size (bytes, or with k/m)", "4k")
    .option("--rw <pattern>", `one of ${RW_PATTERNS.join(", ")}`, "randread")
    .option("--profile <name>", `store behind blkback: ${BLK_PROFILES.join(", ")}`, "null")
    .option("--placement <p>", "embedded (blkfront and blkback in one host process)", "embedded")
    .option("--duration <s>", "measuring time per ring size, seconds", "5")
    .option("--indirect <n>", "indirect segments the frontend asks for (0: none)", "0")
    .option("--no-persistent", "no persistent grants (grant and map per request)")
    .option("--seed <n>", "seed of the job and the store model", "1")
    .action(
      async (o: {
        json?: string;
        pages: string;
        queues: string;
        iodepth: string;
        bs: string;
        rw: string;
        profile: string;
        placement: string;
        duration: string;
        indirect: string;
        persistent: boolean;
        seed: string;
      }) => {
        const fail = (m: string): never => {
          process.stderr.write(`xensim bench blk: ${m}\n`);
          process.exit(2);
        };
        if (!(BLK_PROFILES as readonly string[]).includes(o.profile)) fail(`unknown --profile ${o.profile}`);
        if (!(RW_PATTERNS as readonly string[]).includes(o.rw)) fail(`unknown --rw ${o.rw}`);
        if (o.placement !== "embedded")
          fail(`--placement ${o.placement}: only embedded is measured by this command so far`);
        const bs = parseSize(o.bs) ?? fail(`--bs ${o.bs} is not a size`);
        const tty = process.stdout.isTTY;
        const result = await runBlkBench({
          entries: {
            hypervisor: serviceEntry("hypervisor"),
            xenstored: serviceEntry("xenstored"),
            blkback: serviceEntry("blkback"),
          },
          pages: o.pages.split(",").map(Number),
          queues: Number(o.queues),
          iodepth: Number(o.iodepth),
          bs,
          rw: o.rw as RwPattern,
          profile: o.profile as BlkProfile,
          durationMs: Number(o.duration) * 1000,
          indirect: Number(o.indirect),
          persistent: o.persistent,
          seed: Number(o.seed),
          log: (l) => process.stdout.write(`${tty ? "\r\x1b[K" : ""}${l}\n`),
          progress: (label, f) => {
            if (!tty) return;
            const w = 30;
            const n = Math.round(f * w);
            process.stdout.write(
              `\r\x1b[K${label.padEnd(11)} [${"#".repeat(n)}${".".repeat(w - n)}] ${Math.round(f * 100)}%`,
            );
          },
        });
        if (o.json) {
          writeJson(o.json, result);
          process.stdout.write(`wrote ${o.json}\n`);
        }
        process.exit(0);
      },
    );
  bench
    .command("rings")
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
    .option("--nats <url>", "NATS server for --placement distributed (default: start a nats-server)")
    .option("--no-ceiling", "null store: skip the raw ring ceiling")
    .option("--seed <n>", "seed of the job and the store model", "1")
    .action(
      async (o: {
        pages: string;
        profile: string;
        placement: string;
        queues: string;
        iodepth?: string;
        bs: string;
        rw: string;
        duration: string;
        json?: string;
        plot?: string;
        nats?: string;
        ceiling: boolean;
        seed: string;
      }) => {
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
          iodepth,
          bs,
          rw: o.rw as RwPattern,
          durationMs: durationS * 1000,
          seed: Number(o.seed),
          ceiling: o.ceiling,
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

/** "4096", "4k", "1m" → bytes. */
function parseSize(s: string): number | undefined {
  const m = /^(\d+)([kKmM]?)$/.exec(s);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === "" ? 1 : /[kK]/.test(m[2]!) ? 1024 : 1024 * 1024);
}
