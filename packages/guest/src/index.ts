export {
  type BuildGuestOptions,
  type BuiltGuest,
  buildGuest,
  CONTROL_GUEST_NODES,
  STORE_GFN,
} from "./build.js";
export {
  GuestConfigError,
  type GuestWorkload,
  parseBlkfrontSettings,
  parseDurationMs,
  parseSize,
  parseWorkload,
} from "./job.js";
export { resetFrontendStates } from "./reset.js";
export { GuestKernel, type GuestKernelOptions, RamAllocator } from "./kernel.js";
