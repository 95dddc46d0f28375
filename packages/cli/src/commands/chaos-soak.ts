// `xensim chaos soak`: every scenario of a directory, K schedules each (derived seeds), on fresh
// embedded hosts; it does not stop at a failure. The JSON summary counts schedules run, fault kinds
// that took effect (injected at least once), acknowledged writes lost, leaks, and runs whose verdict
// was not the one the scenario expects (a broken-component scenario must fail).

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type ChaosReport, FAULT_KINDS, parseScenario } from "@xensim/chaos";
import { deriveSeed } from "@xensim/random";
import { replayCommand, runChaosOnce } from "./chaos-run.js";

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
    durationMs: number;
    startedAt: string;
  };
}

export async function soak(o: {
  dir: string;
  schedules: number;
  seed?: number;
  outDir: string;
  log: (l: string) => void;
  signal?: AbortSignal;
  only?: string[];
}): Promise<SoakSummary> {
  const t0 = Date.now();
  const files = readdirSync(o.dir)
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
    .filter((f) => !o.only || o.only.some((x) => f.includes(x)))
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
  for (let k = 0; k < o.schedules; k++) {
    for (const f of files) {
      if (o.signal?.aborted) break;
      const file = join(o.dir, f);
      const scenario = parseScenario(readFileSync(file, "utf8"), file);
      const seed = deriveSeed(o.seed ?? scenario.seed, k);
      let r: ChaosReport;
      try {
        r = await runChaosOnce({
          scenario,
          file,
          seed,
          schedule: k,
          outDir: join(o.outDir, scenario.name),
          log: () => {},
          ...(o.signal ? { signal: o.signal } : {}),
        });
      } catch (e) {
        unexpected.push({
          scenario: scenario.name,
          seed,
          verdict: "error",
          failed: [(e as Error).message],
          replay: replayCommand(file, seed),
        });
        o.log(`${scenario.name} seed ${seed}: ERROR ${(e as Error).message}`);
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
      if (r.verdict !== scenario.expect)
        unexpected.push({ scenario: scenario.name, seed, verdict: r.verdict, failed, replay: r.replay });
      o.log(
        `${scenario.name} seed ${seed}: ${r.verdict.toUpperCase()}${failed.length ? ` (${failed.join(", ")})` : ""} hits ${JSON.stringify(r.hitsByKind)}`,
      );
    }
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
      durationMs: Date.now() - t0,
      startedAt: new Date(t0).toISOString(),
    },
  };
}
