export {
  onTraceSwitch,
  parseTraceKinds,
  setTracer,
  TRACE_ALL,
  TRACE_DISPLIF,
  TRACE_EVTCHN,
  TRACE_GRANT,
  TRACE_IOREQ,
  TRACE_KIND_BITS,
  TRACE_KINDS,
  TRACE_RING,
  TRACE_STORE,
  TRACE_XS,
  traceKindNames,
  traceMatches,
  tracer,
  type TraceEvent,
  type TraceKind,
  type Tracer,
  type TraceRecord,
  type TraceValue,
} from "./tracer.js";
export { compareTraceEvents, TraceOrderBuffer, type TraceOrderOptions } from "./order.js";
export { formatTraceEvent } from "./format.js";
/** Bus subjects: listeners' requests to every service, and each service's event batches. */
export const TRACE_CONTROL_SUBJECT = "xensim.trace.control";
export const TRACE_EVENTS_SUBJECT = "xensim.trace.events";
/** What a listener publishes on TRACE_CONTROL_SUBJECT (mask 0: stop). */
export interface TraceControl {
  mask: number;
  /** Only events of these domains (domid or peer); absent = every domain. */
  domains?: number[];
  /** The switch turns itself off after this long without a renewal, ms. */
  leaseMs: number;
}
