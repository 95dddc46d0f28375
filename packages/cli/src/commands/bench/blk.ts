// `xensim bench blk`: block I/O through blkfront → ring → blkback → store, per ring size.
import { BLK_PROFILES, type BlkProfile, runBlkBench, writeJson } from "@xensim/bench";
import { RW_PATTERNS, type RwPattern } from "@xensim/workload";
import type { Command } from "commander";
import { examples } from "../../command.js";
import { serviceEntry } from "../../services.js";
import { parseSize } from "./common.js";

export default function registerBlk(bench: Command): void {
  bench
    .command("blk")
    .addHelpText(
      "after",
      examples("npx xensim bench blk --pages 1,64 --profile null --duration 2 --json /tmp/blk.json"),
    )
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
}
