// The text form of a trace event (`xensim trace` without --json): one line each.
import type { TraceEvent, TraceValue } from "./tracer.js";

const ENVELOPE = new Set(["t", "wall", "host", "svc", "seq", "kind", "op", "domid", "peer"]);

function scalar(v: string | number | boolean | null): string {
  if (typeof v === "string") return /^[\w./@:+-]+$/.test(v) ? v : JSON.stringify(v);
  return String(v);
}

function value(v: TraceValue): string {
  if (Array.isArray(v)) return `[${(v as ReadonlyArray<string | number>).map(scalar).join(",")}]`;
  return scalar(v as string | number | boolean | null);
}

function clock(wall: number): string {
  const d = new Date(wall);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
}

/** `12:00:01.234 host0/blkback  ring    response  d0>d1  id=3 operation=write status=OKAY` */
export function formatTraceEvent(ev: TraceEvent): string {
  const who = `${ev.host}/${ev.svc}`;
  const doms = ev.peer !== undefined ? `d${ev.domid}>d${ev.peer}` : `d${ev.domid}`;
  const fields: string[] = [];
  for (const [k, v] of Object.entries(ev)) {
    if (ENVELOPE.has(k) || v === undefined) continue;
    fields.push(`${k}=${value(v as TraceValue)}`);
  }
  return [
    clock(ev.wall),
    who.padEnd(22),
    ev.kind.padEnd(7),
    ev.op.padEnd(12),
    doms.padEnd(8),
    fields.join(" "),
  ]
    .join(" ")
    .trimEnd();
}
