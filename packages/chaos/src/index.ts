export {
  FAULT_KINDS,
  type FaultKindInfo,
  type FaultPlane,
  faultKind,
  gntstCode,
  requireFaultKind,
} from "./kinds.js";
export {
  type ChaosObserver,
  ChaosPoints,
  type ChaosPointsOptions,
  type DelaySpec,
  type FaultHit,
  FaultPoint,
  type FaultSpec,
  hashString,
  validateFaultSpec,
} from "./points.js";
export {
  DEFAULT_SERVICES,
  FAULT_KIND_NAMES,
  parseDuration,
  parseScenario,
  type Scenario,
  ScenarioError,
  type ScenarioGuest,
  type ScenarioStep,
  type ScheduledFault,
} from "./scenario.js";
export {
  expandSchedule,
  type StepFault,
  stepFaults,
  stepsEnded,
  type TimelineAction,
  timelineKey,
} from "./schedule.js";
export {
  auditDomainLeaks,
  type CheckResult,
  domainPaths,
  checkLeaks,
  checkLedger,
  checkLiveness,
  checkOneResponse,
  type IoSample,
  type LeakEvidence,
  type LeakTables,
  type LedgerEvidence,
  type ResponseEvidence,
} from "./checkers.js";
export { classifyFaultConsequence, type FaultConsequence, WATCH_FIRST_EVENT } from "./consequence.js";
export {
  type ChaosReport,
  type ChaosVerdict,
  countByKind,
  type ExecutedAction,
  reportMarkdown,
  reportSvg,
  verdictOf,
} from "./report.js";
export { type ChaosCommand, type ChaosReply, type HostChaosCommand } from "./commands.js";
export {
  checkSerializability,
  type SerializabilityEvidence,
  type XsHistoryEvent,
} from "./serializability.js";
export { shortenScenario, type ShortenOptions } from "./short.js";
