// `xensim chaos run`: one scenario file against a fresh embedded host, K times with derived seeds.
// Each run: start the host, create the guests through the toolstack's API, wait for their
// workloads, play the fault timeline through the one fault API (POST/DELETE /chaos/faults), heal,
// let the workloads finish, destroy the domains, then judge: write ledger, one response per
// request, leaks, liveness, serializability. The report is JSON + Markdown + SVG. `runSchedule`
// plays one schedule on a host that is already up (the soak keeps one host across schedules).

import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import {
  type ChaosReport,
  checkSerializability,
  checkLeaks,
  checkLedger,
  checkLiveness,
  checkOneResponse,
  countByKind,
  type ExecutedAction,
  expandSchedule,
  type FaultHit,
  type IoSample,
  type LeakEvidence,
  type LedgerEvidence,
  type ResponseEvidence,
  reportMarkdown,
  reportSvg,
  type Scenario,
  shortenScenario,
  stepFaults,
  stepsEnded,
  verdictOf,
  classifyFaultConsequence,
  type XsHistoryEvent,
} from "@xensim/chaos";
import { deriveSeed } from "@xensim/random";
import type { GuestStatusJson } from "@xensim/proto";
import { ChaosHost, sleep } from "./chaos-host.js";
import { ComposeChaosHost, defaultComposeProject } from "./chaos-compose.js";
import type { ChaosTarget } from "./chaos-target.js";

export interface ChaosRunOptions {
  scenario: Scenario;
  file: string;
  seed: number;
  /** Index of this schedule among the K of the command (for the report). */
  schedule: number;
  outDir: string;
  log: (line: string) => void;
  /** Aborted on Ctrl-C: every fault set is healed, the host stopped. */
  signal?: AbortSignal;
  /** The scenario was scaled into this fault window (`--short`): the replay command says so. */
  shortMs?: number;
  /**
   * Play on the compose deployment of this project (`--compose [--project NAME]`) instead of a
   * fresh host; a scenario with `host: {layout: compose}` does without it (the default project).
   */
  compose?: { project?: string };
}

export interface ScheduleOptions extends ChaosRunOptions {
  /**
   * On a host shared by many schedules: each guest's domain name and file disk get this suffix
   * (a fresh guest and disk per schedule), the domains are destroyed even when the leak audit is
   * off, and the file disks removed afterwards.
   */
  shared?: { suffix: string };
  /** Write report.{json,md,svg} (default true; the soak writes only failing runs'). */
  writeReport?: boolean;
}

/** The command that replays one seed of a scenario. */
export function replayCommand(file: string, seed: number, shortMs?: number, composeProject?: string): string {
  return `xensim chaos run ${file} --seed ${seed} --schedules 1${shortMs !== undefined ? ` --short ${shortMs}` : ""}${composeProject !== undefined ? ` --compose --project ${composeProject}` : ""}`;
}

/** A scenario as `--short <windowMs>` plays it (the soak's and the replay's scaling, the same). */
export function shortScenario(s: Scenario, windowMs: number): Scenario {
  return shortenScenario(s, {
    windowMs,
    // the job outlives the window by a moment: I/O must be seen to resume after the heal
    maxRuntimeMs: windowMs + 200,
  });
}

/** The file disk of a guest on a shared host: `path=g1.raw` → `path=g1.<suffix>.raw`. */
function diskFor(disk: string, suffix: string | undefined): { disk: string; file?: string } {
  if (suffix === undefined) return { disk };
  const m = /(path=)([^,\s']+)/.exec(disk);
  if (!m) return { disk };
  const name = basename(m[2]!);
  const dot = name.lastIndexOf(".");
  const file = dot > 0 ? `${name.slice(0, dot)}.${suffix}${name.slice(dot)}` : `${name}.${suffix}`;
  return { disk: disk.replace(m[0], `${m[1]}${file}`), file };
}

/** Runs one schedule of a scenario on a fresh embedded host; returns its report. */
export async function runChaosOnce(options: ChaosRunOptions): Promise<ChaosReport> {
  const s = options.scenario;
  if (options.compose !== undefined || s.layout === "compose") {
    const project = options.compose?.project ?? defaultComposeProject();
    const c = await ComposeChaosHost.attach({ project, services: s.services });
    options.log(`  seed ${options.seed}: on compose project ${project} (toolstack ${c.api})`);
    try {
      // the deployment outlives the run: a fresh guest and disk per schedule, destroyed after it
      return await runSchedule(c, { ...options, shared: { suffix: `s${options.seed}` } });
    } finally {
      await c.stop();
    }
  }
  const h = await ChaosHost.start({
    services: s.services,
    seed: options.seed,
    hostId: `chaos-${options.seed}`,
    layout: s.layout === "distributed" ? "distributed" : "embedded",
  });
  options.log(`  seed ${options.seed}: started a host (${s.services.join(", ")}); state in ${h.stateDir}`);
  try {
    return await runSchedule(h, options);
  } finally {
    await h.stop();
  }
}

/** Plays one schedule of a scenario on a host that is up; returns its report (outDir/seed-<seed>/). */
export async function runSchedule(h: ChaosTarget, options: ScheduleOptions): Promise<ChaosReport> {
  const s = options.scenario;
  const call = h.call.bind(h);
  const startedAt = Date.now();
  const suffix = options.shared?.suffix;
  // xenstored's transaction history, for the serializability check (recorded from here on)
  const history: XsHistoryEvent[] = [];
  let historyError = await h.startHistory(options.signal);
  const latest = new Map<number, GuestStatusJson>();
  const series: IoSample[] = [];
  let t0 = Number.NaN;
  const guestName = new Map<string, string>(); // domain name → the scenario's guest name
  // faults placed between two steps of a guest's workload: set when the first step ends (seen in
  // the guest's status: its I/O count, or the job's end), healed after `for` or when the next ends
  const between = stepFaults(s, options.seed);
  const stepsDone = new Map<string, Set<string>>(); // guest → steps ended
  let stepChain: Promise<unknown> = Promise.resolve();
  const stepIds = new Map<number, number>(); // scenario fault index → active fault id
  const onSteps = (guest: string, g: GuestStatusJson): void => {
    const steps = s.guests.find((x) => x.name === guest)?.steps;
    if (!steps || between.length === 0 || Number.isNaN(t0) || !g.workload) return;
    const ended = stepsEnded(
      steps,
      Number(g.workload.ios),
      ["verifying", "done", "failed"].includes(g.workload.phase),
    );
    const done = stepsDone.get(guest) ?? new Set<string>();
    stepsDone.set(guest, done);
    for (const step of ended) {
      if (done.has(step)) continue;
      done.add(step);
      options.log(`  seed ${options.seed}: ${guest} ended step ${step} (${g.workload.ios} I/Os)`);
      for (const f of between) {
        if (f.stepsOf !== guest) continue;
        if (f.between[0] === step) stepChain = stepChain.then(() => stepAction(f, "set"));
        else if (f.between[1] === step && f.forMs === undefined && !f.oneShot)
          stepChain = stepChain.then(() => stepAction(f, "heal"));
      }
    }
  };
  const stepAction = async (f: (typeof between)[number], action: "set" | "heal"): Promise<void> => {
    if (aborted) return;
    const sentAt = Date.now();
    options.log(
      `  seed ${options.seed}: between ${f.between[0]} and ${f.between[1]}: sending ${action} ${f.kind}`,
    );
    let ok = true;
    let error: string | undefined;
    if (action === "set") {
      const spec = { ...f.spec, ...(f.guest ? { domain: domids.get(f.guest) } : {}) };
      const r = await call<{ id?: number; error?: string }>("POST", "/chaos/faults", {
        ...spec,
        service: f.service,
      });
      if (r.status !== 200) {
        ok = false;
        error = r.json.error ?? `HTTP ${r.status}`;
      } else if (typeof r.json.id === "number") {
        stepIds.set(f.fault, r.json.id);
        if (f.forMs !== undefined && !f.oneShot) {
          const forMs = f.forMs;
          setTimeout(() => {
            stepChain = stepChain.then(() => stepAction(f, "heal"));
          }, forMs).unref();
        }
      }
    } else {
      const id = stepIds.get(f.fault);
      if (id === undefined) return;
      stepIds.delete(f.fault);
      const r = await call<{ error?: string }>("DELETE", `/chaos/faults?id=${id}`);
      if (r.status !== 200) {
        ok = false;
        error = r.json.error ?? `HTTP ${r.status}`;
      }
      lastHealMs = Math.max(lastHealMs, Date.now() - t0);
    }
    executed.push({
      atMs: sentAt - t0,
      action,
      fault: f.fault,
      occurrence: 0,
      kind: f.kind,
      service: f.service,
      ...(f.guest ? { guest: f.guest } : {}),
      spec: f.spec,
      sentAt,
      ok,
      ...(error !== undefined ? { error } : {}),
    });
    options.log(
      `  seed ${options.seed}: between ${f.between[0]} and ${f.between[1]}: ${action} ${f.kind} on ${f.service}${ok ? "" : ` FAILED: ${error}`}`,
    );
  };
  const unsubscribe = h.onStatus((g) => {
    if (!guestName.has(g.name)) return; // another schedule's guest
    latest.set(g.domid, g);
    onSteps(guestName.get(g.name)!, g);
    if (!Number.isNaN(t0) && g.workload)
      series.push({
        t: Date.now() - t0,
        guest: guestName.get(g.name)!,
        ios: Number(g.workload.ios),
        iops: Number(g.workload.iops),
        phase: g.workload.phase,
      });
  });
  const executed: ExecutedAction[] = [];
  const domids = new Map<string, number>();
  const diskFiles: string[] = [];
  let aborted = false;
  const onAbort = (): void => {
    aborted = true;
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let lastHealMs = 0;
  let hits: FaultHit[] | undefined;
  const leaks: LeakEvidence[] = [];
  const final = new Map<number, GuestStatusJson>();
  const poll = suffix !== undefined ? 50 : 200;
  const phasesMs: Record<string, number> = {};
  let phaseAt = startedAt;
  const phase = (name: string): void => {
    const now = Date.now();
    phasesMs[name] = now - phaseAt;
    phaseAt = now;
  };
  try {
    // the guests
    for (const g of s.guests) {
      const name = suffix !== undefined ? `${g.name}-${suffix}` : g.name;
      guestName.set(name, g.name);
      const { disk, file } = diskFor(g.disk, suffix);
      if (file) diskFiles.push(file);
      const cfg = [
        `name = "${name}"`,
        "memory = 32",
        `disk = [ '${disk}' ]`,
        `xensim_workload = "${g.workload}"`,
        ...(g.blkfront ? [`xensim_blkfront = "${g.blkfront}"`] : []),
        "",
      ].join("\n");
      // a host just up on a loaded machine: the toolstack may not reach the hypervisor yet
      let r = { status: 0, json: {} as { id?: number; domid?: number; error?: string } };
      for (let attempt = 0; attempt < 5; attempt++) {
        r = await call<{ id?: number; domid?: number; error?: string }>(
          "POST",
          `/domains?filename=${encodeURIComponent(`${name}.cfg`)}`,
          undefined,
          cfg,
        );
        if (!(r.status >= 500 && /UNAVAILABLE/.test(r.json.error ?? ""))) break;
        await sleep(1000, options.signal);
      }
      if (r.status >= 300) throw new Error(`creating ${name}: HTTP ${r.status} ${r.json.error ?? ""}`);
      const id = r.json.domid ?? r.json.id;
      if (typeof id !== "number")
        throw new Error(`creating ${name}: no domain id in ${JSON.stringify(r.json)}`);
      domids.set(g.name, id);
    }
    // wait for every workload to run
    const runDeadline = Date.now() + 60_000;
    while (
      s.guests.length > 0 &&
      ![...domids.values()].every((d) =>
        ["running", "verifying", "done"].includes(latest.get(d)?.workload?.phase ?? ""),
      )
    ) {
      if (Date.now() > runDeadline || aborted)
        throw new Error("the guests' workloads did not start within 60 s");
      await sleep(suffix !== undefined ? 20 : 100, options.signal);
    }
    phase("start");
    t0 = Date.now();
    options.log(
      `  seed ${options.seed}: workloads running (${[...domids].map(([n, d]) => `${n}=dom${d}`).join(" ")})`,
    );

    // the fault timeline
    const timeline = expandSchedule(s, options.seed);
    const ids = new Map<string, number>();
    for (const a of timeline) {
      const wait = t0 + a.atMs - Date.now();
      if (wait > 0) await sleep(wait, options.signal);
      if (aborted) break;
      const key = `${a.fault}/${a.occurrence}`;
      const sentAt = Date.now();
      let ok = true;
      let error: string | undefined;
      if (a.action === "set") {
        const spec = { ...a.spec, ...(a.guest ? { domain: domids.get(a.guest) } : {}) };
        const r = await call<{ id?: number; error?: string }>("POST", "/chaos/faults", {
          ...spec,
          service: a.service,
        });
        if (r.status !== 200) {
          ok = false;
          error = r.json.error ?? `HTTP ${r.status}`;
        } else if (typeof r.json.id === "number") ids.set(key, r.json.id);
      } else {
        const id = ids.get(key);
        if (id !== undefined) {
          const r = await call<{ error?: string }>("DELETE", `/chaos/faults?id=${id}`);
          if (r.status !== 200) {
            ok = false;
            error = r.json.error ?? `HTTP ${r.status}`;
          }
        }
        lastHealMs = Date.now() - t0;
      }
      executed.push({ ...a, sentAt, ok, ...(error !== undefined ? { error } : {}) });
      options.log(
        `  seed ${options.seed}: +${a.atMs} ms ${a.action} ${a.kind} on ${a.service}${ok ? "" : ` FAILED: ${error}`}`,
      );
    }
    phase("faults");
    // heal whatever is left, then let the workloads finish
    const rest = Math.max(0, t0 + s.durationMs - Date.now());
    if (!aborted) await sleep(rest, options.signal);
    if (between.length === 0) await call("DELETE", "/chaos/faults").catch(() => {});
    else {
      // the window's faults only: those placed between steps last until their step ends
      const stepSet = new Set(stepIds.values());
      const { json } = await call<{ faults?: Array<{ id: number }> }>("GET", "/chaos/faults").catch(() => ({
        json: { faults: [] },
      }));
      for (const f of json.faults ?? [])
        if (!stepSet.has(f.id)) await call("DELETE", `/chaos/faults?id=${f.id}`).catch(() => {});
    }
    lastHealMs = Math.max(lastHealMs, Date.now() - t0);
    const endDeadline = Date.now() + s.checks.livenessMs + 60_000;
    // Once the liveness check has failed for good (the bound after the last heal is over, the
    // guests' statuses kept coming, and none showed progress since the heal), waiting out the rest
    // of the bound for the job tells nothing more. A status stream that stalls (a loaded host) is
    // not a frozen disk: then the wait goes on.
    const livenessFailedForGood = (): boolean => {
      const sinceStart = Date.now() - t0;
      if (sinceStart < lastHealMs + s.checks.livenessMs + 1000) return false;
      const last = series.at(-1);
      if (last === undefined || sinceStart - last.t > 2000) return false;
      return !checkLiveness(series, lastHealMs, s.checks.livenessMs).pass;
    };
    while (
      !aborted &&
      ![...domids.values()].every((d) => ["done", "failed"].includes(latest.get(d)?.workload?.phase ?? ""))
    ) {
      if (Date.now() > endDeadline || livenessFailedForGood()) break;
      await sleep(poll, options.signal);
    }
    await stepChain.catch(() => {});
    // a fault set between the last steps is healed now (the job has ended)
    if (between.length > 0) {
      await call("DELETE", "/chaos/faults").catch(() => {});
      lastHealMs = Math.max(lastHealMs, Date.now() - t0);
    }
    // the last status after the job's end (the status with the ledger follows "done" at once)
    await sleep(h.settleMs ?? (suffix !== undefined ? 30 : 400), options.signal);
    phase("finish");
    const rec = await call<{ records?: FaultHit[] }>(
      "GET",
      `/chaos/records?since=${startedAt}&services=${h.services.join(",")}`,
    ).catch(() => ({
      json: { records: [] },
    }));
    hits = rec.json.records ?? [];
    // what the guests said last, before their domains are destroyed (teardown statuses have no disks)
    for (const [d, g] of latest) final.set(d, structuredClone(g));

    phase("records");
    // destroy, then audit what is left
    if ((s.checks.leaks || suffix !== undefined) && !aborted) {
      for (const d of domids.values()) await call("DELETE", `/domains/${d}`).catch(() => {});
    }
    if (s.checks.leaks && !aborted) {
      // teardown runs on after DELETE returns (backends close, unmap, unwatch): audit until the
      // tables are clean or a bound passes, and keep the last audit as the evidence
      const auditDeadline = Date.now() + 10_000;
      // (a shared host: the first audit at once, then every 50 ms; a clean table ends it)
      if (suffix === undefined) await sleep(1000, options.signal);
      for (;;) {
        const found = await h.auditLeaks([...domids].map(([guest, domid]) => ({ guest, domid })));
        if (checkLeaks(found).pass || Date.now() > auditDeadline || aborted) {
          leaks.push(...found);
          break;
        }
        await sleep(suffix !== undefined ? 50 : 500, options.signal);
      }
    }
    phase("destroy");
    if (historyError === undefined) {
      const taken = await h.observeHistory("take").catch((e: Error) => {
        historyError = e.message;
        return [];
      });
      history.push(...(taken ?? []));
    }
  } finally {
    unsubscribe();
    options.signal?.removeEventListener("abort", onAbort);
    if (aborted) {
      options.log("  interrupted: healing every fault this run set");
      await call("DELETE", "/chaos/faults").catch(() => {});
      // what `xensim chaos list` says now, before the host stops
      const left = await call<{ faults?: unknown[] }>("GET", "/chaos/faults").catch(() => undefined);
      options.log(
        left?.json.faults
          ? `  interrupted: chaos list after healing: ${left.json.faults.length} active fault(s)`
          : "  interrupted: chaos list after healing: the host did not answer",
      );
      // a host that outlives the run (compose, the soak's shared host): its guests go too
      if (suffix !== undefined)
        for (const d of domids.values()) await call("DELETE", `/domains/${d}`).catch(() => {});
    } else if (suffix !== undefined) {
      // a shared host: nothing of this schedule stays set for the next one
      await call("DELETE", "/chaos/faults").catch(() => {});
    }
    for (const f of diskFiles) await h.removeDisk(f);
    phase("end");
  }

  // judge
  const statuses = [...domids.values()]
    .map((d) => final.get(d) ?? latest.get(d))
    .filter((g): g is GuestStatusJson => g !== undefined);
  const ledger: LedgerEvidence[] = statuses.map((g) => ({
    guest: g.name,
    vdev: g.disks?.[0]?.vdev ?? "xvda",
    acknowledgedBlocks: g.workload?.ledger?.acknowledgedBlocks ?? 0,
    blocksChecked: g.workload?.ledger?.blocksChecked ?? 0,
    lost: g.workload?.ledger?.lost ?? Number(g.workload?.verifyFailures ?? 0),
    indeterminate: g.workload?.ledger?.indeterminate ?? 0,
    failures: g.workload?.ledger?.failures ?? [],
    phase: g.workload?.phase ?? "unknown",
  }));
  const responses: ResponseEvidence[] = statuses.flatMap((g) =>
    (g.disks ?? []).map((d) => ({
      guest: g.name,
      vdev: d.vdev,
      protocolErrors: d.protocolErrors ?? 0,
      ...(d.ringRequests !== undefined ? { requests: d.ringRequests } : {}),
      ...(d.ringResponses !== undefined ? { responses: d.ringResponses } : {}),
      ...(d.ringInFlight !== undefined ? { inFlight: d.ringInFlight } : {}),
    })),
  );
  const checks = [
    ...(s.checks.ledger ? [checkLedger(ledger.filter((l) => l.acknowledgedBlocks > 0 || l.lost > 0))] : []),
    checkOneResponse(responses),
    ...(s.checks.leaks ? [checkLeaks(leaks)] : []),
    checkLiveness(series, lastHealMs, s.checks.livenessMs),
    historyError === undefined
      ? checkSerializability(history)
      : {
          name: "serializability" as const,
          pass: false,
          summary: `no xenstore history: ${historyError}`,
          evidence: [],
        },
  ];
  if (aborted) checks.push({ name: "liveness", pass: false, summary: "interrupted (Ctrl-C)", evidence: [] });
  const consequence = aborted ? undefined : classifyFaultConsequence(checks, hits ?? []);
  const report: ChaosReport = {
    scenario: s.name,
    file: options.file,
    seed: options.seed,
    schedule: options.schedule,
    verdict: verdictOf(checks, consequence),
    ...(consequence ? { consequence } : {}),
    startedAt,
    durationMs: Date.now() - startedAt,
    checks,
    timeline: executed,
    hits: hits ?? [],
    hitsByKind: countByKind(hits ?? []),
    series,
    replay: replayCommand(
      options.file,
      options.seed,
      options.shortMs,
      h instanceof ComposeChaosHost ? h.project : undefined,
    ),
    phasesMs,
  };
  if (options.writeReport !== false) writeReport(options.outDir, report);
  return report;
}

/** report.{json,md,svg} under outDir/seed-<seed>/. */
export function writeReport(outDir: string, report: ChaosReport): void {
  const dir = join(outDir, `seed-${report.seed}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, "report.md"), reportMarkdown(report));
  writeFileSync(join(dir, "report.svg"), reportSvg(report));
}

export interface ChaosRunResult {
  reports: ChaosReport[];
  /** The first failing seed, when one failed (the run stopped there). */
  failedSeed?: number;
}

/** Runs `schedules` schedules with seeds derived from `seed`; stops at the first failing one. */
export async function runChaos(
  options: Omit<ChaosRunOptions, "seed" | "schedule"> & { seed?: number; schedules: number },
): Promise<ChaosRunResult> {
  const base = options.seed ?? options.scenario.seed;
  const reports: ChaosReport[] = [];
  for (let k = 0; k < options.schedules; k++) {
    if (options.signal?.aborted) break;
    const seed = deriveSeed(base, k);
    const r = await runChaosOnce({ ...options, seed, schedule: k });
    reports.push(r);
    options.log(
      `schedule ${k + 1}/${options.schedules} seed ${seed}: ${r.verdict.toUpperCase()} — ${r.checks
        .map((c) => `${c.name} ${c.pass ? "ok" : "FAIL"}`)
        .join(", ")}`,
    );
    if (r.verdict === "fail") return { reports, failedSeed: seed };
  }
  return { reports };
}
