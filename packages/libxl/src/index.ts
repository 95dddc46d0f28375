// @xensim/libxl: what libxl writes into xenstore, as pure layouts (the toolstack, xl.cfg parsing,
// tests and benchmarks share them instead of importing a backend driver).
export {
  type DomainSkeleton,
  domainSkeleton,
  type DomainSkeletonSpec,
  GUEST_WRITABLE_NODES,
  STORE_GFN,
} from "./domain.js";
export { applyLibxlOps, type LibxlStoreOp, type LibxlStoreOps } from "./store.js";
export {
  applyVbdDirectories,
  type LibxlVbdSpec,
  type VbdDirectories,
  type VbdDirectoryOp,
  vbdDevid,
  vbdDirectories,
} from "./vbd.js";
