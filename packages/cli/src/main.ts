#!/usr/bin/env node
// The xensim command: every xensim command hangs off this program. Commands live one per file
// under commands/ and are listed in commands/registry.ts.
import { Command } from "commander";
import { examples, registerAll } from "./command.js";
import * as commands from "./commands/registry.js";

const program = new Command()
  .name("xensim")
  .description(
    "Xen's split-driver I/O architecture, emulated: xenstored, hypervisor, backends, guests, toolstack",
  )
  .version("0.1.0")
  .showHelpAfterError("(add --help for usage and examples)")
  .addHelpText(
    "after",
    examples("npx xensim up", "npx xensim xl list", "npx xensim bench rings --help") +
      "\nEvery command has --help with an example. Docs: docs/README.md in the repository.\n",
  );

registerAll(program, commands);

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`xensim: ${err.message}\n`);
  process.exit(1);
});
