// @xensim/blkback: the blkback driver core (Linux xen-blkback) over injected xenstore, hypervisor,
// storage, clock and logger.
export {
  BLKBACK_DRIVER_DEFAULT_CONFIG,
  BLKBACK_VCPU,
  BlkbackDevice,
  BlkbackDriver,
  type BlkbackDriverOptions,
  type BlkbackQueueHandover,
  type BlkbackQueueThreads,
  type BlkbackRemoteRing,
  type BlkbackRingInfo,
  readDirectory,
} from "./driver.js";
export {
  type BlkbackClock,
  type BlkbackEventReceiver,
  type BlkbackHypervisor,
  type BlkbackStoreOpener,
} from "./environment.js";
export {
  type BlkbackPoll,
  BLKIF_RSP_GARBAGE,
  BlkbackRing,
  type BlkbackRingOptions,
  DEFAULT_MAX_PERSISTENT_GRANTS,
} from "./blkif-ring.js";
export {
  LATENCY_BUCKETS_SECONDS,
  LatencyHistogram,
  RING_STATS_COUNTERS,
  RingStats,
  RingStatsMirror,
} from "./stats.js";
