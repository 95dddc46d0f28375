// `xensim bench replication`: frames replicated per second between two page-server processes.
import { createRequire } from "node:module";
import { runReplicationBench, writeJson } from "@xensim/bench";
import type { Command } from "commander";
import { examples } from "../../command.js";

export default function registerReplication(bench: Command): void {
  bench
    .command("replication")
    .addHelpText(
      "after",
      examples("npx xensim bench replication --duration-ms 500 --json /tmp/replication.json"),
    )
    .description("frames replicated per second between two page-server processes (NATS batches, gRPC API)")
    .option("--json <file>", "write the results as JSON")
    .option("--nats <url>", "NATS server (default: start a nats-server for the run)")
    .option("--duration-ms <ms>", "measuring time per load", "3000")
    .option("--frames <n>", "frames replicated", "1024")
    .option("--frames-per-op <n>", "frames written/published per call", "64")
    .option("--depth <n>", "calls in flight", "8")
    .action(
      async (o: {
        json?: string;
        nats?: string;
        durationMs: string;
        frames: string;
        framesPerOp: string;
        depth: string;
      }) => {
        const result = await runReplicationBench({
          pageServerEntry: createRequire(import.meta.url).resolve("@xensim/svc-page-server/main"),
          ...(o.nats ? { natsUrl: o.nats } : {}),
          durationMs: Number(o.durationMs),
          frames: Number(o.frames),
          framesPerOp: Number(o.framesPerOp),
          depth: Number(o.depth),
          log: (l) => process.stdout.write(`${l}\n`),
        });
        if (o.json) {
          writeJson(o.json, result);
          process.stdout.write(`wrote ${o.json}\n`);
        }
        process.exit(0);
      },
    );
}
