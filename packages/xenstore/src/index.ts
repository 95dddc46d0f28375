// @xensim/xenstore: the pure xenstore engine and the xs wire codec.

export { binaryStrings, bytesToBinary, fromBase64, toBase64 } from "./bytes.js";
export { DOMID_SELF, XenstoreEngine } from "./engine.js";
export { XenstoreStateError, XsError } from "./errors.js";
export {
  baseName,
  type CanonicalizeResult,
  canonicalize,
  childPath,
  domainPath,
  isChild,
  parentPath,
  XS_INTRODUCE_DOMAIN,
  XS_RELEASE_DOMAIN,
} from "./path.js";
export {
  formatXsPerm,
  parseXsPerm,
  permAccessBits,
  XS_PERM_NONE,
  XS_PERM_OWNER,
  XS_PERM_READ,
  XS_PERM_WRITE,
  type XsPerm,
  type XsPermAccess,
} from "./perms.js";
export {
  XS_RING_DEFAULT_FEATURES,
  XsRingClient,
  type XsRingClientPoll,
  XsRingError,
  type XsRingErrorName,
  type XsRingPage,
  XsRingServer,
  type XsRingServerOptions,
  type XsRingServerPoll,
  xsRingErrorName,
} from "./ring-page.js";
export {
  DEFAULT_OUTPUT_LIMITS,
  type OutputAccounting,
  type OutputLimits,
  type OutputStats,
  wireBytes,
  XsOutputQueues,
} from "./output-queue.js";
export { DEFAULT_QUOTAS, DEFAULT_SOFT_MEMORY_QUOTA, QUOTA_NAMES, type Quotas } from "./quota.js";
export type {
  ConnectionInfo,
  ConnectOptions,
  ConnId,
  Effect,
  EngineOptions,
  Mutation,
  Output,
  QuotaUsage,
  SnapshotDomain,
  SnapshotNode,
  WatchDelivery,
  WatchInfo,
  XenstoreSnapshot,
} from "./types.js";
export {
  encodeXsMessage,
  parseXsStrings,
  XsDecoder,
  type XsFeedResult,
  type XsMessage,
  XsProtocolError,
  xsError,
  xsErrorName,
  xsOk,
  xsReply,
  xsRequest,
  xsStrings,
  xsWatchEvent,
} from "./wire.js";
