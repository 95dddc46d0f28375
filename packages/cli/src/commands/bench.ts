// `xensim bench …`: benchmarks with JSON output.
import { fileURLToPath } from "node:url";
import { runXenstoreBench, writeJson } from "@xensim/bench";
import type { Command } from "commander";
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
}
