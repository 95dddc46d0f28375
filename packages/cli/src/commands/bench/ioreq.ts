// `xensim bench ioreq`: synchronous port-I/O round trips and buffered writes from a guest vCPU to its
// device model, beside an Atomics ping-pong floor measured in the same run.
import { runIoreqBench, writeJson } from "@xensim/bench";
import type { Command } from "commander";
import { examples } from "../../command.js";
import { serviceEntry } from "../../services.js";

export default function registerIoreq(bench: Command): void {
  bench
    .command("ioreq")
    .addHelpText("after", examples("npx xensim bench ioreq --duration-ms 500"))
    .description(
      "a vCPU's port I/O through Xen's ioreq path to the device model: round trips, p50/p99, buffered writes/s",
    )
    .option("--json <file>", "write the results as JSON")
    .option("--duration-ms <ms>", "measuring time per row", "3000")
    .option("--spin <n>", "slot checks the vCPU spins before blocking (0 = block at once, as Xen)", "0")
    .option("--no-distributed", "skip the row with the device model in another host process")
    .action(async (o: { json?: string; durationMs: string; spin: string; distributed: boolean }) => {
      const result = await runIoreqBench({
        hypervisorEntry: serviceEntry("hypervisor"),
        xenstoredEntry: serviceEntry("xenstored"),
        deviceModelEntry: serviceEntry("device-model"),
        ...(o.distributed ? { pageServerEntry: serviceEntry("page-server") } : {}),
        durationMs: Number(o.durationMs),
        spin: Number(o.spin),
        log: (l) => process.stdout.write(`${l}\n`),
      });
      if (o.json) {
        writeJson(o.json, result);
        process.stdout.write(`wrote ${o.json}\n`);
      }
      process.exit(0);
    });
}
