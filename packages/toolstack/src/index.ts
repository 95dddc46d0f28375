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
  type ToolstackStore,
} from "./ports.js";
export {
  type ActionRecord,
  type DiskSummary,
  type DomainSummary,
  type ManagedDomain,
  type RecoveryRecord,
  STORE_GFN,
  Toolstack,
  type ToolstackOptions,
} from "./toolstack.js";
export {
  removeVdisplDirectories,
  vdisplBackendDomid,
  type VdisplDirectories,
  vdisplPaths,
  vdisplsOf,
  writeVdisplDirectories,
} from "./vdispl.js";
