// `xensim bench link`: the data plane's transport, by measurement (bench/src/link.ts).
import { LINK_TRANSPORTS, type LinkTransportName, runLinkBench, writeJson } from "@xensim/bench";
import type { Command } from "commander";
import { examples } from "../../command.js";

export default function registerLink(bench: Command): void {
  bench
    .command("link")
    .addHelpText("after", examples("npx xensim bench link --duration-ms 500 --json /tmp/link.json"))
    .description(
      "the same batched record stream between two host processes over gRPC bidi, NATS, framed TCP and framed unix socket: records/s, MB/s, one-record latency beside NATS publish → receive",
    )
    .option("--json <file>", "write the results as JSON")
    .option("--nats <url>", "NATS server (default: start a nats-server for the run)")
    .option("--duration-ms <ms>", "measuring time per transport", "2000")
    .option("--ios-per-frame <n>", "I/Os (page delta, slot delta, index, kick) per frame", "15")
    .option("--window <n>", "frames in flight", "64")
    .option("--transports <list>", `comma list of ${LINK_TRANSPORTS.join(",")}`, LINK_TRANSPORTS.join(","))
    .action(
      async (o: {
        json?: string;
        nats?: string;
        durationMs: string;
        iosPerFrame: string;
        window: string;
        transports: string;
      }) => {
        const result = await runLinkBench({
          durationMs: Number(o.durationMs),
          iosPerFrame: Number(o.iosPerFrame),
          window: Number(o.window),
          transports: o.transports.split(",") as LinkTransportName[],
          ...(o.nats ? { natsUrl: o.nats } : {}),
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
