export { type IoreqServerListing, XenDeviceModel } from "./devicemodel.js";
export { DOM0_VCPU } from "./dom0-vcpus.js";
export { EvtchnPort, type EvtchnPortOptions } from "./evtchn-port.js";
export { type DomainExcEvent, decodeDomainExc, encodeDomainExc } from "./domain-exc.js";
export { LinkPlane, type ShadowSharedInfo, shadowSharedInfo } from "./link-plane.js";
export { makeNotify, type NotifyOptions, VCPU_INFO_SIZE, wakeWordIndex } from "./wake.js";
export {
  type CopyOp,
  type CopyPtr,
  type DomainCreateOptions,
  type DomainInfo,
  type EvtchnStatus,
  type MapResult,
  type WaitOptions,
  XenCtrl,
  type XenCtrlOptions,
} from "./xenctrl.js";
