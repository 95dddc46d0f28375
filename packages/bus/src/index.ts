// @xensim/bus: the event plane (in-process and NATS) and the call plane (in-process and gRPC), with
// fault hooks built into every adapter.

export {
  type CallClient,
  type CallContext,
  type CallOptions,
  type CallPolicy,
  type CallServer,
  DOM0_ONLY,
  resolveMethod,
  type TlsMaterial,
  type UnaryHandler,
} from "./calls.js";
export {
  type FaultCommand,
  type FaultControlReply,
  collectFaultRecords,
  collectFaultStatus,
  type FaultStatus,
  fetchFaultRecords,
  sendFaultRules,
  serveFaultControl,
} from "./control.js";
export { BusError, BusErrorCode, CallError, GrpcStatus, statusName } from "./errors.js";
export {
  type BusMsg,
  type BusOptions,
  type EventBus,
  isControlSubject,
  type PublishOptions,
  type RequestOptions,
  STATUS_HEADER,
  type SubscribeOptions,
  type Subscription,
} from "./events.js";
export {
  type CallFaultRule,
  createFaultController,
  type DelaySpec,
  type EventFaultRule,
  type FaultController,
  type FaultKind,
  type FaultRecord,
  type FaultRules,
  validateFaultRules,
} from "./faults.js";
export {
  createGrpcCallClient,
  createGrpcCallServer,
  type GrpcCallClientOptions,
  type GrpcCallServerOptions,
} from "./grpc-calls.js";
export { createInProcessBus } from "./inprocess-bus.js";
export {
  createInProcessCallClient,
  createInProcessCallServer,
  type InProcessCallClientOptions,
  type InProcessCallServerOptions,
} from "./inprocess-calls.js";
export { connectNatsBus, type NatsBusOptions } from "./nats-bus.js";
export { globMatches, subjectMatches, validateSubject } from "./subject.js";
