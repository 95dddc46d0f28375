// `xensim bench hypervisor`: grant map/unmap and event-channel latency.
import { runHypervisorBench, writeJson } from "@xensim/bench";
import type { Command } from "commander";
import { examples } from "../../command.js";
import { serviceEntry } from "../../services.js";

export default function registerHypervisor(bench: Command): void {
  bench
    .command("hypervisor")
    .addHelpText("after", examples("npx xensim bench hypervisor --duration-ms 500"))
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
}
