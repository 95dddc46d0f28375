// @xensim/harness: host processes brought up for tests and benchmarks (services started by the
// path of their compiled entry point, never imported).
export { type BlkHost, type BlkServiceEntries, startBlkHost } from "./blk-host.js";
export { type FrontendHost, type FrontendHostOptions, startFrontendHost } from "./frontend-host.js";
