// @xensim/blkfront: the blkif frontend driver core (Linux xen-blkfront over injected interfaces).
export {
  Blkfront,
  type BlkfrontNotice,
  type BlkfrontOptions,
  type BlkfrontPoll,
  type BlkfrontStats,
  type BlkfrontTimer,
  blockStoreInfo,
} from "./blkfront.js";
export {
  type BlkfrontEvents,
  type BlkfrontHypervisor,
  DEFAULT_GRANT_REFS,
  GRANT_ENTRIES_PER_FRAME,
  type GuestMemory,
  type GuestPages,
  grantFramesFor,
  type PhysmapHypervisor,
  type PhysmapMemoryOptions,
  physmapMemory,
} from "./environment.js";
export { BlkfrontLifecycle } from "./lifecycle.js";
export { probeBlkfronts, type BlkfrontProbe, type BlkfrontProbeOptions } from "./probe.js";
