export type { OpFigures } from "./stats.js";
export { LatencyRecorder, machineInfo, measure } from "./stats.js";
export type { XenstoreBenchOptions, XenstoreBenchResult } from "./xenstore.js";
export { runXenstoreBench, writeJson } from "./xenstore.js";
export type {
  EventFigures,
  GrantFigures,
  HypervisorBenchOptions,
  HypervisorBenchResult,
  PingPongFigures,
} from "./hypervisor.js";
export { runHypervisorBench } from "./hypervisor.js";
export type { BlkBenchOptions, BlkBenchResult, BlkProfile, BlkRunFigures } from "./blk.js";
export { BLK_PROFILES, runBlkBench } from "./blk.js";
export type { RingCeilingFigures, RingCeilingOptions } from "./ring-ceiling.js";
export { blkifRingSlots, runRingCeiling } from "./ring-ceiling.js";
export type { RingsBenchOptions, RingsBenchResult, RingsJob, RingsPlacement, RingsProfile } from "./rings.js";
export { defaultIodepth, RINGS_PLACEMENTS, RINGS_PROFILES, ringsTable, runRingsBench } from "./rings.js";
export { ringsSvg } from "./plot.js";
export type { IoreqBenchOptions, IoreqBenchResult } from "./ioreq.js";
export { runIoreqBench } from "./ioreq.js";
export type {
  LinkBenchOptions,
  LinkBenchResult,
  LinkLatencyFigures,
  LinkStreamFigures,
  LinkTransportName,
} from "./link.js";
export { LINK_TRANSPORTS, runLinkBench } from "./link.js";
export type { DisplayBenchOptions, DisplayBenchResult, DisplayPlacement } from "./display.js";
export { DISPLAY_PLACEMENTS, displayTable, runDisplayBench } from "./display.js";
export type { DisplayRunFigures, DisplayRunSpec } from "./display-run.js";
export type { TraceCostMode, TraceCostOptions, TraceCostResult, TraceCostRow } from "./trace-cost.js";
export { runTraceCostBench } from "./trace-cost.js";
export type { CpuProfile, MonotonicWindow, ThreadProfile, ThreadTime, TopFrame } from "./cpu-profile.js";
export {
  monotonicUs,
  profileWindow,
  readThreadProfiles,
  threadTime,
  topFramesMarkdown,
} from "./cpu-profile.js";
