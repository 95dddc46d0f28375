// `xensim bench trace-cost`: the protocol trace hooks compiled in but off against listening, on
// evtchn send, grant map+unmap, a xenstore write and the embedded rings null path (ABBA rounds).
import { runTraceCostBench, writeJson } from "@xensim/bench";
import type { Command } from "commander";
import { examples } from "../../command.js";
import { serviceEntry } from "../../services.js";

export default function registerTraceCost(bench: Command): void {
  bench
    .command("trace-cost")
    .addHelpText("after", examples("npx xensim bench trace-cost --round-ms 200 --rounds 4"))
    .description(
      "what the trace hooks cost: off (nobody listens) vs listening, per evtchn send, grant map+unmap, xenstore write and ring I/O",
    )
    .option("--json <file>", "write the results as JSON")
    .option("--round-ms <ms>", "measuring time per round (the rings row: twice as long)", "400")
    .option("--rounds <n>", "rounds per mode (alternating off / listening)", "6")
    .option("--no-rings", "skip the embedded rings row (it starts a host)")
    .action(async (o: { json?: string; roundMs: string; rounds: string; rings: boolean }) => {
      const result = await runTraceCostBench({
        roundMs: Number(o.roundMs),
        rounds: Number(o.rounds),
        ...(o.rings
          ? {
              entries: {
                hypervisor: serviceEntry("hypervisor"),
                xenstored: serviceEntry("xenstored"),
                blkback: serviceEntry("blkback"),
              },
            }
          : {}),
        log: (l) => process.stdout.write(`${l}\n`),
      });
      if (o.json) {
        writeJson(o.json, result);
        process.stdout.write(`wrote ${o.json}\n`);
      }
      process.exit(0);
    });
}
