export {
  deviceModelRoles,
  type DomainConfig,
  KNOWN_KEYS,
  type ParseOptions,
  type ParseResult,
  parseXlCfg,
  type XlAction,
} from "./config.js";
export { type DiskAccess, type DiskSpecProblem, formatDiskSpec, parseDiskSpec, type XlDisk } from "./disk.js";
export { formatXlCfgError, type XlCfgError, XlCfgParseError } from "./errors.js";
export { tokenize } from "./lexer.js";
export { parseSettings, type XlSetting, type XlValue } from "./parser.js";
export { parseWorkload, type WorkloadProblem } from "./workload.js";
export { formatVdisplSpec, parseVdisplSpec, type VdisplSpecProblem, type XlVdispl } from "./vdispl.js";
