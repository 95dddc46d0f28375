// `xensim chaos run`: one scenario file against a fresh embedded host, K times with derived seeds.
// Each run: start the host, create the guests through the toolstack's API, wait for their
// workloads, play the fault timeline through the one fault API (POST/DELETE /chaos/faults), heal,
// let the workloads finish, destroy the domains, then judge: write ledger, one response per
// request, leaks, liveness. The report is JSON + Markdown + SVG.

import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInProcessBus } from "@xensim/bus";
import {
  auditDomainLeaks,
  type ChaosReply,
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
  type LeakTables,
  type LedgerEvidence,
  type ResponseEvidence,
  reportMarkdown,
  reportSvg,
  type Scenario,
  verdictOf,
  type XsHistoryEvent,
} from "@xensim/chaos";
import { EventChannels } from "@xensim/evtchn";
import { CHAOS_SUBJECTS } from "@xensim/subjects";
import { GrantTables } from "@xensim/gnttab";
import { PageStore } from "@xensim/memory";
import { deriveSeed } from "@xensim/random";
import { createLogger, type HostHandle, startHost } from "@xensim/runtime";
import { connectXenstore } from "@xensim/xenstore-client";
import { isServiceName, type ServiceName, serviceEntry } from "../services.js";
import type { GuestStatusJson } from "@xensim/proto";
import { GUEST_SUBJECTS } from "@xensim/subjects";

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
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** The command that replays one seed of a scenario. */
export function replayCommand(file: string, seed: number): string {
  return `xensim chaos run ${file} --seed ${seed} --schedules 1`;
}

/** Runs one schedule of a scenario; returns its report (written to outDir/seed-<seed>/). */
export async function runChaosOnce(o: ChaosRunOptions): Promise<ChaosReport> {
  const s = o.scenario;
  for (const n of s.services) if (!isServiceName(n)) throw new Error(`host.services: unknown service ${n}`);
  const stateDir = mkdtempSync(join(tmpdir(), "xensim-chaos-"));
  const tokenFile = join(stateDir, "api-token");
  const token = randomBytes(24).toString("base64url");
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const apiPort = await freePort();
  const api = `http://127.0.0.1:${apiPort}`;
  // `xensim chaos list --state-dir <this dir>` (and every chaos command) reaches this run's host
  writeFileSync(join(stateDir, "toolstack.url"), `${api}\n`);
  const socket = join(stateDir, "xenstored.sock");
  mkdirSync(join(stateDir, "images"), { recursive: true });
  const base: Record<string, Record<string, unknown>> = {
    xenstored: { socket, stateDir: join(stateDir, "xenstored") },
    hypervisor: { stateDir: join(stateDir, "hypervisor") },
    blkback: { params: { fileDir: join(stateDir, "images") } },
    guest: { stateDir: join(stateDir, "guest"), statusIntervalMs: 250 },
    toolstack: {
      api: { host: "127.0.0.1", port: apiPort, tokenFile },
      disks: { imageDir: join(stateDir, "images") },
      ...(s.services.includes("guest") ? { guest: "guest" } : {}),
    },
  };
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
    text?: string,
  ): Promise<{ status: number; json: T }> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    let payload: string | undefined;
    if (text !== undefined) {
      headers["content-type"] = "text/plain";
      payload = text;
    } else if (body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const res = await fetch(`${api}${path}`, {
      method,
      headers,
      ...(payload !== undefined ? { body: payload } : {}),
    });
    const t = await res.text();
    return { status: res.status, json: (t ? JSON.parse(t) : {}) as T };
  };

  const startedAt = Date.now();
  o.log(`  seed ${o.seed}: starting a host (${s.services.join(", ")}); state in ${stateDir}`);
  const host: HostHandle = await startHost({
    hostId: `chaos-${o.seed}`,
    services: s.services.map((n) => ({
      name: n,
      entry: serviceEntry(n as ServiceName),
      config: base[n] ?? {},
    })),
    sharedMemoryBytes: 256 << 20,
    logLevel: process.env.XENSIM_LOG_LEVEL ?? "fatal",
    // the host's own lines go to stderr: stdout is the command's result (soak JSON)
    log: createLogger({
      svc: "host",
      host: `chaos-${o.seed}`,
      level: process.env.XENSIM_LOG_LEVEL ?? "fatal",
      destination: process.stderr,
    }),
    seed: o.seed,
  });
  const bus = createInProcessBus({ name: host.busName });
  // xenstored's transaction history, for the serializability check (recorded from here on)
  const observeHistory = async (action: "start" | "take"): Promise<XsHistoryEvent[] | undefined> => {
    const m = await bus.request(
      CHAOS_SUBJECTS.service("xenstored"),
      new TextEncoder().encode(JSON.stringify({ op: "observe", name: "xenstore-history", action })),
      { timeoutMs: 10_000 },
    );
    const r = JSON.parse(new TextDecoder().decode(m.data)) as ChaosReply;
    if (!r.ok) throw new Error(r.error ?? "xenstored answered no history");
    return r.observation as XsHistoryEvent[] | undefined;
  };
  const history: XsHistoryEvent[] = [];
  let historyError: string | undefined;
  // a new bus learns the workers' subscriptions in a moment: ask again until xenstored answers
  for (let tries = 0; ; tries++) {
    try {
      historyError = undefined;
      await observeHistory("start");
      break;
    } catch (e) {
      historyError = (e as Error).message;
      if (tries >= 300 || !/no responders/.test(historyError)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const latest = new Map<number, GuestStatusJson>();
  const series: IoSample[] = [];
  let t0 = Number.NaN;
  const dec = new TextDecoder();
  bus.subscribe(GUEST_SUBJECTS.statusAll, {
    callback: (m) => {
      try {
        const g = JSON.parse(dec.decode(m.data)) as GuestStatusJson;
        latest.set(g.domid, g);
        if (!Number.isNaN(t0) && g.workload)
          series.push({
            t: Date.now() - t0,
            guest: g.name,
            ios: Number(g.workload.ios),
            iops: Number(g.workload.iops),
            phase: g.workload.phase,
          });
      } catch {
        // not a status
      }
    },
  });
  const executed: ExecutedAction[] = [];
  const domids = new Map<string, number>();
  let aborted = false;
  const onAbort = (): void => {
    aborted = true;
  };
  o.signal?.addEventListener("abort", onAbort, { once: true });
  let lastHealMs = 0;
  let hits: FaultHit[] | undefined;
  const leaks: LeakEvidence[] = [];
  const final = new Map<number, GuestStatusJson>();
  try {
    await host.ready;
    // the guests
    for (const g of s.guests) {
      const cfg = [
        `name = "${g.name}"`,
        "memory = 32",
        `disk = [ '${g.disk}' ]`,
        `xensim_workload = "${g.workload}"`,
        ...(g.blkfront ? [`xensim_blkfront = "${g.blkfront}"`] : []),
        "",
      ].join("\n");
      // a host just up on a loaded machine: the toolstack may not reach the hypervisor yet
      let r = { status: 0, json: {} as { id?: number; domid?: number; error?: string } };
      for (let attempt = 0; attempt < 5; attempt++) {
        r = await call<{ id?: number; domid?: number; error?: string }>(
          "POST",
          `/domains?filename=${encodeURIComponent(`${g.name}.cfg`)}`,
          undefined,
          cfg,
        );
        if (!(r.status >= 500 && /UNAVAILABLE/.test(r.json.error ?? ""))) break;
        await sleep(1000, o.signal);
      }
      if (r.status >= 300) throw new Error(`creating ${g.name}: HTTP ${r.status} ${r.json.error ?? ""}`);
      const id = r.json.domid ?? r.json.id;
      if (typeof id !== "number")
        throw new Error(`creating ${g.name}: no domain id in ${JSON.stringify(r.json)}`);
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
      await sleep(100, o.signal);
    }
    t0 = Date.now();
    o.log(`  seed ${o.seed}: workloads running (${[...domids].map(([n, d]) => `${n}=dom${d}`).join(" ")})`);

    // the fault timeline
    const timeline = expandSchedule(s, o.seed);
    const ids = new Map<string, number>();
    for (const a of timeline) {
      const wait = t0 + a.atMs - Date.now();
      if (wait > 0) await sleep(wait, o.signal);
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
      o.log(
        `  seed ${o.seed}: +${a.atMs} ms ${a.action} ${a.kind} on ${a.service}${ok ? "" : ` FAILED: ${error}`}`,
      );
    }
    // heal whatever is left, then let the workloads finish
    const rest = Math.max(0, t0 + s.durationMs - Date.now());
    if (!aborted) await sleep(rest, o.signal);
    await call("DELETE", "/chaos/faults").catch(() => {});
    lastHealMs = Math.max(lastHealMs, Date.now() - t0);
    const endDeadline = Date.now() + s.checks.livenessMs + 60_000;
    while (
      !aborted &&
      ![...domids.values()].every((d) => ["done", "failed"].includes(latest.get(d)?.workload?.phase ?? ""))
    ) {
      if (Date.now() > endDeadline) break;
      await sleep(200, o.signal);
    }
    await sleep(400, o.signal); // the last status after the job's end
    const rec = await call<{ records?: FaultHit[] }>("GET", "/chaos/records").catch(() => ({
      json: { records: [] },
    }));
    hits = rec.json.records ?? [];
    // what the guests said last, before their domains are destroyed (teardown statuses have no disks)
    for (const [d, g] of latest) final.set(d, structuredClone(g));

    // destroy, then audit what is left
    if (s.checks.leaks && !aborted) {
      for (const d of domids.values()) await call("DELETE", `/domains/${d}`).catch(() => {});
      await sleep(1000, o.signal);
      const xs = await connectXenstore({ socket });
      // the hypervisor's own tables (this host's shared memory) and xenstored's watch table
      const store = PageStore.attach(host.sharedMemory);
      const gt = new GrantTables(store);
      const ev = new EventChannels(store, { notify: () => {} });
      const tables: LeakTables = {
        grants: (domid) => gt.grantLeaksOf(domid),
        eventChannels: (domid) => ev.portsNaming(domid),
        watches: async () => (await xs.control("watches")).split("\n").filter((l) => l !== ""),
      };
      try {
        // teardown runs on after DELETE returns (backends close, unmap, unwatch): audit until the
        // tables are clean or a bound passes, and keep the last audit as the evidence
        const auditDeadline = Date.now() + 10_000;
        for (;;) {
          const { json } = await call<{ domains?: Array<{ id: number }> }>("GET", "/domains");
          const present = new Set((json.domains ?? []).map((d) => d.id));
          const found = await auditDomainLeaks(
            [...domids].map(([guest, domid]) => ({ guest, domid })),
            present,
            (p) => xs.exists(p).catch(() => false),
            tables,
          );
          if (checkLeaks(found).pass || Date.now() > auditDeadline || aborted) {
            leaks.push(...found);
            break;
          }
          await sleep(500, o.signal);
        }
      } finally {
        await xs.close();
      }
    }
    if (historyError === undefined) {
      const taken = await observeHistory("take").catch((e: Error) => {
        historyError = e.message;
        return [];
      });
      history.push(...(taken ?? []));
    }
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
    if (aborted) {
      o.log("  interrupted: healing every fault this run set");
      await call("DELETE", "/chaos/faults").catch(() => {});
      // what `xensim chaos list` says now, before the host stops
      const left = await call<{ faults?: unknown[] }>("GET", "/chaos/faults").catch(() => undefined);
      o.log(
        left?.json.faults
          ? `  interrupted: chaos list after healing: ${left.json.faults.length} active fault(s)`
          : "  interrupted: chaos list after healing: the host did not answer",
      );
    }
    await bus.close().catch(() => {});
    await host.stop().catch(() => {});
    rmSync(stateDir, { recursive: true, force: true });
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
  const report: ChaosReport = {
    scenario: s.name,
    file: o.file,
    seed: o.seed,
    schedule: o.schedule,
    verdict: verdictOf(checks),
    startedAt,
    durationMs: Date.now() - startedAt,
    checks,
    timeline: executed,
    hits: hits ?? [],
    hitsByKind: countByKind(hits ?? []),
    series,
    replay: replayCommand(o.file, o.seed),
  };
  const dir = join(o.outDir, `seed-${o.seed}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, "report.md"), reportMarkdown(report));
  writeFileSync(join(dir, "report.svg"), reportSvg(report));
  return report;
}

export interface ChaosRunResult {
  reports: ChaosReport[];
  /** The first failing seed, when one failed (the run stopped there). */
  failedSeed?: number;
}

/** Runs `schedules` schedules with seeds derived from `seed`; stops at the first failing one. */
export async function runChaos(
  o: Omit<ChaosRunOptions, "seed" | "schedule"> & { seed?: number; schedules: number },
): Promise<ChaosRunResult> {
  const base = o.seed ?? o.scenario.seed;
  const reports: ChaosReport[] = [];
  for (let k = 0; k < o.schedules; k++) {
    if (o.signal?.aborted) break;
    const seed = deriveSeed(base, k);
    const r = await runChaosOnce({ ...o, seed, schedule: k });
    reports.push(r);
    o.log(
      `schedule ${k + 1}/${o.schedules} seed ${seed}: ${r.verdict.toUpperCase()} — ${r.checks
        .map((c) => `${c.name} ${c.pass ? "ok" : "FAIL"}`)
        .join(", ")}`,
    );
    if (r.verdict === "fail") return { reports, failedSeed: seed };
  }
  return { reports };
}
