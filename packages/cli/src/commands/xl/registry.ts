// `xensim xl` subcommands: one line per command file. A file default-exports a RegisterCommand
// (../../command.ts) that adds its subcommands under `xl`; keep the lines sorted by name.
export { default as block } from "./block.js";
export { default as deviceModel } from "./device-model.js";
export { default as display } from "./display.js";
export { default as domains } from "./domains.js";
export { default as vga } from "./vga.js";
