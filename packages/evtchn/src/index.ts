export {
  ECS,
  EventChannelError,
  EventChannels,
  type EvtchnInitOptions,
  type EvtchnPolicy,
  type EvtchnStatus,
  type NotifyFn,
  type PortResult,
} from "./event-channels.js";
export {
  clearPending,
  isMasked,
  isPending,
  maskPort,
  NR_2L_PORTS,
  raisePending,
  type ScanOptions,
  scanPending,
  setPending,
  unmaskPort,
  upcallPending,
} from "./two-level.js";
