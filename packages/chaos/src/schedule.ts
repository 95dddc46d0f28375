// A scenario's fault schedule expanded, from one seed, into a timeline of set and heal actions.
// The same scenario and seed always give the same timeline (the replay promise); the timeline a run
// actually executed is recorded beside it with the wall-clock time of each action.

import { faultKind } from "./kinds.js";
import { hashString } from "./points.js";
import { Mulberry32 } from "@xensim/random";
import type { FaultSpec } from "./points.js";
import type { Scenario } from "./scenario.js";

export interface TimelineAction {
  /** ms after the workloads started. */
  atMs: number;
  action: "set" | "heal";
  /** Index of the scheduled fault in the scenario; with `occurrence` it names one set/heal pair. */
  fault: number;
  occurrence: number;
  kind: string;
  service: string;
  guest?: string;
  /** The spec sent (its seed derived from the run's seed). */
  spec: FaultSpec;
}

/** Expands the schedule with `seed` (the run's seed, derived from the scenario's). */
export function expandSchedule(s: Scenario, seed: number): TimelineAction[] {
  const rng = new Mulberry32(seed);
  const out: TimelineAction[] = [];
  s.faults.forEach((f, i) => {
    const info = faultKind(f.spec.kind);
    const service = f.service ?? info?.defaultService ?? "guest";
    const oneShot = info?.oneShot === true;
    let occurrence = 0;
    for (let t = f.atMs; t < s.durationMs; t += f.everyMs ?? Number.POSITIVE_INFINITY) {
      const happens = rng.next() < f.chance;
      const n = occurrence++;
      if (!happens) continue;
      const spec: FaultSpec = {
        ...f.spec,
        seed: f.spec.seed ?? (seed ^ hashString(`${i}/${n}/${f.spec.kind}`)) >>> 0,
      };
      const base = {
        fault: i,
        occurrence: n,
        kind: f.spec.kind,
        service,
        spec,
        ...(f.guest ? { guest: f.guest } : {}),
      };
      out.push({ atMs: t, action: "set", ...base });
      if (!oneShot) {
        const end = f.forMs !== undefined ? Math.min(t + f.forMs, s.durationMs) : s.durationMs;
        out.push({ atMs: end, action: "heal", ...base });
      }
      if (f.everyMs === undefined) break;
    }
  });
  // heals before sets at the same instant; then schedule order
  return out.sort(
    (a, b) =>
      a.atMs - b.atMs ||
      (a.action === b.action ? 0 : a.action === "heal" ? -1 : 1) ||
      a.fault - b.fault ||
      a.occurrence - b.occurrence,
  );
}

/** A timeline without run-dependent parts: what must be equal when a seed is replayed. */
export function timelineKey(t: readonly TimelineAction[]): string {
  return JSON.stringify(t.map((a) => [a.atMs, a.action, a.fault, a.occurrence, a.kind, a.service, a.spec]));
}
