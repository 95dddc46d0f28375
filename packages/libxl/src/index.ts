// @xensim/libxl: what libxl writes into xenstore, as pure layouts (the toolstack, xl.cfg parsing,
// tests and benchmarks share them instead of importing a backend driver).
export type { LibxlStoreOps } from "./store.js";
export {
  applyVbdDirectories,
  type LibxlVbdSpec,
  type VbdDirectories,
  type VbdDirectoryOp,
  vbdDevid,
  vbdDirectories,
} from "./vbd.js";
