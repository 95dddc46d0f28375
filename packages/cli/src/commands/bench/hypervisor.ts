// `xensim bench hypervisor`: grant map/unmap and event-channel latency.
import { createRequire } from "node:module";
import { runHypervisorBench, runReplicationBench, writeJson } from "@xensim/bench";
import type { Command } from "commander";
import { examples } from "../../command.js";
import { serviceEntry } from "../../services.js";

export default function registerHypervisor(bench: Command): void {
  bench
    .command("hypervisor")
    .addHelpText("after", examples("npx xensim bench hypervisor --duration-ms 500 --no-replication"))
    .description(
      "grant map+unmap (in-process atomics, gRPC) and event-channel latency (worker thread, NATS wake-ups) beside an Atomics ping-pong",
    )
    .option("--json <file>", "write the results as JSON")
    .option("--nats <url>", "NATS server for the bus wake-ups (default: start a nats-server for the run)")
    .option("--duration-ms <ms>", "measuring time per row", "2000")
    .option("--batch <n>", "grant refs per map/unmap call in the batched rows", "32")
    .option("--no-replication", "skip the page replication rows (xensim bench replication runs them alone)")
    .action(
      async (o: {
        json?: string;
        nats?: string;
        durationMs: string;
        batch: string;
        replication: boolean;
      }) => {
        const hv = await runHypervisorBench({
          hypervisorEntry: serviceEntry("hypervisor"),
          ...(o.nats ? { natsUrl: o.nats } : {}),
          durationMs: Number(o.durationMs),
          batch: Number(o.batch),
          log: (l) => process.stdout.write(`${l}\n`),
        });
        // Replication pages/s between two host processes belongs to the same figure set.
        const result = o.replication
          ? {
              ...hv,
              replication: await runReplicationBench({
                pageServerEntry: createRequire(import.meta.url).resolve("@xensim/svc-page-server/main"),
                ...(o.nats ? { natsUrl: o.nats } : {}),
                durationMs: Number(o.durationMs),
                log: (l) => process.stdout.write(`${l}\n`),
              }),
            }
          : hv;
        if (o.json) {
          writeJson(o.json, result);
          process.stdout.write(`wrote ${o.json}\n`);
        }
        process.exit(0);
      },
    );
}
