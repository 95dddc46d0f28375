// A scenario made short for the soak: its fault schedule (at, for, every, duration) scaled into a
// window of `windowMs`, and each guest's workload runtime scaled by the same factor (so the job
// still outlives the last heal by the same share of the run). Probabilities, delays and codes are
// the scenario's own. Pure: the same scenario and window always give the same short scenario.

import type { Scenario } from "./scenario.js";

export interface ShortenOptions {
  /** The fault window, ms (the scenario's duration is scaled to it when it is longer). */
  windowMs: number;
  /** A workload never runs shorter than this, ms (default 300). */
  minRuntimeMs?: number;
  /** Nor longer than this, ms (default: no bound beyond the scaling). */
  maxRuntimeMs?: number;
}

const RUNTIME = /(^|[,\s])runtime=([^,\s]+)/;

/** "5" (seconds), "800ms", "1.5s" → ms; undefined when it is not a duration. */
function runtimeMs(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000;
}

/** The scenario with its schedule and workloads scaled into `windowMs` (unchanged when shorter). */
export function shortenScenario(s: Scenario, o: ShortenOptions): Scenario {
  if (!(o.windowMs > 0)) throw new Error("shortenScenario: windowMs must be > 0");
  const factor = Math.min(1, o.windowMs / s.durationMs);
  const scale = (ms: number): number => Math.round(ms * factor);
  const minRuntime = o.minRuntimeMs ?? 300;
  return {
    ...s,
    durationMs: scale(s.durationMs),
    guests: s.guests.map((g) => {
      const m = RUNTIME.exec(g.workload);
      const ms = m ? runtimeMs(m[2]!) : undefined;
      // a job with no runtime runs 30 s (the guest's default): give it one
      const runtime = Math.max(minRuntime, Math.min(o.maxRuntimeMs ?? Infinity, scale(ms ?? 30_000)));
      const workload = m
        ? g.workload.replace(RUNTIME, `$1runtime=${runtime}ms`)
        : `${g.workload},runtime=${runtime}ms`;
      return { ...g, workload };
    }),
    faults: s.faults.map((f) => ({
      ...f,
      atMs: scale(f.atMs),
      ...(f.forMs !== undefined ? { forMs: Math.max(1, scale(f.forMs)) } : {}),
      ...(f.everyMs !== undefined ? { everyMs: Math.max(1, scale(f.everyMs)) } : {}),
    })),
  };
}
