// `xensim bench …`: benchmarks with JSON output. The subcommands are listed in ./registry.ts.
import type { Command } from "commander";
import { registerAll, examples } from "../../command.js";
import * as subcommands from "./registry.js";

export default function registerBench(program: Command): void {
  const bench = program
    .command("bench")
    .addHelpText(
      "after",
      examples(
        "npx xensim bench blk --pages 1,64 --duration 2",
        "npx xensim bench xenstore --duration-ms 500 --json /tmp/xenstore.json",
      ),
    )
    .description("benchmarks with JSON output");
  registerAll(bench, subcommands);
}
