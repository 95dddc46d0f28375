export { FIO_PERCENTILES, LatencyHistogram } from "./histogram.js";
export type {
  FioJobSpec,
  IoFigures,
  JobCarry,
  JobBuffer,
  JobEnv,
  JobLedger,
  JobResult,
  RwPattern,
  VerifyFailure,
} from "./job.js";
export { JobSpecError, RW_PATTERNS, runJob, validateJob } from "./job.js";
export type { VerifyResult } from "./verify.js";
export { checkVerifyBlock, crc32c, fillVerifyBlock, VERIFY_HEADER_BYTES } from "./verify.js";
