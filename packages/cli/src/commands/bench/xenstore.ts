// `xensim bench xenstore`: read, write and a transaction over each transport.
import { fileURLToPath } from "node:url";
import { runXenstoreBench, writeJson } from "@xensim/bench";
import { createInProcessCallClient } from "@xensim/bus";
import { loadXenstoreProto } from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import type { Command } from "commander";
import { examples } from "../../command.js";
import { serviceEntry } from "../../services.js";

export default function registerXenstore(bench: Command): void {
  bench
    .command("xenstore")
    .addHelpText("after", examples("npx xensim bench xenstore --duration-ms 500 --json /tmp/xenstore.json"))
    .description("read, write and read-modify-write transaction over the unix socket, in-process and gRPC")
    .option("--json <file>", "write the results as JSON")
    .option("--duration-ms <ms>", "measuring time per transport and operation", "2000")
    .option("--transports <list>", "comma list of unix-socket,grpc,in-process", "unix-socket,grpc,in-process")
    .action(async (o: { json?: string; durationMs: string; transports: string }) => {
      const result = await runXenstoreBench({
        xensimBin: fileURLToPath(new URL("../../main.js", import.meta.url)),
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

/** An embedded host running xenstored, and an in-process call client for it (benchmarks). */
export async function embeddedXenstored(): Promise<{
  calls: ReturnType<typeof createInProcessCallClient>;
  stop: () => Promise<void>;
}> {
  const host = await startHost({
    services: [{ name: "xenstored", entry: serviceEntry("xenstored"), config: {} }],
    logLevel: "warn",
  });
  await host.ready;
  const def = loadXenstoreProto().xensim.xenstore.v1.Xenstore.service;
  const calls = createInProcessCallClient(def, "xenstored");
  return {
    calls,
    stop: async () => {
      calls.close();
      await host.stop();
    },
  };
}
