export type { BlockIo, BlockIoStatus, BlockStore, BlockStoreInfo } from "./block-store.js";
export { BLOCK_SECTOR_BYTES, submitIo } from "./block-store.js";
export type { ByteTarget } from "./bytes.js";
export {
  type BlkifRequest,
  type BlkifResponse,
  type BlkifSegment,
  blkifId,
  decodeIndirectSegments,
  decodeRequest,
  decodeResponse,
  encodeIndirectSegments,
  encodeRequest,
  encodeResponse,
  indirectPages,
  newBlkifRequest,
  newBlkifResponse,
  newSegments,
  requestBytes,
  requestSector,
  responseOperation,
  setBlkifId,
  setDiscardSectors,
  setRequestSector,
} from "./codec.js";
export {
  BLKIF_MAX_INDIRECT_SEGMENTS_ABI,
  BLKIF_VERDICT_OKAY,
  type BlkifLimits,
  type BlkifVerdict,
  discardIsSecure,
  isWriteOp,
  segmentSectors,
  validateIndirectSegments,
  validateRequest,
} from "./validate.js";
export {
  BlkifKey,
  BlkifKeyError,
  parseMode,
  parseUnsigned,
  queueDir,
  readFeature,
  readOptional,
  readRequired,
  ringRefKey,
  type XenstoreValues,
} from "./keys.js";
export {
  negotiateIndirectSegments,
  negotiatePersistent,
  negotiateQueues,
  negotiateRingPageOrder,
} from "./negotiate.js";
export {
  type BlkifQueueRing,
  type CommonEffect,
  errorNodeValue,
  isXenbusState,
  type NegotiatedRings,
  type XenstoreOp,
} from "./effects.js";
export {
  BLKBACK_DEFAULT_CONFIG,
  type BlkbackConfig,
  type BlkbackEffect,
  type BlkbackEvent,
  type BlkbackPhase,
  type BlkbackState,
  type BlkbackStep,
  type BlkbackVbd,
  blkbackReduce,
  deviceProperties,
  initialBlkbackState,
  readFrontendRings,
} from "./blkback-handshake.js";
export {
  BLKFRONT_DEFAULT_CONFIG,
  type BlkfrontConfig,
  type BlkfrontDisk,
  type BlkfrontEffect,
  type BlkfrontEvent,
  type BlkfrontPhase,
  type BlkfrontState,
  type BlkfrontStep,
  blkfrontReduce,
  initialBlkfrontState,
  readBackendDisk,
  transportKeys,
} from "./blkfront-handshake.js";
export { blkifOpName, blkifRspName } from "./names.js";
