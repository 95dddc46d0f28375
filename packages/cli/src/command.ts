// What a command file exports: a function that adds its command(s) under a parent command.
import type { Command } from "commander";

/** The default export of every command file: adds its command(s) under `parent`. */
export type RegisterCommand = (parent: Command) => void;

/** Registers every command of a registry module (`import * as registry`), in name order. */
export function registerAll(parent: Command, registry: Record<string, RegisterCommand>): void {
  for (const register of Object.values(registry)) register(parent);
}

/** Help text for `.addHelpText("after", …)`: the command lines shown as examples. */
export function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? "s" : ""}:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
}
