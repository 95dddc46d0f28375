// @xensim/displback: the para-virtual display backend driver core (as displ_be).
export {
  type ConnectorStats,
  DISPLBACK_VCPU,
  DisplbackConnector,
  DisplbackDevice,
  DisplbackDriver,
  type DisplbackDriverOptions,
  type DisplbackScreen,
  readDeviceDirectory,
} from "./driver.js";
export {
  type DisplbackClock,
  type DisplbackEventReceiver,
  type DisplbackHypervisor,
  type DisplbackTimer,
} from "./environment.js";
export {
  checkDbufCreate,
  checkFbAttach,
  checkSetConfig,
  DEFAULT_LIMITS,
  type DisplbackLimits,
  isDisable,
  Scanout,
} from "./scanout.js";
