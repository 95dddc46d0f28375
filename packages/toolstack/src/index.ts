export {
  type DeviceModelRuntime,
  dmStartSteps,
  type EmulatorRole,
  emulatorsOf,
  type PhysmapRecord,
  readPhysmap,
  writePhysmap,
} from "./device-model.js";
export {
  type FlowContext,
  FlowError,
  type FlowOptions,
  type FlowStep,
  type FlowStepRecord,
  InjectedFailure,
  runFlow,
} from "./flow.js";
export {
  type GuestDiskStatus,
  type GuestRuntime,
  type GuestStatus,
  type ToolstackClock,
  type ToolstackDomainInfo,
  ToolstackError,
  type ToolstackHypervisor,
  type ToolstackLogger,
  type ToolstackSpans,
  type ToolstackStore,
} from "./ports.js";
export type {
  ActionRecord,
  DiskSummary,
  DomainSummary,
  ManagedDomain,
  RecoveryRecord,
  ToolstackOptions,
} from "./context.js";
export { Toolstack } from "./toolstack.js";
export { vgaPicture } from "./control.js";
export {
  removeVdisplDirectories,
  vdisplBackendDomid,
  type VdisplDirectories,
  vdisplPaths,
  vdisplsOf,
  writeVdisplDirectories,
} from "./vdispl.js";
