#!/usr/bin/env node
// The xensim command: every xensim command hangs off this program.
import { Command } from "commander";
import { registerBenchCommands } from "./commands/bench.js";
import { registerKeysCommands } from "./commands/keys.js";
import { registerServiceCommands } from "./commands/services.js";
import { registerXenstoreCommands } from "./commands/xenstore.js";
import { registerXlCommands } from "./commands/xl.js";

const program = new Command()
  .name("xensim")
  .description(
    "Xen's split-driver I/O architecture, emulated: xenstored, hypervisor, backends, guests, toolstack",
  )
  .version("0.1.0");

registerServiceCommands(program);
registerXenstoreCommands(program);
registerBenchCommands(program);
registerXlCommands(program);
registerKeysCommands(program);

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`xensim: ${err.message}\n`);
  process.exit(1);
});
