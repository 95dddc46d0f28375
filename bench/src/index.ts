export type { OpFigures } from "./stats.js";
export { LatencyRecorder, machineInfo, measure } from "./stats.js";
export type { XenstoreBenchOptions, XenstoreBenchResult } from "./xenstore.js";
export { runXenstoreBench, writeJson } from "./xenstore.js";
export type { ReplicationBenchOptions, ReplicationBenchResult, ReplicationFigures } from "./replication.js";
export { runReplicationBench } from "./replication.js";
export type {
  EventFigures,
  GrantFigures,
  HypervisorBenchOptions,
  HypervisorBenchResult,
  PingPongFigures,
} from "./hypervisor.js";
export { runHypervisorBench } from "./hypervisor.js";
