// Every service's protocol trace, switched on over the event bus: a listener (the toolstack's
// /trace route) publishes a TraceControl on TRACE_SUBJECTS.control, each service sets its thread's
// tracer and sends its events in batches on `xensim.trace.events.<host>.<svc>`. The switch has a
// lease: without a renewal it turns itself off, so a listener that died leaves nothing running.
// While off, the hooks in the protocol cores are one failed branch each.
import type { EventBus } from "@xensim/bus";
import { TRACE_SUBJECTS } from "@xensim/subjects";
import { setTracer, type TraceControl, type TraceEvent, type TraceRecord } from "@xensim/trace";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Events one service holds at most between two sends; beyond that they are counted as dropped. */
const MAX_BUFFERED = 20_000;
const FLUSH_MS = 10;

/** The monotonic clock in ns (CLOCK_MONOTONIC: one clock for every thread and process of a machine). */
export const monotonicNs = (): number => Number(process.hrtime.bigint());

/** Serves trace requests for this thread's hooks. Returns the stopper. */
export function serveBusTrace(bus: EventBus, svc: string, host: string): { stop(): void } {
  const subject = TRACE_SUBJECTS.events(host, svc);
  let buf: TraceEvent[] = [];
  let dropped = 0;
  let seq = 0;
  let domains: Set<number> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lease: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    timer = undefined;
    if (bus.closed || buf.length === 0) return;
    const batch = buf;
    buf = [];
    const body: { events: TraceEvent[]; dropped?: number } = { events: batch };
    if (dropped > 0) body.dropped = dropped;
    dropped = 0;
    try {
      bus.publish(subject, enc.encode(JSON.stringify(body)));
    } catch {
      // the bus is closing
    }
  };

  const emit = (r: TraceRecord) => {
    if (domains && !domains.has(r.domid) && (r.peer === undefined || !domains.has(r.peer))) return;
    if (buf.length >= MAX_BUFFERED) {
      dropped++;
      return;
    }
    const ev = r as TraceEvent;
    // A record relayed from another thread (a guest's vCPU) carries the time it happened.
    if (typeof ev.t !== "number") ev.t = monotonicNs();
    ev.wall = Date.now();
    ev.host = host;
    ev.svc = svc;
    ev.seq = ++seq;
    buf.push(ev);
    timer ??= setTimeout(flush, FLUSH_MS);
  };

  const off = () => {
    setTracer(0);
    if (lease) clearTimeout(lease);
    lease = undefined;
    flush();
  };

  const sub = bus.subscribe(TRACE_SUBJECTS.control, {
    callback: (m) => {
      let c: TraceControl;
      try {
        c = JSON.parse(dec.decode(m.data)) as TraceControl;
      } catch {
        return;
      }
      if (typeof c.mask !== "number" || c.mask === 0) {
        off();
        return;
      }
      domains = Array.isArray(c.domains) ? new Set(c.domains.filter((d) => Number.isInteger(d))) : undefined;
      setTracer(c.mask, emit);
      if (lease) clearTimeout(lease);
      lease = setTimeout(off, Math.min(Math.max(Number(c.leaseMs) || 5000, 500), 60_000));
      lease.unref?.();
    },
  });
  return {
    stop: () => {
      sub.unsubscribe();
      off();
      if (timer) clearTimeout(timer);
    },
  };
}
