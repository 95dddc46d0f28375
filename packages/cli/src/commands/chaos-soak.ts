// `xensim chaos soak`: every scenario of a directory, K schedules each (derived seeds); it does not
// stop at a failure. By default each schedule gets a fresh embedded host; with `short` one host
// serves every schedule (a fresh guest and disk each, the schedule scaled into a short window), and
// a new host is started only after a schedule that went wrong (an error, not a failed check). The JSON summary counts schedules run, fault kinds
// that took effect (injected at least once), acknowledged writes lost, leaks, and runs whose verdict
// was not the one the scenario expects (a broken-component scenario must fail).

import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { type ChaosReport, FAULT_KINDS, parseScenario, type Scenario } from "@xensim/chaos";
import { deriveSeed } from "@xensim/random";
import { ChaosHost } from "./chaos-host.js";
import { replayCommand, runChaosOnce, runSchedule, shortScenario, writeReport } from "./chaos-run.js";

export interface SoakSummary {
  soak: {
    scenarios: number;
    schedulesRun: number;
    faultKinds: number;
    faultKindsCovered: string[];
    faultKindsNotCovered: string[];
    /** Over the scenarios expected to pass. */
    acknowledgedWritesLost: number;
    leaks: number;
    responseViolations: number;
    livenessFailures: number;
    /** Runs whose xenstore transaction history was not serializable (cycles in its conflict graph). */
    serializabilityViolations: number;
    /** Broken-component scenarios whose checker caught them / runs of them. */
    brokenComponentsCaught: string;
    unexpectedVerdicts: Array<{
      scenario: string;
      seed: number;
      verdict: string;
      failed: string[];
      replay: string;
    }>;
    /**
     * Runs whose failed checks were the fault's own expected consequence (one no Xen stack survives,
     * e.g. a lost XS_WATCH first event): not counted above as failures, and not passes either.
     */
    faultConsequences: Array<{
      scenario: string;
      seed: number;
      kind: string;
      failed: string[];
      evidence: string[];
      replay: string;
    }>;
    /** Mean wall time of a schedule's phases, ms (the runs' phasesMs). */
    phasesMeanMs?: Record<string, number>;
    /** The 1-minute load average at the start and at the end. */
    loadAverage?: { start: number; end: number };
    durationMs: number;
    startedAt: string;
    /** With `short`: the fault window each schedule was scaled into, and how many hosts were started. */
    shortWindowMs?: number;
    hostsStarted: number;
    /** Schedules that ended in an error (the host did not answer, a guest did not start). */
    errors: number;
    /** Stopped early by the time bound (maxMs). */
    timeBoundHit: boolean;
  };
}

export async function soak(options: {
  dir: string;
  schedules: number;
  seed?: number;
  outDir: string;
  log: (l: string) => void;
  signal?: AbortSignal;
  only?: string[];
  /** One host for every schedule; each scenario scaled into this fault window (ms). */
  short?: { windowMs: number };
  /** Start no new schedule after this many ms. */
  maxMs?: number;
}): Promise<SoakSummary> {
  const t0 = Date.now();
  const scenarioFiles = readdirSync(options.dir)
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
    .filter((f) => !options.only || options.only.some((x) => f.includes(x)))
    .sort();
  const covered = new Set<string>();
  let runs = 0;
  let lost = 0;
  let leaks = 0;
  let responses = 0;
  let liveness = 0;
  let violations = 0;
  let brokenRuns = 0;
  let brokenCaught = 0;
  const unexpected: SoakSummary["soak"]["unexpectedVerdicts"] = [];
  const consequences: SoakSummary["soak"]["faultConsequences"] = [];
  const phaseSums: Record<string, number> = {};
  const load0 = loadavg()[0]!;
  let hostsStarted = 0;
  let errors = 0;
  let timeBoundHit = false;
  const scenarios = new Map<string, Scenario>();
  for (const f of scenarioFiles) {
    const file = join(options.dir, f);
    const parsed = parseScenario(readFileSync(file, "utf8"), file);
    scenarios.set(f, options.short ? shortScenario(parsed, options.short.windowMs) : parsed);
  }
  // compose scenarios need a deployment (`xensim chaos run FILE --compose`): not the soak's hosts
  const files = scenarioFiles.filter((f) => scenarios.get(f)!.layout !== "compose");
  // on shared hosts: every schedule of one layout, then the next (a new host only between them; two
  // hosts in one process would share the in-process call channels). A time bound is shared out
  // between the layouts by their number of scenarios, so that each gets its rounds.
  const groups = options.short
    ? [...new Set(files.map((f) => scenarios.get(f)!.layout))].map((l) =>
        files.filter((f) => scenarios.get(f)!.layout === l),
      )
    : [files];
  // the shared host (short mode), by its services
  let shared: { key: string; host: ChaosHost } | undefined;
  const hostFor = async (s: Scenario, seed: number): Promise<ChaosHost> => {
    const key = `${s.layout} ${s.services.join(",")}`;
    if (shared?.key === key) return shared.host;
    if (shared) await shared.host.stop();
    shared = undefined;
    const host = await ChaosHost.start({
      services: s.services,
      seed,
      hostId: `chaos-soak-${hostsStarted}`,
      statusIntervalMs: 100,
      layout: s.layout === "distributed" ? "distributed" : "embedded", // compose files are left out above
    });
    hostsStarted++;
    shared = { key, host };
    return host;
  };
  let groupEnd = t0;
  try {
    outer: for (const group of groups) {
      if (options.maxMs !== undefined) groupEnd += (options.maxMs * group.length) / files.length;
      inner: for (let k = 0; k < options.schedules; k++) {
        for (const f of group) {
          if (options.signal?.aborted) break outer;
          if (options.maxMs !== undefined && Date.now() > groupEnd) {
            timeBoundHit = true;
            break inner;
          }
          if (options.maxMs !== undefined && Date.now() - t0 > options.maxMs) {
            timeBoundHit = true;
            break outer;
          }
          const file = join(options.dir, f);
          const scenario = scenarios.get(f)!;
          const seed = deriveSeed(options.seed ?? scenario.seed, k);
          let r: ChaosReport;
          try {
            const common = {
              scenario,
              file,
              seed,
              schedule: k,
              outDir: join(options.outDir, scenario.name),
              log: () => {},
              ...(options.signal ? { signal: options.signal } : {}),
              ...(options.short ? { shortMs: options.short.windowMs } : {}),
            };
            if (options.short) {
              const host = await hostFor(scenario, seed);
              r = await runSchedule(host, {
                ...common,
                shared: { suffix: `s${runs + errors}` },
                writeReport: false,
              });
              if (r.verdict !== scenario.expect) writeReport(common.outDir, r);
            } else {
              hostsStarted++;
              r = await runChaosOnce(common);
            }
          } catch (e) {
            errors++;
            // a host that went wrong is not trusted with the next schedule
            if (shared) await shared.host.stop();
            shared = undefined;
            unexpected.push({
              scenario: scenario.name,
              seed,
              verdict: "error",
              failed: [(e as Error).message],
              replay: replayCommand(file, seed, options.short?.windowMs),
            });
            options.log(`${scenario.name} seed ${seed}: ERROR ${(e as Error).message}`);
            continue;
          }
          runs++;
          for (const [kind, n] of Object.entries(r.hitsByKind)) if (n > 0) covered.add(kind);
          // host and domain kinds act once set (a restart, a pause): set without error is taking effect
          for (const a of r.timeline)
            if (
              a.ok &&
              a.action === "set" &&
              ["host", "domain"].includes(FAULT_KINDS.find((x) => x.kind === a.kind)?.plane ?? "")
            )
              covered.add(a.kind);
          const failed = r.checks.filter((c) => !c.pass).map((c) => c.name);
          if (scenario.expect === "fail") {
            brokenRuns++;
            if (r.verdict === "fail") brokenCaught++;
          } else if (r.verdict === "fault-consequence" && r.consequence) {
            consequences.push({
              scenario: scenario.name,
              seed,
              kind: r.consequence.kind,
              failed,
              evidence: r.consequence.evidence.map((h) => `${h.service}: ${h.target}`),
              replay: r.replay,
            });
          } else {
            for (const c of r.checks) {
              if (c.pass) continue;
              if (c.name === "ledger")
                lost += c.evidence.reduce((n: number, e) => n + ((e as { lost?: number }).lost ?? 0), 0);
              if (c.name === "leaks") leaks += c.evidence.length;
              if (c.name === "one-response") responses += c.evidence.length;
              if (c.name === "liveness") liveness++;
              if (c.name === "serializability") violations += Math.max(1, c.evidence.length);
            }
          }
          for (const [k, v] of Object.entries(r.phasesMs ?? {})) phaseSums[k] = (phaseSums[k] ?? 0) + v;
          if (r.verdict !== scenario.expect && r.verdict !== "fault-consequence")
            unexpected.push({ scenario: scenario.name, seed, verdict: r.verdict, failed, replay: r.replay });
          options.log(
            `${scenario.name} seed ${seed}: ${r.verdict.toUpperCase()}${failed.length ? ` (${failed.join(", ")})` : ""} hits ${JSON.stringify(r.hitsByKind)} phases ${JSON.stringify(r.phasesMs ?? {})}`,
          );
        }
      }
    }
  } finally {
    if (shared) await shared.host.stop();
  }
  const all = FAULT_KINDS.map((k) => k.kind);
  return {
    soak: {
      scenarios: files.length,
      schedulesRun: runs,
      faultKinds: all.length,
      faultKindsCovered: all.filter((k) => covered.has(k)),
      faultKindsNotCovered: all.filter((k) => !covered.has(k)),
      acknowledgedWritesLost: lost,
      leaks,
      responseViolations: responses,
      livenessFailures: liveness,
      serializabilityViolations: violations,
      brokenComponentsCaught: `${brokenCaught}/${brokenRuns}`,
      unexpectedVerdicts: unexpected,
      faultConsequences: consequences,
      phasesMeanMs: Object.fromEntries(
        Object.entries(phaseSums).map(([k, v]) => [k, Math.round(v / Math.max(1, runs))]),
      ),
      loadAverage: { start: Math.round(load0 * 100) / 100, end: Math.round(loadavg()[0]! * 100) / 100 },
      durationMs: Date.now() - t0,
      startedAt: new Date(t0).toISOString(),
      ...(options.short ? { shortWindowMs: options.short.windowMs } : {}),
      hostsStarted,
      errors,
      timeBoundHit,
    },
  };
}
