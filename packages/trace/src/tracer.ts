// The trace switch of one thread. Protocol code (the evtchn and gnttab cores, xenstored's engine,
// blkfront, blkback, blkstore) checks it at each hook:
//
//   if (tracer.mask & TRACE_RING) tracer.emit({ kind: "ring", op: "request", domid, ... });
//
// One property load and one branch when nobody listens; the event object is built only inside the
// branch. The service runtime sets `mask` and `emit` when a trace listener asks (over the bus) and
// resets them when the listener goes away or its lease runs out.

/** Event kinds, one bit each (the `--kind` names of `xensim trace`). */
export const TRACE_XS = 1;
export const TRACE_RING = 2;
export const TRACE_EVTCHN = 4;
export const TRACE_GRANT = 8;
export const TRACE_STORE = 16;
export const TRACE_IOREQ = 32;
export const TRACE_DISPLIF = 64;

export const TRACE_KIND_BITS = {
  xs: TRACE_XS,
  ring: TRACE_RING,
  evtchn: TRACE_EVTCHN,
  grant: TRACE_GRANT,
  store: TRACE_STORE,
  ioreq: TRACE_IOREQ,
  displif: TRACE_DISPLIF,
} as const;

export type TraceKind = keyof typeof TRACE_KIND_BITS;
export const TRACE_KINDS = Object.keys(TRACE_KIND_BITS) as TraceKind[];
/** Every kind. */
export const TRACE_ALL = Object.values(TRACE_KIND_BITS).reduce((a, b) => a | b, 0);

/** A detail value of an event: plain JSON scalars or a list of them. */
export type TraceValue = string | number | boolean | null | ReadonlyArray<string | number>;

/**
 * What a hook reports. `domid` is the domain that acted (the frontend pushing a request, the
 * backend's domain mapping a grant), `peer` the other end when there is one; a domain filter
 * matches either. The rest are the decoded fields, named in Xen's words.
 */
export interface TraceRecord {
  kind: TraceKind;
  op: string;
  domid: number;
  peer?: number;
  [field: string]: TraceValue | undefined;
}

/** A record as a listener receives it: where and when it happened. */
export interface TraceEvent extends TraceRecord {
  /** Monotonic clock, ns (the same clock in every thread and process of one machine): the order. */
  t: number;
  /** Wall clock, ms since the epoch (for display). */
  wall: number;
  host: string;
  svc: string;
  /** Per emitting thread, consecutive: ties in `t` and losses show. */
  seq: number;
}

export interface Tracer {
  /** TRACE_* bits being listened to; 0 = nobody listens (every hook is one failed branch). */
  mask: number;
  emit(record: TraceRecord): void;
}

const off = (): void => {};

/** This thread's tracer. */
export const tracer: Tracer = { mask: 0, emit: off };

const switchListeners = new Set<(mask: number) => void>();

/** Switches this thread's tracing on for `mask` with `emit` as the sink, or off (mask 0). */
export function setTracer(mask: number, emit?: (record: TraceRecord) => void): void {
  tracer.emit = mask !== 0 && emit ? emit : off;
  tracer.mask = mask !== 0 && emit ? mask & TRACE_ALL : 0;
  for (const l of switchListeners) l(tracer.mask);
}

/**
 * Be told when this thread's trace switch changes (with the new mask): for threads this one started
 * that cannot hear the switch themselves (a guest's vCPU threads, blocked in Atomics.wait, relay
 * their records through it). Returns the unsubscriber.
 */
export function onTraceSwitch(listener: (mask: number) => void): () => void {
  switchListeners.add(listener);
  return () => switchListeners.delete(listener);
}

/** Parses `xs,ring` (or `all`) into a mask; throws naming the valid kinds. */
export function parseTraceKinds(spec: string | readonly string[] | undefined): number {
  if (spec === undefined) return TRACE_ALL;
  const parts = (typeof spec === "string" ? [spec] : spec)
    .flatMap((s) => s.split(","))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (parts.length === 0) return TRACE_ALL;
  let mask = 0;
  for (const p of parts) {
    if (p === "all") {
      mask |= TRACE_ALL;
      continue;
    }
    const bit = (TRACE_KIND_BITS as Record<string, number>)[p];
    if (bit === undefined)
      throw new RangeError(`unknown trace kind '${p}' (kinds: ${TRACE_KINDS.join(", ")}, all)`);
    mask |= bit;
  }
  return mask;
}

/** The kind names in a mask. */
export function traceKindNames(mask: number): TraceKind[] {
  return TRACE_KINDS.filter((k) => (mask & TRACE_KIND_BITS[k]) !== 0);
}

/** Does `ev` pass a listener's filter (kinds mask, domains; undefined domains = every domain)? */
export function traceMatches(
  ev: TraceRecord,
  mask: number,
  domains: ReadonlySet<number> | undefined,
): boolean {
  if ((TRACE_KIND_BITS[ev.kind] & mask) === 0) return false;
  if (!domains) return true;
  return domains.has(ev.domid) || (ev.peer !== undefined && domains.has(ev.peer));
}
