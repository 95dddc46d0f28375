export { checkIo, type StoreInfoOptions } from "./common.js";
export { NullStore, type NullStoreOptions } from "./null-store.js";
export { MemoryStore, type MemoryStoreOptions } from "./memory-store.js";
export { FileStore, type FileStoreOptions } from "./file-store.js";
export { sampler, type Distribution } from "./distributions.js";
export { EventQueue, realClock, TimeHeap, VirtualClock, type Clock } from "./clock.js";
export {
  ARRAY_PROFILES,
  predict,
  predictIops,
  predictLatency,
  resolveProfile,
  type ArrayProfile,
  type ArrayProfileName,
  type Prediction,
} from "./array-model.js";
export { ModelledArrayStore, type ArrayStats, type ModelledArrayOptions } from "./array-store.js";
export {
  FaultStore,
  type FaultKind,
  type FaultRecord,
  type FaultSettings,
  type FaultStoreOptions,
} from "./fault-store.js";
export {
  openStore,
  type OpenStoreOptions,
  parseSize,
  storeMemoryBytes,
  parseStoreSpec,
  StoreSpecError,
  validateStoreSpec,
  type FaultSpec,
  type StoreSpec,
} from "./open-store.js";
export {
  checkDiskPath,
  checkDiskPathSync,
  DEFAULT_DISK_POLICY,
  type DiskPolicy,
  DiskPolicyError,
  openConfined,
  resolveDiskPath,
} from "./confine.js";
export { ChaosStore, STORE_FAULT_KINDS } from "./chaos-store.js";
