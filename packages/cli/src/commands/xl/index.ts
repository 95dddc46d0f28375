// `xensim xl …`: xl's commands against the toolstack's HTTP API, output shaped like xl's. The
// subcommands are listed in ./registry.ts.
import type { Command } from "commander";
import { registerAll, examples } from "../../command.js";
import * as subcommands from "./registry.js";

export { formatBlockList } from "./block.js";
export { formatXlList } from "./domains.js";
export { toolstackUrl } from "./api.js";

export default function registerXl(program: Command): void {
  const xl = program
    .command("xl")
    .addHelpText(
      "after",
      examples("npx xensim xl list", "npx xensim xl --api http://127.0.0.1:9080 block-list guest1"),
    )
    .description("xl's commands, through the toolstack's HTTP API (the host `xensim up` runs)")
    .option("--api <url>", "toolstack API (default: $XENSIM_API, .xensim/toolstack.url, :9080)")
    .option("--state-dir <dir>", "where `xensim up` wrote toolstack.url", ".xensim");
  registerAll(xl, subcommands);
}
