// `xensim bench` subcommands: one line per command file. A file default-exports a RegisterCommand
// (../../command.ts) that adds its subcommand under `bench`; keep the lines sorted by name.
export { default as blk } from "./blk.js";
export { default as display } from "./display.js";
export { default as hypervisor } from "./hypervisor.js";
export { default as ioreq } from "./ioreq.js";
export { default as link } from "./link.js";
export { default as rings } from "./rings.js";
export { default as traceCost } from "./trace-cost.js";
export { default as xenstore } from "./xenstore.js";
