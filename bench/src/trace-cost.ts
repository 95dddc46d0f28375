// `xensim bench trace-cost`: what the protocol trace hooks cost, compiled in but off (nobody
// listens: one flag check each) against listening, on the paths they sit on. Rounds alternate
// off/listening (ABBA order) so that drift of a shared, loaded machine hits both modes alike; each
// mode's figure is the median of its rounds.
//   - evtchn send: EVTCHNOP_send on an interdomain channel (the evtchn core on a page store).
//   - grant map+unmap: GNTTABOP_map_grant_ref then unmap_grant_ref of one granted page.
//   - xenstore write: one XS_WRITE through xenstored's engine.
//   - rings null path, embedded: a guest's blkfront and blkback (a worker thread of an embedded
//     host) over a null store, 4 KiB random reads at depth 32 — every request crosses the ring,
//     kicks and completes with its hooks.
// Listening: in this thread the sink stamps and buffers each record the way the bus listener does
// (without publishing); blkback's thread is switched on over the bus (TRACE_SUBJECTS.control) and its
// batches are received here, as `xensim trace` does.
import { cpus } from "node:os";
import { GNTMAP_host_map, XsType } from "@xensim/abi";
import { EventChannels } from "@xensim/evtchn";
import { GrantTables, grantAccess } from "@xensim/gnttab";
import { PageStore } from "@xensim/memory";
import { TRACE_SUBJECTS } from "@xensim/subjects";
import { setTracer, TRACE_ALL, type TraceControl, type TraceRecord } from "@xensim/trace";
import { runJob, type JobEnv } from "@xensim/workload";
import { XenstoreEngine } from "@xensim/xenstore";
import { storeSpec } from "./blk.js";
import { type BlkServiceEntries, startBlkHost } from "@xensim/harness";
import { machineInfo, round } from "./stats.js";

export interface TraceCostOptions {
  /** The block path's services (for the rings row; omitted: that row is not measured). */
  entries?: BlkServiceEntries;
  /** One round, ms (default 400; the rings row runs 2 × as long). */
  roundMs?: number;
  /** Rounds per mode (default 6). */
  rounds?: number;
  log?: (line: string) => void;
}

export interface TraceCostMode {
  /** Median over the rounds. */
  ops_per_s: number;
  ns_per_op: number;
  /** Every round's ops/s, in the order run. */
  rounds: number[];
}

export interface TraceCostRow {
  op: string;
  off: TraceCostMode;
  listening: TraceCostMode;
  /** listening ns/op ÷ off ns/op. */
  listening_vs_off: number;
  /** Trace records produced per op while listening. */
  records_per_op: number;
}

export interface TraceCostResult {
  benchmark: "trace-cost";
  machine: Record<string, unknown>;
  round_ms: number;
  rounds: number;
  rows: TraceCostRow[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A listener in this thread: stamps and buffers each record as the bus listener does. */
function localSink(): { emit: (r: TraceRecord) => void; count: () => number } {
  let buf: TraceRecord[] = [];
  let seq = 0;
  let total = 0;
  return {
    emit: (r) => {
      const ev = r as TraceRecord & { t: number; wall: number; seq: number };
      ev.t = Number(process.hrtime.bigint());
      ev.wall = Date.now();
      ev.seq = ++seq;
      buf.push(ev);
      total++;
      if (buf.length >= 1000) buf = []; // what a flush (every 10 ms) hands to the bus
    },
    count: () => total,
  };
}

/** Runs `op` back to back for `ms`; ops done. */
function spin(ms: number, op: () => void): number {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++) op();
    n += 64;
  }
  return n;
}

/** ABBA rounds of a synchronous op; the tracer switched per round. */
function microRow(name: string, op: () => void, roundMs: number, rounds: number): TraceCostRow {
  const off: number[] = [];
  const on: number[] = [];
  let records = 0;
  let onOps = 0;
  spin(Math.min(200, roundMs), op); // warm up (JIT)
  for (let r = 0; r < rounds * 2; r++) {
    const listening = r % 4 === 1 || r % 4 === 2;
    const sink = localSink();
    setTracer(listening ? TRACE_ALL : 0, sink.emit);
    const n = spin(roundMs, op);
    setTracer(0);
    const ops = n / (roundMs / 1000);
    if (listening) {
      on.push(Math.round(ops));
      records += sink.count();
      onOps += n;
    } else off.push(Math.round(ops));
  }
  return row(name, off, on, onOps ? records / onOps : 0);
}

function row(op: string, off: number[], on: number[], recordsPerOp: number): TraceCostRow {
  const mode = (xs: number[]): TraceCostMode => {
    const m = median(xs);
    return { ops_per_s: Math.round(m), ns_per_op: round(1e9 / m, 1), rounds: xs };
  };
  const a = mode(off);
  const b = mode(on);
  return {
    op,
    off: a,
    listening: b,
    listening_vs_off: round(b.ns_per_op / a.ns_per_op, 3),
    records_per_op: round(recordsPerOp, 2),
  };
}

function evtchnSendOp(): () => void {
  const store = PageStore.create({ frames: 256 });
  const ev = new EventChannels(store, { notify: () => {} });
  for (const d of [0, 1]) {
    store.createDomain(d, { privileged: d === 0 });
    ev.initDomain(d, { sharedInfoFrame: store.allocFrame(d), maxVcpus: 1 });
  }
  const unbound = ev.allocUnbound(1, { dom: 1, remoteDom: 0 });
  const local = ev.bindInterdomain(0, { remoteDom: 1, remotePort: unbound.port });
  if (unbound.rc || local.rc) throw new Error(`evtchn setup: ${unbound.rc} ${local.rc}`);
  return () => {
    ev.evtchnSend(0, local.port);
  };
}

function grantMapUnmapOp(): () => void {
  const store = PageStore.create({ frames: 512 });
  for (const d of [0, 1, 2]) store.createDomain(d, { privileged: d === 0 });
  const gt = new GrantTables(store);
  for (const d of [0, 1, 2]) gt.initDomain(d);
  store.populatePhysmap(1, 0x100, 1);
  store.populatePhysmap(2, 0x200, 1);
  grantAccess(gt.sharedView(1), 8, 2, 0x100, false);
  return () => {
    const m = gt.mapGrantRef(2, { dom: 1, ref: 8, flags: GNTMAP_host_map });
    if (m.status !== 0) throw new Error(`map: ${m.status}`);
    gt.unmapGrantRef(2, { handle: m.handle });
  };
}

function xenstoreWriteOp(): () => void {
  const engine = new XenstoreEngine();
  const conn = engine.connect({ domid: 0 });
  const enc = new TextEncoder();
  const payload = enc.encode("/local/domain/0/bench\0value-0123456789");
  let reqId = 0;
  return () => {
    engine.request(conn, { type: XsType.WRITE, reqId: ++reqId, txId: 0, payload });
  };
}

async function ringsRow(entries: BlkServiceEntries, roundMs: number, rounds: number): Promise<TraceCostRow> {
  const h = await startBlkHost(
    entries,
    {
      maxRingPageOrder: 0,
      maxQueues: 1,
      maxIndirectSegments: 0,
      persistent: true,
      maxPersistentGrants: 1024,
    },
    { sharedMemoryBytes: 256 << 20 },
  );
  const dec = new TextDecoder();
  let busRecords = 0;
  const sub = h.bus.subscribe(TRACE_SUBJECTS.eventsAll, {
    callback: (m) => {
      try {
        busRecords += (JSON.parse(dec.decode(m.data)) as { events: unknown[] }).events.length;
      } catch {
        // not ours
      }
    },
  });
  const control = (mask: number) => {
    const c: TraceControl = { mask, leaseMs: 60_000 };
    h.bus.publish(TRACE_SUBJECTS.control, new TextEncoder().encode(JSON.stringify(c)));
  };
  try {
    const g = await h.guest("trace-cost", 64);
    const devid = await h.addVbd({
      frontend: g.domid,
      vdev: "xvda",
      params: storeSpec("null", 1 << 30, 1),
    });
    const front = await g.kernel.openBlkfront(g.xs, devid, {
      config: { maxRingPageOrder: 0, maxQueues: 1, persistent: true, maxIndirectSegments: 0 },
      maxDataPagesPerRing: 256,
    });
    await front.whenConnected();
    const env: JobEnv = { nowNs: () => Number(process.hrtime.bigint()), defer: (fn) => setImmediate(fn) };
    const job = async (ms: number) =>
      runJob(
        front,
        { name: "trace-cost", rw: "randread", bs: 4096, iodepth: 32, runtimeMs: ms, rampMs: 0, seed: 1 },
        env,
      );
    await job(Math.min(300, roundMs));
    const off: number[] = [];
    const on: number[] = [];
    let ios = 0;
    let records = 0;
    for (let r = 0; r < rounds * 2; r++) {
      const listening = r % 4 === 1 || r % 4 === 2;
      const sink = localSink();
      setTracer(listening ? TRACE_ALL : 0, sink.emit);
      control(listening ? TRACE_ALL : 0);
      await h.bus.flush();
      const before = busRecords;
      const res = await job(roundMs);
      setTracer(0);
      control(0);
      await h.bus.flush();
      await new Promise((res2) => setTimeout(res2, 50)); // the last batch of blkback's records
      const iops = Math.round(res.read.iops);
      if (listening) {
        on.push(iops);
        ios += res.read.total_ios;
        records += sink.count() + (busRecords - before);
      } else off.push(iops);
    }
    await front.close();
    await h.removeVbd(g.domid, devid);
    return row("rings null path, embedded (4 KiB randread, depth 32)", off, on, ios ? records / ios : 0);
  } finally {
    sub.unsubscribe();
    await h.stop();
  }
}

export async function runTraceCostBench(options: TraceCostOptions = {}): Promise<TraceCostResult> {
  const roundMs = options.roundMs ?? 400;
  const rounds = options.rounds ?? 6;
  const log = options.log ?? (() => {});
  const line = (r: TraceCostRow) =>
    log(
      `${r.op.padEnd(52)} off ${String(r.off.ns_per_op).padStart(9)} ns/op  listening ${String(r.listening.ns_per_op).padStart(9)} ns/op  = ${r.listening_vs_off} ×  (${r.records_per_op} records/op)`,
    );
  const rows: TraceCostRow[] = [];
  for (const [name, make] of [
    ["evtchn send", evtchnSendOp],
    ["grant map+unmap", grantMapUnmapOp],
    ["xenstore write (engine)", xenstoreWriteOp],
  ] as const) {
    const r = microRow(name, make(), roundMs, rounds);
    rows.push(r);
    line(r);
  }
  if (options.entries) {
    const r = await ringsRow(options.entries, roundMs * 2, rounds);
    rows.push(r);
    line(r);
  }
  return {
    benchmark: "trace-cost",
    machine: { ...machineInfo(), cpus: cpus().length },
    round_ms: roundMs,
    rounds,
    rows,
  };
}
