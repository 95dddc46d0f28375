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
    if (f.between) return; // placed between steps: stepFaults
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

/** A fault placed between two steps of a guest's workload (set when the first one ends). */
export interface StepFault {
  fault: number;
  kind: string;
  service: string;
  guest?: string;
  spec: FaultSpec;
  /** The guest whose steps they are, and the two steps. */
  stepsOf: string;
  between: [string, string];
  /** Healed this long after it was set; else when the second step ends. */
  forMs?: number;
  oneShot: boolean;
}

/** The faults placed between steps, with seeds derived from the run's (their chance drawn apart). */
export function stepFaults(s: Scenario, seed: number): StepFault[] {
  const rng = new Mulberry32((seed ^ hashString("between steps")) >>> 0 || 1);
  const out: StepFault[] = [];
  s.faults.forEach((f, i) => {
    if (!f.between || !f.stepsOf) return;
    if (!(rng.next() < f.chance)) return;
    const info = faultKind(f.spec.kind);
    out.push({
      fault: i,
      kind: f.spec.kind,
      service: f.service ?? info?.defaultService ?? "guest",
      ...(f.guest ? { guest: f.guest } : {}),
      spec: { ...f.spec, seed: f.spec.seed ?? (seed ^ hashString(`${i}/step/${f.spec.kind}`)) >>> 0 },
      stepsOf: f.stepsOf,
      between: f.between,
      ...(f.forMs !== undefined ? { forMs: f.forMs } : {}),
      oneShot: info?.oneShot === true,
    });
  });
  return out;
}

/** Which steps have ended after `ios` I/Os (the last one only when the job ended). */
export function stepsEnded(
  steps: readonly { name: string; ios?: number }[],
  ios: number,
  jobEnded: boolean,
): string[] {
  const out: string[] = [];
  let sum = 0;
  for (let k = 0; k < steps.length; k++) {
    const st = steps[k]!;
    const last = k === steps.length - 1;
    sum += st.ios ?? 0;
    if (last ? jobEnded : ios >= sum || jobEnded) out.push(st.name);
    else break;
  }
  return out;
}

/** A timeline without run-dependent parts: what must be equal when a seed is replayed. */
export function timelineKey(t: readonly TimelineAction[]): string {
  return JSON.stringify(t.map((a) => [a.atMs, a.action, a.fault, a.occurrence, a.kind, a.service, a.spec]));
}
