// Checkers: pure functions from what a run observed to a pass/fail with evidence.

/** One disk's write ledger at the end of its workload (the job's verify phase). */
export interface LedgerEvidence {
  guest: string;
  vdev: string;
  /** Writes the backend acknowledged (BLKIF_RSP_OKAY) whose block was not written again after a failure. */
  acknowledgedBlocks: number;
  /** Acknowledged blocks read back and checked (run-time reads and the verify phase). */
  blocksChecked: number;
  /** Acknowledged writes that did not read back (wrong generation, bad CRC, …): lost data. */
  lost: number;
  /** Blocks whose last write failed or never completed: their contents are indeterminate, not lost. */
  indeterminate: number;
  /** The first few losses: offset, reason, expected and found generation. */
  failures: unknown[];
  /** The workload's end: "done", "failed", or the phase it was in when the run ended. */
  phase: string;
}

/** One disk's frontend protocol counters. */
export interface ResponseEvidence {
  guest: string;
  vdev: string;
  /** Responses blkfront refused: unknown id, an id not in flight (a second answer), … */
  protocolErrors: number;
  /** Requests put on the ring, responses taken off it, requests in flight (when reported). */
  requests?: number;
  responses?: number;
  inFlight?: number;
}

/** Responses taken beyond one per request: a second answer that landed on a reused id. */
function extraResponses(d: ResponseEvidence): number {
  if (d.requests === undefined || d.responses === undefined) return 0;
  return Math.max(0, d.responses - (d.requests - (d.inFlight ?? 0)));
}

/** What is left of a destroyed domain in the hypervisor's and xenstored's own tables. */
export interface LeakEvidence {
  domid: number;
  guest: string;
  /** The hypervisor still lists the domain. */
  domainPresent: boolean;
  /** xenstore nodes still present about the domain (/local/domain/<id>, backend directories). */
  xenstoreNodes: string[];
  /** Grant mappings of the domain's grants still held by any mapper (absent: not audited). */
  grantMappings?: number;
  /** Pins the domain still holds on other domains' grant entries, or its own table still there. */
  pins?: number;
  /** Event channels still open by or to the domain (absent: not audited). */
  eventChannels?: number;
  /** xenstored watches still registered by the domain's connection or on its paths (absent: not audited). */
  watches?: number;
  /** What the tables said, entry by entry, for whatever was left. */
  detail?: {
    grantMappings?: Array<{ mapper: number; handle: number; ref: number }>;
    pins?: Array<{ granter: number; ref: number; pin: number }>;
    grantTableLeft?: boolean;
    eventChannels?: Array<{ domid: number; port: number; state: string }>;
    ownPorts?: number;
    watches?: string[];
  };
}

/** The hypervisor's and xenstored's own tables, as a leak audit reads them (each optional). */
export interface LeakTables {
  /** The hypervisor's grant tables: what of `domid` is left in other domains' maptracks and pins. */
  grants?(domid: number): {
    tableLeft: boolean;
    mappingsOfItsGrants: Array<{ mapper: number; handle: number; ref: number }>;
    pinsItHolds: Array<{ granter: number; ref: number; pin: number }>;
  };
  /** The hypervisor's event channels: its own ports, and peers' ports still naming it. */
  eventChannels?(domid: number): {
    ownPorts: number;
    peerPorts: Array<{ domid: number; port: number; state: string }>;
  };
  /** xenstored's watch table, one "<domid> <path> <token>" a line (XS_CONTROL watches). */
  watches?(): Promise<string[]>;
}

/** I/O completions of one guest over time. */
export interface IoSample {
  /** ms since the workloads started. */
  t: number;
  guest: string;
  ios: number;
  iops: number;
  phase: string;
}

export interface CheckResult {
  name: "ledger" | "one-response" | "leaks" | "liveness" | "serializability";
  pass: boolean;
  summary: string;
  evidence: unknown[];
}

export function checkLedger(disks: readonly LedgerEvidence[]): CheckResult {
  const bad = disks.filter((d) => d.lost > 0);
  const ack = disks.reduce((n, d) => n + d.acknowledgedBlocks, 0);
  const ind = disks.reduce((n, d) => n + d.indeterminate, 0);
  const lost = disks.reduce((n, d) => n + d.lost, 0);
  if (disks.length === 0)
    return { name: "ledger", pass: false, summary: "no disk reported its write ledger", evidence: [] };
  return {
    name: "ledger",
    pass: bad.length === 0,
    summary: `${lost} acknowledged writes lost of ${ack} acknowledged blocks (${ind} indeterminate: failed or in flight)`,
    evidence: bad.map((d) => ({ guest: d.guest, vdev: d.vdev, lost: d.lost, failures: d.failures })),
  };
}

export function checkOneResponse(disks: readonly ResponseEvidence[]): CheckResult {
  const bad = disks.filter((d) => d.protocolErrors > 0 || extraResponses(d) > 0);
  const refused = bad.reduce((n, d) => n + d.protocolErrors, 0);
  const extra = bad.reduce((n, d) => n + extraResponses(d), 0);
  return {
    name: "one-response",
    pass: bad.length === 0,
    summary:
      bad.length === 0
        ? `every request of ${disks.length} disk(s) got exactly one response (${disks.reduce((n, d) => n + (d.requests ?? 0), 0)} requests, ${disks.reduce((n, d) => n + (d.responses ?? 0), 0)} responses)`
        : `${refused} response(s) refused by blkfront (duplicate or unknown id), ${extra} response(s) more than requests`,
    evidence: bad.map((d) => ({ ...d, extraResponses: extraResponses(d) })),
  };
}

export function checkLeaks(domains: readonly LeakEvidence[]): CheckResult {
  const bad = domains.filter(
    (d) =>
      d.domainPresent ||
      (d.grantMappings ?? 0) > 0 ||
      (d.pins ?? 0) > 0 ||
      (d.eventChannels ?? 0) > 0 ||
      d.xenstoreNodes.length > 0 ||
      (d.watches ?? 0) > 0,
  );
  const audited = ["domain table", "xenstore nodes"];
  if (domains.some((d) => d.grantMappings !== undefined)) audited.push("grant mappings");
  if (domains.some((d) => d.pins !== undefined)) audited.push("pins");
  if (domains.some((d) => d.eventChannels !== undefined)) audited.push("event channels");
  if (domains.some((d) => d.watches !== undefined)) audited.push("watches");
  return {
    name: "leaks",
    pass: bad.length === 0,
    summary:
      bad.length === 0
        ? `nothing left of ${domains.length} destroyed domain(s) (audited: ${audited.join(", ")})`
        : `${bad.length} destroyed domain(s) left something behind (audited: ${audited.join(", ")})`,
    evidence: bad,
  };
}

/**
 * Every guest's I/O must make progress within `boundMs` after the last fault healed (or the guest's
 * workload has already finished cleanly by then).
 */
export function checkLiveness(
  samples: readonly IoSample[],
  lastHealMs: number,
  boundMs: number,
): CheckResult {
  const guests = [...new Set(samples.map((s) => s.guest))].sort();
  const evidence: unknown[] = [];
  for (const g of guests) {
    const mine = samples.filter((s) => s.guest === g).sort((a, b) => a.t - b.t);
    const atHeal = [...mine].reverse().find((s) => s.t <= lastHealMs) ?? mine[0];
    if (!atHeal) continue;
    if (atHeal.phase === "done" || atHeal.phase === "failed") continue; // the job had ended
    const resumed = mine.find(
      (s) =>
        s.t > lastHealMs &&
        s.t <= lastHealMs + boundMs &&
        (s.ios > atHeal.ios || s.phase === "done" || s.phase === "failed"),
    );
    if (!resumed)
      evidence.push({
        guest: g,
        lastHealMs,
        boundMs,
        iosAtHeal: atHeal.ios,
        lastSample: mine.at(-1),
      });
  }
  return {
    name: "liveness",
    pass: evidence.length === 0 && guests.length > 0,
    summary:
      guests.length === 0
        ? "no guest reported I/O"
        : evidence.length === 0
          ? `I/O of ${guests.length} guest(s) resumed within ${boundMs} ms after the last heal (at ${lastHealMs} ms)`
          : `${evidence.length} guest(s) made no I/O progress within ${boundMs} ms after the last heal`,
    evidence,
  };
}

/** The xenstore paths a destroyed domain must not leave behind. */
export function domainPaths(domid: number): string[] {
  return [
    `/local/domain/${domid}`,
    `/local/domain/0/backend/vbd/${domid}`,
    `/libxl/${domid}`,
    `/vm/${domid}`,
  ];
}

/**
 * Gathers leak evidence for destroyed domains from the tables themselves: `present` is the
 * hypervisor's domain list now, `exists` asks xenstored.
 */
export async function auditDomainLeaks(
  domains: ReadonlyArray<{ domid: number; guest: string }>,
  present: ReadonlySet<number>,
  exists: (path: string) => Promise<boolean>,
  tables: LeakTables = {},
): Promise<LeakEvidence[]> {
  const out: LeakEvidence[] = [];
  const watchTable = tables.watches ? await tables.watches() : undefined;
  for (const d of domains) {
    const nodes: string[] = [];
    for (const p of domainPaths(d.domid)) if (await exists(p)) nodes.push(p);
    const e: LeakEvidence = {
      domid: d.domid,
      guest: d.guest,
      domainPresent: present.has(d.domid),
      xenstoreNodes: nodes,
    };
    const detail: NonNullable<LeakEvidence["detail"]> = {};
    if (tables.grants) {
      const g = tables.grants(d.domid);
      e.grantMappings = g.mappingsOfItsGrants.length;
      e.pins = g.pinsItHolds.length + (g.tableLeft ? 1 : 0);
      if (e.grantMappings) detail.grantMappings = g.mappingsOfItsGrants;
      if (g.pinsItHolds.length) detail.pins = g.pinsItHolds;
      if (g.tableLeft) detail.grantTableLeft = true;
    }
    if (tables.eventChannels) {
      const ev = tables.eventChannels(d.domid);
      e.eventChannels = ev.ownPorts + ev.peerPorts.length;
      if (ev.peerPorts.length) detail.eventChannels = ev.peerPorts;
      if (ev.ownPorts) detail.ownPorts = ev.ownPorts;
    }
    if (watchTable) {
      const paths = domainPaths(d.domid);
      const left = watchTable.filter((line) => {
        const [owner, path] = line.split(" ");
        return (
          Number(owner) === d.domid ||
          paths.some((p) => path === p || (path !== undefined && path.startsWith(`${p}/`)))
        );
      });
      e.watches = left.length;
      if (left.length) detail.watches = left;
    }
    if (Object.keys(detail).length) e.detail = detail;
    out.push(e);
  }
  return out;
}
