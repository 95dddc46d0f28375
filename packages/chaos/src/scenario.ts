// Scenario files (YAML): the host, the guests and their workloads, a schedule of faults and one
// seed. Parse errors and wrong values are reported as file:line:col with what was expected.

import { isMap, LineCounter, parseDocument, type Document } from "yaml";
import { FAULT_KINDS, requireFaultKind } from "./kinds.js";
import { type FaultSpec, validateFaultSpec } from "./points.js";

export interface ScenarioGuest {
  name: string;
  /** xl.cfg disk spec, e.g. "vdev=xvda, access=rw, target=memory:size=16M". */
  disk: string;
  /** xensim_workload, e.g. "rw=randrw,bs=4k,iodepth=8,runtime=6,verify=crc32c". */
  workload: string;
  /** xensim_blkfront, e.g. "persistent=0" (every I/O maps its grants). */
  blkfront?: string;
  /**
   * The workload's named steps, in order: a step with `ios` ends when the guest has done that many
   * more I/Os; the last one ends with the job. Faults can be placed between two steps.
   */
  steps?: ScenarioStep[];
}

export interface ScenarioStep {
  name: string;
  /** I/Os this step does (the last step may leave it out: it lasts until the job ends). */
  ios?: number;
}

/** One entry of the fault schedule. */
export interface ScheduledFault {
  spec: FaultSpec;
  /** The service it is aimed at (default: the kind's). */
  service?: string;
  /** Guest name for domain kinds. */
  guest?: string;
  /** First time it is set, ms after the guests' workloads started (default 0). */
  atMs: number;
  /** Healed this long after each set (default: at the end of the run; one-shot kinds ignore it). */
  forMs?: number;
  /** Set again every N ms (until the run's duration). */
  everyMs?: number;
  /** Probability that one scheduled occurrence happens at all (drawn from the run's seed; default 1). */
  chance: number;
  /**
   * Set when the guest's step `between[0]` ends (instead of at a time), healed after `forMs` or when
   * step `between[1]` ends. `stepsOf` names the guest whose steps they are.
   */
  between?: [string, string];
  stepsOf?: string;
}

export interface Scenario {
  name: string;
  description: string;
  seed: number;
  /** How long faults are scheduled for, ms (default 6000). */
  durationMs: number;
  services: string[];
  /**
   * "embedded": one host (default). "distributed": host processes on NATS with the data-plane link
   * between them — host A (hypervisor, xenstored, page-server, guest runtime, toolstack) and host B
   * (page-server, blkback) — so every disk's pages cross the link (the link kinds act there).
   * "compose": the docker-compose deployment (`xensim chaos run FILE --compose`), one container per
   * host process; the container kinds act there.
   */
  layout: "embedded" | "distributed" | "compose";
  guests: ScenarioGuest[];
  faults: ScheduledFault[];
  /** What a run should end in: "fail" for a scenario whose point is to be caught (a broken component). */
  expect: "pass" | "fail";
  checks: {
    /** Liveness: I/O must resume within this many ms after the last heal (default 10,000). */
    livenessMs: number;
    /** Require the workload's verify phase to find every acknowledged write (default true). */
    ledger: boolean;
    /** Leak audit after the domains are destroyed (default true). */
    leaks: boolean;
  };
}

export class ScenarioError extends Error {
  readonly code = "EINVAL";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly expected: string,
  ) {
    super(`${file}:${line}:${col}: ${expected}`);
    this.name = "ScenarioError";
  }
}

export const DEFAULT_SERVICES = ["xenstored", "hypervisor", "blkback", "guest", "toolstack"];

/** "500ms", "2s", "1.5s", "1m" or a number of ms. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return Math.round(v);
  if (typeof v !== "string") return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(v.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return Math.round(m[2] === "s" ? n * 1000 : m[2] === "m" ? n * 60_000 : n);
}

/** Parses and checks a scenario; every problem is a ScenarioError with file:line:col. */
export function parseScenario(text: string, file = "scenario.yaml"): Scenario {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const pos = lc.linePos(first.pos[0]);
    throw new ScenarioError(file, pos.line, pos.col, `YAML: ${first.message.split("\n")[0]}`);
  }
  const at = (path: (string | number)[]): { line: number; col: number } => {
    for (let p = path; ; p = p.slice(0, -1)) {
      const node = (p.length === 0 ? doc.contents : doc.getIn(p, true)) as {
        range?: [number, number, number];
      } | null;
      if (node?.range) return lc.linePos(node.range[0]);
      if (p.length === 0) return { line: 1, col: 1 };
    }
  };
  /** Where the key of path's last element is written (for unknown keys). */
  const atKey = (path: (string | number)[]): { line: number; col: number } => {
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    if (isMap(parent))
      for (const pair of parent.items) {
        const k = pair.key as { value?: unknown; range?: [number, number, number] } | null;
        if (k !== null && k.value === path.at(-1) && k.range) return lc.linePos(k.range[0]);
      }
    return at(path);
  };
  const errKey = (path: (string | number)[], expected: string): never => {
    const p = atKey(path);
    throw new ScenarioError(file, p.line, p.col, expected);
  };
  const err = (path: (string | number)[], expected: string): never => {
    const p = at(path);
    throw new ScenarioError(file, p.line, p.col, expected);
  };
  if (!isMap(doc.contents)) err([], "expected a mapping (name, seed, guests, faults, …)");
  const top = doc.toJS() as Record<string, unknown>;
  const knownTop = [
    "name",
    "description",
    "seed",
    "duration",
    "expect",
    "host",
    "guests",
    "faults",
    "checks",
  ];
  for (const k of Object.keys(top))
    if (!knownTop.includes(k)) errKey([k], `unknown key '${k}' (expected one of ${knownTop.join(", ")})`);
  const name = top.name;
  if (typeof name !== "string" || name === "") err(["name"], "name: expected a non-empty string");
  const seed = top.seed ?? 1;
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    err(["seed"], "seed: expected an integer in [0, 2^32)");
  if (top.expect !== undefined && top.expect !== "pass" && top.expect !== "fail")
    err(["expect"], "expect: expected pass or fail");
  const durationMs = top.duration === undefined ? 6000 : parseDuration(top.duration);
  if (durationMs === undefined) err(["duration"], "duration: expected a duration such as 6s or 500ms");

  let services = [...DEFAULT_SERVICES];
  let layout: Scenario["layout"] = "embedded";
  if (top.host !== undefined) {
    const h = top.host as Record<string, unknown>;
    if (typeof h !== "object" || h === null) err(["host"], "host: expected a mapping with services");
    for (const k of Object.keys(h))
      if (!["services", "layout"].includes(k))
        errKey(["host", k], `unknown key '${k}' (expected services, layout)`);
    if (h.layout !== undefined) {
      if (h.layout !== "embedded" && h.layout !== "distributed" && h.layout !== "compose")
        err(["host", "layout"], "host.layout: expected embedded, distributed or compose");
      layout = h.layout as Scenario["layout"];
    }
    if (h.services !== undefined) {
      if (!Array.isArray(h.services) || h.services.some((s) => typeof s !== "string"))
        err(["host", "services"], "host.services: expected a list of service names");
      services = h.services as string[];
    }
  }

  const guests: ScenarioGuest[] = [];
  const gs = top.guests ?? [];
  if (!Array.isArray(gs)) err(["guests"], "guests: expected a list of guests (name, disk, workload)");
  (gs as unknown[]).forEach((g, i) => {
    const r = g as Record<string, unknown>;
    if (typeof r !== "object" || r === null)
      err(["guests", i], "a guest: expected a mapping (name, disk, workload)");
    for (const k of Object.keys(r))
      if (!["name", "disk", "workload", "blkfront", "steps"].includes(k))
        errKey(["guests", i, k], `unknown key '${k}' (expected name, disk, workload, blkfront, steps)`);
    let steps: ScenarioStep[] | undefined;
    if (r.steps !== undefined) {
      if (!Array.isArray(r.steps) || r.steps.length < 2)
        err(["guests", i, "steps"], "steps: expected a list of at least two steps (name, ios)");
      steps = (r.steps as unknown[]).map((x, j) => {
        const st = x as Record<string, unknown>;
        if (
          typeof st !== "object" ||
          st === null ||
          typeof st.name !== "string" ||
          !/^[A-Za-z0-9_.-]+$/.test(st.name)
        )
          err(["guests", i, "steps", j], "a step: expected a mapping with a name (letters, digits, _ . -)");
        for (const k of Object.keys(st))
          if (!["name", "ios"].includes(k))
            errKey(["guests", i, "steps", j, k], `unknown key '${k}' (expected name, ios)`);
        const last = j === (r.steps as unknown[]).length - 1;
        if (st.ios === undefined && !last)
          err(
            ["guests", i, "steps", j],
            "ios: expected the I/O count of this step (only the last step may leave it out)",
          );
        if (st.ios !== undefined && !(typeof st.ios === "number" && Number.isInteger(st.ios) && st.ios > 0))
          err(["guests", i, "steps", j, "ios"], "ios: expected an integer > 0");
        return { name: st.name as string, ...(st.ios !== undefined ? { ios: st.ios as number } : {}) };
      });
      const names = steps.map((st) => st.name);
      if (new Set(names).size !== names.length) err(["guests", i, "steps"], "steps: names must be distinct");
    }
    if (typeof r.name !== "string" || !/^[A-Za-z0-9_.-]+$/.test(r.name))
      err(["guests", i, "name"], "name: expected a domain name (letters, digits, _ . -)");
    const disk = r.disk ?? "vdev=xvda, access=rw, target=memory:size=16M";
    if (typeof disk !== "string") err(["guests", i, "disk"], "disk: expected an xl.cfg disk spec string");
    const workload = r.workload ?? "rw=randrw,bs=4k,iodepth=8,runtime=6,verify=crc32c";
    if (typeof workload !== "string")
      err(["guests", i, "workload"], "workload: expected an xensim_workload string");
    if (r.blkfront !== undefined && typeof r.blkfront !== "string")
      err(["guests", i, "blkfront"], "blkfront: expected an xensim_blkfront string, e.g. persistent=0");
    guests.push({
      name: r.name as string,
      disk: disk as string,
      workload: workload as string,
      ...(typeof r.blkfront === "string" ? { blkfront: r.blkfront } : {}),
      ...(steps ? { steps } : {}),
    });
  });

  const faults: ScheduledFault[] = [];
  const fs = top.faults ?? [];
  if (!Array.isArray(fs)) err(["faults"], "faults: expected a list of faults (kind, at, for, every, …)");
  const scheduleKeys = ["service", "guest", "at", "for", "every", "chance", "between", "steps-of"];
  (fs as unknown[]).forEach((f, i) => {
    const r = f as Record<string, unknown>;
    if (typeof r !== "object" || r === null || Array.isArray(r))
      err(["faults", i], "a fault: expected a mapping with a kind");
    if (typeof r.kind !== "string") err(["faults", i], "kind: expected a fault kind name");
    try {
      requireFaultKind(r.kind as string);
    } catch (e) {
      err(["faults", i, "kind"], (e as Error).message);
    }
    const specIn: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (!scheduleKeys.includes(k)) specIn[k] = v;
    let spec: FaultSpec;
    try {
      spec = validateFaultSpec(specIn);
    } catch (e) {
      const msg = (e as Error).message;
      const unknown = /^(\w+): unknown fault parameter/.exec(msg)?.[1];
      if (unknown) errKey(["faults", i, unknown], msg);
      const key = /^(\w+):/.exec(msg)?.[1];
      if (key && key in r) err(["faults", i, key], msg);
      err(["faults", i], msg);
    }
    const d = (k: string): number | undefined => {
      if (r[k] === undefined) return undefined;
      const v = parseDuration(r[k]);
      if (v === undefined) err(["faults", i, k], `${k}: expected a duration such as 2s or 500ms`);
      return v;
    };
    const everyMs = d("every");
    if (everyMs !== undefined && everyMs < 1) err(["faults", i, "every"], "every: expected a duration > 0");
    const chance = r.chance ?? 1;
    if (typeof chance !== "number" || chance < 0 || chance > 1)
      err(["faults", i, "chance"], "chance: expected a probability in [0, 1]");
    if (requireFaultKind(r.kind as string).plane === "container") {
      // a container kind names a compose service (host-a, xenstored, blkback, nats, ...)
      if (typeof r.service !== "string" || !/^[a-z][a-z0-9-]{0,63}$/.test(r.service))
        err(["faults", i, "service"], "service: expected the compose service whose container it acts on");
    } else if (r.service !== undefined && (typeof r.service !== "string" || !services.includes(r.service)))
      err(["faults", i, "service"], `service: expected one of the host's services (${services.join(", ")})`);
    if (r.guest !== undefined && !guests.some((g) => g.name === r.guest))
      err(
        ["faults", i, "guest"],
        `guest: expected one of the scenario's guests (${guests.map((g) => g.name).join(", ")})`,
      );
    const forMs = d("for");
    let between: [string, string] | undefined;
    let stepsOf: string | undefined;
    if (r.between !== undefined) {
      const stepped = guests.filter((g) => g.steps);
      const ofName = r["steps-of"] ?? stepped[0]?.name;
      const of = guests.find((g) => g.name === ofName);
      if (!of?.steps)
        err(
          ["faults", i, r["steps-of"] !== undefined ? "steps-of" : "between"],
          "between: expected a guest with steps (steps-of: its name)",
        );
      const names = of!.steps!.map((st) => st.name);
      const b = r.between;
      if (!Array.isArray(b) || b.length !== 2 || typeof b[0] !== "string" || typeof b[1] !== "string")
        err(
          ["faults", i, "between"],
          `between: expected two consecutive steps, e.g. [${names[0]}, ${names[1]}]`,
        );
      const [x, y] = b as [string, string];
      const ix = names.indexOf(x);
      if (ix < 0 || names[ix + 1] !== y)
        err(
          ["faults", i, "between"],
          `between: expected two consecutive steps of ${of!.name} (${names.join(", ")})`,
        );
      if (r.at !== undefined || r.every !== undefined)
        err(["faults", i, "between"], "between: a fault placed between steps has no at or every");
      between = [x, y];
      stepsOf = of!.name;
    } else if (r["steps-of"] !== undefined) err(["faults", i, "steps-of"], "steps-of: only with between");
    faults.push({
      spec: spec!,
      ...(typeof r.service === "string" ? { service: r.service } : {}),
      ...(typeof r.guest === "string" ? { guest: r.guest } : {}),
      atMs: d("at") ?? 0,
      ...(forMs !== undefined ? { forMs } : {}),
      ...(everyMs !== undefined ? { everyMs } : {}),
      chance: chance as number,
      ...(between ? { between, stepsOf: stepsOf! } : {}),
    });
  });

  const c = (top.checks ?? {}) as Record<string, unknown>;
  if (typeof c !== "object" || c === null)
    err(["checks"], "checks: expected a mapping (liveness, ledger, leaks)");
  for (const k of Object.keys(c))
    if (!["liveness", "ledger", "leaks"].includes(k))
      errKey(["checks", k], `unknown check '${k}' (expected liveness, ledger, leaks)`);
  const livenessMs = c.liveness === undefined ? 10_000 : parseDuration(c.liveness);
  if (livenessMs === undefined)
    err(["checks", "liveness"], "liveness: expected a duration (I/O resumes within it)");
  for (const k of ["ledger", "leaks"])
    if (c[k] !== undefined && typeof c[k] !== "boolean") err(["checks", k], `${k}: expected true or false`);
  return {
    name: name as string,
    description: typeof top.description === "string" ? top.description : "",
    seed: seed as number,
    durationMs: durationMs as number,
    expect: (top.expect as "pass" | "fail" | undefined) ?? "pass",
    services,
    layout,
    guests,
    faults,
    checks: { livenessMs: livenessMs as number, ledger: c.ledger !== false, leaks: c.leaks !== false },
  };
}

export type { Document };
/** The names of all kinds, for help texts. */
export const FAULT_KIND_NAMES = FAULT_KINDS.map((k) => k.kind);
