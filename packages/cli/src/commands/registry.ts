// The top-level xensim commands: one line per command file. A file default-exports a
// RegisterCommand (../command.ts); add yours here, keeping the lines sorted by name.
export { default as bench } from "./bench/index.js";
export { default as fuzz } from "./fuzz.js";
export { default as keys } from "./keys.js";
export { default as up } from "./up.js";
export { default as xenstore } from "./xenstore.js";
export { default as xenstored } from "./xenstored.js";
export { default as xl } from "./xl/index.js";
