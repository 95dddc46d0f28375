// `xensim bench …`: benchmarks with JSON output.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { runHypervisorBench, runReplicationBench, runXenstoreBench, writeJson } from "@xensim/bench";
import type { Command } from "commander";
import { serviceEntry } from "../services.js";
import { embeddedXenstored } from "./services.js";

export function registerBenchCommands(program: Command): void {
  const bench = program.command("bench").description("benchmarks with JSON output");
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
    .command("replication")
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
  bench
    .command("hypervisor")
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
