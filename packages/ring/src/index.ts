export { BackRing } from "./back.js";
export { FrontRing } from "./front.js";
export {
  copyIn,
  copyOut,
  markSlotsWritten,
  readSringIndices,
  REQ_EVENT,
  REQ_PROD,
  resolveRingSize,
  RingError,
  type RingErrorCode,
  type RingOptions,
  RSP_EVENT,
  RSP_PROD,
  sharedRingInit,
  type SringIndices,
} from "./sring.js";
