// @xensim/xenbus: the xenbus driver core, as Linux's drivers/xen/xenbus.
export {
  errnoOf,
  type GatherKind,
  type GatherResult,
  type GatherSpec,
  parseDriverState,
  XenbusDevice,
  type XenbusDeviceOptions,
  type XenbusSide,
} from "./device.js";
export type { DataPlanePort } from "./data-port.js";
export { XenbusError } from "./errors.js";
export { childLogger, type DriverLogger, NULL_LOGGER } from "./logger.js";
export { PortDispatcher } from "./port-dispatcher.js";
export { scanInt, scanUnsigned, xbFormat } from "./format.js";
export {
  type GrantRefAllocator,
  GrantRefPool,
  type GrantRingResult,
  grantRing,
  type MapRingResult,
  mapRing,
  ungrantRing,
  unmapRing,
  XENBUS_MAX_RING_GRANTS,
  type XenbusGrantMapResult,
  type XenbusHypervisor,
} from "./grant-rings.js";
export {
  backendPath,
  backendRoot,
  domainHome,
  errorNodePath,
  frontendPath,
  frontendRoot,
  relativeToHome,
} from "./paths.js";
export { XenbusProbe, type XenbusProbeEvent, type XenbusProbeOptions } from "./probe.js";
export { AsyncQueue } from "./queue.js";
export {
  lsOrEmpty,
  nodeExists,
  type RetryOptions,
  retryTransaction,
  type XenbusStore,
  type XenbusStoreOps,
  type XenbusWatch,
  type XenbusWatchEvent,
  xsErrorCode,
} from "./store.js";
