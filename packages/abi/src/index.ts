export * from "./xs-wire.js";
