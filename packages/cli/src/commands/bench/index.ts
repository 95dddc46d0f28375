// `xensim bench …`: benchmarks with JSON output. The subcommands are listed in ./registry.ts.
import type { Command } from "commander";
import { registerAll } from "../../command.js";
import * as subcommands from "./registry.js";

export default function registerBench(program: Command): void {
  const bench = program.command("bench").description("benchmarks with JSON output");
  registerAll(bench, subcommands);
}
