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
/** What a listener publishes on @xensim/subjects TRACE_SUBJECTS.control (mask 0: stop). */
export interface TraceControl {
  mask: number;
  /** Only events of these domains (domid or peer); absent = every domain. */
  domains?: number[];
  /** The switch turns itself off after this long without a renewal, ms. */
  leaseMs: number;
}
