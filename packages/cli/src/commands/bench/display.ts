// `xensim bench display`: page flips/s and flip-to-event latency of the para-virtual display.
import {
  DISPLAY_PLACEMENTS,
  type DisplayPlacement,
  displayTable,
  runDisplayBench,
  writeJson,
} from "@xensim/bench";
import type { Command } from "commander";
import { examples } from "../../command.js";
import { serviceEntry } from "../../services.js";

export default function registerDisplay(bench: Command): void {
  bench
    .command("display")
    .addHelpText(
      "after",
      examples("npx xensim bench display --resolutions 640x480 --placement embedded --duration 2"),
    )
    .description(
      "para-virtual display: page flips per second and flip-to-event latency (guest displfront → ring → displback composing → event page), embedded and with displback in another host process",
    )
    .option("--json <file>", "write the results as JSON")
    .option("--resolutions <list>", "connector sizes, comma list of WxH", "640x480,1920x1080")
    .option(
      "--placement <list>",
      `comma list of ${DISPLAY_PLACEMENTS.join(", ")}`,
      DISPLAY_PLACEMENTS.join(","),
    )
    .option("--duration <s>", "measuring time per resolution and placement, seconds", "5")
    .option("--nats <url>", "NATS server for the distributed placement (default: start one)")
    .action(
      async (o: {
        json?: string;
        resolutions: string;
        placement: string;
        duration: string;
        nats?: string;
      }) => {
        const fail = (m: string): never => {
          process.stderr.write(`xensim bench display: ${m}\n`);
          process.exit(2);
        };
        const resolutions = o.resolutions.split(",").map((r) => {
          const m = /^(\d+)x(\d+)$/.exec(r.trim()) ?? fail(`--resolutions: '${r}' is not WxH`);
          return { width: Number(m[1]), height: Number(m[2]) };
        });
        const placements = o.placement.split(",").map((p) => {
          if (!(DISPLAY_PLACEMENTS as readonly string[]).includes(p.trim())) fail(`unknown placement ${p}`);
          return p.trim() as DisplayPlacement;
        });
        const result = await runDisplayBench({
          entries: {
            hypervisor: serviceEntry("hypervisor"),
            xenstored: serviceEntry("xenstored"),
            displback: serviceEntry("displback"),
            pageServer: serviceEntry("page-server"),
          },
          resolutions,
          placements,
          durationMs: Number(o.duration) * 1000,
          ...(o.nats ? { natsUrl: o.nats } : {}),
          log: (l) => process.stdout.write(`${l}\n`),
        });
        process.stdout.write(`\n${displayTable(result)}\n`);
        if (o.json) {
          writeJson(o.json, result);
          process.stdout.write(`wrote ${o.json}\n`);
        }
        process.exit(0);
      },
    );
}
